import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as core from "@actions/core";
import { afterEach, describe, expect, test, vi } from "vitest";
import { ActionError } from "./errors.js";
import { getInputs, input } from "./inputs.js";
import { phase } from "./log.js";
import { assertNoSecrets, runBundled, runInProcess, withTempDir } from "./testing.js";

afterEach(() => vi.unstubAllEnvs());

const KEY = "-----BEGIN KEY-----\nAAAA1111\nBBBB2222\n-----END KEY-----";

const spec = {
  host: input.string({ required: true }),
  "private-key": input.string({ required: true, secret: true }),
  "compose-files": input.list({ default: ["docker-compose.yml"] }),
};

describe("runInProcess", () => {
  test("round-trips inputs, outputs (multi-line too), summary, log and masks", async () => {
    let seenEnv: string | undefined;
    const result = await runInProcess(
      async () => {
        seenEnv = process.env["INPUT_PRIVATE-KEY"];
        const inputs = getInputs(spec);
        await phase("Deploy", () => core.info(`deploying to ${inputs.host}`));
        core.setOutput("host", inputs.host);
        core.setOutput("files", inputs["compose-files"].join("\n"));
        core.setOutput("trailing", "x\n");
        core.setOutput("empty", "");
        core.setOutput("json", { a: 1 });
        await core.summary.addHeading("Deployed", 2).addRaw("to web-1").write();
      },
      { inputs: { host: "web-1", "private-key": KEY, "compose-files": "a.yml\n# c\nb.yml" } },
    );

    expect(seenEnv).toBe(KEY);
    expect(result.outputs).toEqual({
      host: "web-1",
      files: "a.yml\nb.yml",
      trailing: "x\n",
      empty: "",
      json: '{"a":1}',
    });
    expect(result.summary).toBe("<h2>Deployed</h2>\nto web-1");
    expect(result.log).toContain("::group::Deploy\ndeploying to web-1\n::endgroup::\n✓ Deploy (");
    expect(result.masked).toEqual([
      KEY,
      "-----BEGIN KEY-----",
      "AAAA1111",
      "BBBB2222",
      "-----END KEY-----",
    ]);
    expect(result).toMatchObject({ failed: false, exitCode: 0, annotations: [] });
    assertNoSecrets(result, [KEY]);
  });

  test("a failing action reports failure without failing the test process", async () => {
    const before = process.exitCode;
    const result = await runInProcess(
      () => {
        throw new ActionError("Could not reach web-1", { hint: "Is the host up?" });
      },
      { inputs: {} },
    );
    expect(result).toMatchObject({ failed: true, exitCode: 1 });
    expect(result.annotations).toEqual([
      { level: "error", message: "Could not reach web-1\nIs the host up?" },
    ]);
    expect(process.exitCode).toBe(before);
  });

  test("an input error from getInputs fails the step with the input named", async () => {
    const result = await runInProcess(() => getInputs(spec), { inputs: { host: "web-1" } });
    expect(result.annotations).toEqual([
      { level: "error", message: 'Input "private-key" is required' },
    ]);
  });

  test("sets only the given inputs and restores the environment afterwards", async () => {
    vi.stubEnv("INPUT_HOST", "left over from elsewhere");
    vi.stubEnv("GITHUB_OUTPUT", "/somewhere/else");
    const seen: Record<string, string | undefined> = {};
    await runInProcess(
      () => {
        seen.host = core.getInput("host");
        seen.extra = process.env.EXTRA;
        seen.output = process.env.GITHUB_OUTPUT;
        seen.runnerTemp = process.env.RUNNER_TEMP;
      },
      { inputs: { "dry run": "true" }, env: { EXTRA: "yes" } },
    );
    expect(seen.host).toBe("");
    expect(seen.extra).toBe("yes");
    expect(seen.output).not.toBe("/somewhere/else");
    expect(seen.runnerTemp).toMatch(/runner-temp$/);
    expect(process.env.INPUT_HOST).toBe("left over from elsewhere");
    expect(process.env.GITHUB_OUTPUT).toBe("/somewhere/else");
    expect(process.env.INPUT_DRY_RUN).toBeUndefined();
    expect(process.env.EXTRA).toBeUndefined();
  });

  test("each run has its own summary file", async () => {
    const write = (text: string) => () => core.summary.addRaw(text).write();
    const first = await runInProcess(write("first"));
    const second = await runInProcess(write("second"));
    expect([first.summary, second.summary]).toEqual(["first", "second"]);
  });

  test("with post, runs main then post with main's saved state, like the runner", async () => {
    const calls: string[] = [];
    const result = await runInProcess(
      () => {
        calls.push("main");
        core.saveState("key-path", "/tmp/key-123");
        throw new Error("deploy broke");
      },
      {
        post: () => {
          calls.push(`post ${core.getState("key-path")}`);
          throw new ActionError("could not delete /tmp/key-123");
        },
      },
    );
    expect(calls).toEqual(["main", "post /tmp/key-123"]);
    expect(result.state).toEqual({ isPost: "true", "key-path": "/tmp/key-123" });
    expect(result.annotations).toEqual([
      { level: "error", message: "Unexpected error: deploy broke" },
      { level: "warning", title: "Post step", message: "could not delete /tmp/key-123" },
    ]);
    expect(result.exitCode).toBe(1);
  });

  test("refuses to run two actions at once", async () => {
    let release: () => void = () => {};
    const blocker = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = runInProcess(() => blocker);
    await expect(runInProcess(() => {})).rejects.toThrow("cannot run two actions at once");
    release();
    await first;
  });
});

const SCRIPT = `
import { appendFileSync } from "node:fs";
const env = process.env;
if (env.STATE_isPost === "true") {
  console.log("post ran, saved " + env.STATE_marker);
} else {
  console.log("::add-mask::" + env["INPUT_PRIVATE-KEY"]);
  console.log("hello " + env.INPUT_NAME + " in " + process.cwd());
  console.log("leak=" + (env.SMOKER_LEAK_CHECK ?? "none") + " extra=" + env.EXTRA);
  process.stderr.write("to stderr\\n");
  appendFileSync(env.GITHUB_OUTPUT, "greeting<<EOF_1\\nhello " + env.INPUT_NAME + "\\nsecond line\\nEOF_1\\n");
  appendFileSync(env.GITHUB_OUTPUT, "plain=value\\n");
  appendFileSync(env.GITHUB_STEP_SUMMARY, "## Deployed\\n");
  appendFileSync(env.GITHUB_STATE, "isPost=true\\nmarker=m1\\n");
  if (env.INPUT_FAIL === "true") {
    console.log("::error::it broke");
    process.exitCode = 3;
  }
}
`;

describe("runBundled", () => {
  test("runs node with runner variables only and reads back what the step wrote", async () => {
    vi.stubEnv("SMOKER_LEAK_CHECK", "parent only");
    await withTempDir(
      async (dir) => {
        const result = await runBundled(join(dir, "action.mjs"), {
          inputs: { name: "web", "private-key": "s3cr3t" },
          env: { EXTRA: "given" },
          cwd: dir,
          node: process.execPath,
        });
        expect(result.outputs).toEqual({ greeting: "hello web\nsecond line", plain: "value" });
        expect(result.summary).toBe("## Deployed\n");
        expect(result.state).toEqual({ isPost: "true", marker: "m1" });
        expect(result.masked).toEqual(["s3cr3t"]);
        expect(result.log).toContain(`hello web in ${dir}\n`);
        expect(result.log).toContain("leak=none extra=given\n");
        expect(result.log).toContain("to stderr\n");
        expect(result).toMatchObject({ exitCode: 0, failed: false, annotations: [] });
      },
      { "action.mjs": SCRIPT },
    );
  });

  test("the exit code is the process's", async () => {
    await withTempDir(
      async (dir) => {
        const result = await runBundled(join(dir, "action.mjs"), {
          inputs: { fail: "true", "private-key": "k" },
        });
        expect(result).toMatchObject({ exitCode: 3, failed: true });
        expect(result.annotations).toEqual([{ level: "error", message: "it broke" }]);
      },
      { "action.mjs": SCRIPT },
    );
  });

  test("post: true runs the entry again with the saved state", async () => {
    await withTempDir(
      async (dir) => {
        const result = await runBundled(join(dir, "action.mjs"), {
          inputs: { "private-key": "k" },
          post: true,
        });
        expect(result.log).toContain("post ran, saved m1\n");
      },
      { "action.mjs": SCRIPT },
    );
  });

  test("uses $SMOKER_NODE24 when no node is given", async () => {
    vi.stubEnv("SMOKER_NODE24", "/nonexistent/node24");
    await withTempDir(
      async (dir) => {
        await expect(runBundled(join(dir, "action.mjs"))).rejects.toThrow(/ENOENT/);
      },
      { "action.mjs": SCRIPT },
    );
  });

  test("kills a step that outlives timeoutMs", async () => {
    await withTempDir(
      async (dir) => {
        await expect(
          runBundled(join(dir, "hang.mjs"), { timeoutMs: 300, node: process.execPath }),
        ).rejects.toThrow(/hang\.mjs did not finish within 300 ms\. Log so far:\nstarted/);
      },
      { "hang.mjs": 'console.log("started"); setTimeout(() => {}, 30_000);' },
    );
  });
});

describe("assertNoSecrets", () => {
  const clean = {
    log: "::add-mask::hunter2\n::add-mask::line one%0Aline two\nall good\n",
    outputs: { url: "https://example.org" },
    summary: "done",
  };

  test("passes when secrets only appear in their own add-mask commands", () => {
    expect(() => assertNoSecrets(clean, ["hunter2", "line one\nline two"])).not.toThrow();
  });

  test.each([
    [{ ...clean, log: `${clean.log}token is hunter2\n` }, "secret #1 appears in the log (line 4)"],
    [{ ...clean, outputs: { url: "https://u:hunter2@x" } }, 'secret #1 appears in output "url"'],
    [{ ...clean, summary: "key: line two" }, "secret #2 appears in the summary"],
  ])("finds a leak (%#) and says where, not what", (result, where) => {
    let message = "";
    try {
      assertNoSecrets(result, ["hunter2", "line one\nline two"]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`Secrets leaked: ${where}`);
    expect(message).not.toContain("hunter2");
  });
});

describe("withTempDir", () => {
  test("seeds files, returns fn's value and removes the directory", async () => {
    let kept = "";
    const value = await withTempDir(
      (dir) => {
        kept = dir;
        return readFileSync(join(dir, "stacks/web/compose.yml"), "utf8");
      },
      { "stacks/web/compose.yml": "services: {}\n" },
    );
    expect(value).toBe("services: {}\n");
    expect(existsSync(kept)).toBe(false);
  });

  test("removes the directory when fn throws", async () => {
    let kept = "";
    await expect(
      withTempDir((dir) => {
        kept = dir;
        throw new Error("fixture broke");
      }),
    ).rejects.toThrow("fixture broke");
    expect(kept).not.toBe("");
    expect(existsSync(kept)).toBe(false);
  });

  test("refuses fixture paths outside the directory", async () => {
    await expect(withTempDir(() => {}, { "../escape.txt": "x" })).rejects.toThrow(
      "Fixture path escapes the temp dir: ../escape.txt",
    );
  });
});
