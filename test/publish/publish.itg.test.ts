// The trees that release.yml pushes to smoker/<name> must work on their own, as a runner uses
// them after `uses: smoker/<name>@v1`: it checks the repository out into a folder of its own and
// runs `node24 <folder>/<runs.main>`. So each tree is copied to a fresh temporary folder (no
// node_modules anywhere above it), run under node 24 with no inputs, and must fail the way a
// user can act on: exit 1 and one ::error:: naming a missing input, not a crash.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { runBundled } from "@smoker/action-kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { actionNames, nodeModulesAbove, publish, ROOT, type Run } from "./support.js";

const NODE = process.env.SMOKER_NODE24 ?? "node";
const actions = actionNames();

interface ActionYml {
  inputs?: Record<string, { required?: boolean | string; default?: string }>;
  runs: { using: string; main: string; pre?: string; post?: string };
}

let out: string;
let assembled: Run;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "smoker-publish-"));
  assembled = publish("--out", out);
});

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

describe("publish:prepare", () => {
  it("assembles every action that has an action.yml", () => {
    expect(actions.length).toBeGreaterThan(0);
    expect(assembled.status, `publish.mjs failed:\n${assembled.stderr}`).toBe(0);
    expect(assembled.stdout).toContain(`${actions.length} action(s) assembled`);
  });

  it(`runs the trees under node 24 (${NODE})`, () => {
    const version = spawnSync(NODE, ["--version"], { encoding: "utf8" });
    expect(
      version.stdout.trim(),
      "GitHub runs `using: node24` actions with node 24: set SMOKER_NODE24=$(bash .ci/node24)",
    ).toMatch(/^v24\./);
  });
});

describe.each(actions)("smoker/%s", (name) => {
  let tree: string;
  let action: ActionYml;
  let runner: string;

  beforeAll(() => {
    tree = join(out, name);
    if (!existsSync(join(tree, "action.yml"))) {
      const why = assembled.stderr
        .split("\n")
        .filter((line) => line.includes(`${name}:`))
        .join("\n");
      throw new Error(`publish/${name} was not assembled: ${why || assembled.stderr}`);
    }
    action = parse(readFileSync(join(tree, "action.yml"), "utf8")) as ActionYml;
    // Where the runner puts the action: a folder of its own, outside any repository.
    runner = mkdtempSync(join(tmpdir(), `smoker-runner-${name}-`));
    cpSync(tree, join(runner, "action"), { recursive: true });
  });

  afterAll(() => {
    if (runner) rmSync(runner, { recursive: true, force: true });
  });

  it("has the files a published action needs, and runs.* points at them", () => {
    expect(action.runs.using).toBe("node24");
    expect(action.runs.main).toBe("index.js");
    for (const hook of ["pre", "main", "post"] as const) {
      const file = action.runs[hook];
      if (file === undefined) continue;
      expect(file, `runs.${hook} must be relative to the tree`).not.toMatch(/^\/|\.\./);
      expect(existsSync(join(runner, "action", file)), `runs.${hook}: ${file}`).toBe(true);
    }
    for (const file of ["README.md", "LICENSE", "licenses.txt", "index.js.map", "package.json"]) {
      expect(existsSync(join(runner, "action", file)), file).toBe(true);
    }
    expect(readFileSync(join(runner, "action/LICENSE"), "utf8")).toBe(
      readFileSync(join(ROOT, "LICENSE"), "utf8"),
    );
    // The bundle is ESM; without this package.json node 24 would read index.js as CommonJS.
    expect(JSON.parse(readFileSync(join(runner, "action/package.json"), "utf8")).type).toBe(
      "module",
    );
  });

  it("starts from a folder with no node_modules above it and fails cleanly without inputs", async () => {
    const home = homedir();
    expect(nodeModulesAbove(runner)).toEqual([]);
    expect(
      existsSync(join(home, ".node_modules")) || existsSync(join(home, ".node_libraries")),
    ).toBe(false);

    const workspace = join(runner, "workspace");
    mkdirSync(workspace);
    const result = await runBundled(join(runner, "action", action.runs.main), {
      node: NODE,
      cwd: workspace,
      env: { GITHUB_WORKSPACE: workspace, GITHUB_ACTION_PATH: join(runner, "action") },
      timeoutMs: 30_000,
    });

    expect(result.log).not.toMatch(/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/);
    expect(result.log, "no stack trace").not.toMatch(/^\s+at .+(:\d+:\d+\)?|<anonymous>\)?)$/m);
    expect(result.log).not.toMatch(/SyntaxError|ReferenceError|TypeError/);
    expect(result.exitCode, result.log).toBe(1);

    const errors = result.annotations.filter((a) => a.level === "error");
    expect(errors, result.log).toHaveLength(1);
    const message = errors[0]!.message;
    expect(message).toMatch(/required/);
    const named = /Input "([^"]+)"/.exec(message)?.[1];
    const inputs = Object.keys(action.inputs ?? {});
    const required = inputs.filter((i) => String(action.inputs?.[i]?.required) === "true");
    expect(inputs, `the error names an input of action.yml: ${message}`).toContain(named);
    if (required.length > 0) expect(required).toContain(named);
  });
});
