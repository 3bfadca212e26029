// The workflow checks, end to end: every real workflow and action.yml passes actionlint, the
// schema, shellcheck and our policy; every deliberately bad fixture fails with the rule it breaks
// (and only that one, so a fixture cannot pass by tripping some other check).
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFiles, defaultFiles, REPO_ROOT } from "./check.js";
import { checkPolicy, parse } from "./policy.js";

const FIXTURES = "test/workflows/fixtures";

describe("the repository's workflows and actions", () => {
  const files = defaultFiles();

  it("are all checked: every workflow, every action.yml, the reusable workflows among them", () => {
    const workflows = readdirSync(join(REPO_ROOT, ".github/workflows"))
      .filter((name) => /\.ya?ml$/.test(name))
      .map((name) => `.github/workflows/${name}`);
    for (const workflow of workflows) expect(files).toContain(workflow);
    for (const name of ["deploy-stack.yml", "nightly-dev.yml", "prod-release.yml", "ci.yml"]) {
      expect(files).toContain(`.github/workflows/${name}`);
    }
    expect(files).toContain("actions/deploy-compose/action.yml");
    expect(files).toContain("actions/health-gate/action.yml");
  });

  it.each(files)("%s passes actionlint, the schema, shellcheck and the policy", async (file) => {
    const findings = await checkFiles([file]);
    expect(findings.map((f) => `${f.file}:${f.line} [${f.rule}] ${f.message}`)).toEqual([]);
  });
});

describe("each bad fixture fails with the rule it breaks", () => {
  it.each([
    ["expression-in-run.yml", "expression-in-run", 14],
    ["top-level-permissions.yml", "top-level-permissions", 1],
    ["job-permissions.yml", "job-permissions", 6],
    ["unpinned-uses.yml", "unpinned-uses", 10],
    ["tag-pinned-uses.yml", "tag-pinned-uses", 10],
    ["uses-version-comment.yml", "uses-version-comment", 10],
    ["secrets-inherit.yml", "secrets-inherit", 18],
    ["persist-credentials.yml", "persist-credentials", 11],
    ["pull-request-target.yml", "pull-request-target", 4],
    ["local-reference.yml", "local-reference", 13],
    ["shellcheck-error.yml", "shellcheck:SC2045", 11],
    ["actionlint-error.yml", "actionlint:expression", 11],
    ["schema-error/action.yml", "schema", 5],
  ])("%s -> %s at line %i", async (fixture, rule, line) => {
    const findings = await checkFiles([join(FIXTURES, fixture)]);
    expect(new Set(findings.map((f) => f.rule))).toEqual(new Set([rule]));
    expect(findings.map((f) => f.line)).toContain(line);
    expect(findings.every((f) => f.file === join(FIXTURES, fixture))).toBe(true);
  });

  it("has a fixture for every fixture file (none left untested)", () => {
    const listed = readdirSync(join(REPO_ROOT, FIXTURES), { recursive: true, encoding: "utf8" })
      .filter((name) => /\.ya?ml$/.test(name))
      .sort();
    expect(listed).toEqual(
      [
        "actionlint-error.yml",
        "expression-in-run.yml",
        "job-permissions.yml",
        "local-reference.yml",
        "persist-credentials.yml",
        "pull-request-target.yml",
        "schema-error/action.yml",
        "secrets-inherit.yml",
        "shellcheck-error.yml",
        "tag-pinned-uses.yml",
        "top-level-permissions.yml",
        "unpinned-uses.yml",
        "uses-version-comment.yml",
      ].sort(),
    );
  });
});

describe("the real workflows, broken on purpose", () => {
  const deployStack = readFileSync(join(REPO_ROOT, ".github/workflows/deploy-stack.yml"), "utf8");
  const rulesOf = (source: string) =>
    checkPolicy(parse(".github/workflows/deploy-stack.yml", source)).map((f) => f.rule);

  it("is caught when deploy-stack pastes an input into a script", () => {
    const broken = deployStack.replace(
      'echo "::error title=deploy-stack::pass',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: workflow expressions are the subject
      'echo "${{ inputs.host }}::error title=deploy-stack::pass',
    );
    expect(broken).not.toBe(deployStack);
    expect(rulesOf(broken)).toEqual(["expression-in-run"]);
  });

  it("is caught when deploy-stack's checkout keeps the token or the tailnet action follows a tag", () => {
    const broken = deployStack
      .replace("persist-credentials: false", "persist-credentials: true")
      .replace(
        "tailscale/github-action@3a217367cadc62d7600a77470ffe542e2313e6b9 # v4.0.3",
        "tailscale/github-action@v4",
      );
    expect(rulesOf(broken).sort()).toEqual(["persist-credentials", "tag-pinned-uses"]);
  });
});

describe("the command", () => {
  const tsx = join(REPO_ROOT, "node_modules/.bin/tsx");
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string }>((ok) => {
      execFile(tsx, ["test/workflows/check.ts", ...args], { cwd: REPO_ROOT }, (error, stdout) =>
        ok({ code: error ? Number((error as { code?: unknown }).code) : 0, stdout }),
      );
    });

  it("exits 1 and names file, line and rule for a bad file; 0 for a good one", async () => {
    const bad = await run([join(FIXTURES, "secrets-inherit.yml"), ".github/workflows/ci.yml"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`${FIXTURES}/secrets-inherit.yml:18 [secrets-inherit]`);
    expect(bad.stdout).not.toContain("ci.yml:");
    const good = await run([".github/workflows/ci.yml", "actions/health-gate/action.yml"]);
    expect(good).toEqual({
      code: 0,
      stdout: "check-workflows: 2 file(s) pass actionlint, the schema, shellcheck and the policy\n",
    });
  });
});
