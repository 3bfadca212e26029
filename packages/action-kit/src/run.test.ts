import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ActionError, InputError } from "./errors.js";
import { captureOutput } from "./internal/capture.js";
import { parseCommands } from "./internal/commands.js";
import { phase } from "./log.js";
import { run, type StepFunction } from "./run.js";
import { runInProcess } from "./testing.js";

async function runCaptured(main: StepFunction, post?: StepFunction) {
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    const { text } = await captureOutput(() => run(main, post));
    return { text, exitCode: process.exitCode, ...parseCommands(text) };
  } finally {
    process.exitCode = before;
  }
}

beforeEach(() => {
  // Without state/output files @actions/core falls back to stdout commands we can read.
  vi.stubEnv("GITHUB_STATE", "");
  vi.stubEnv("GITHUB_OUTPUT", "");
  vi.stubEnv("STATE_isPost", "");
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("run: main step", () => {
  test("a successful main leaves no annotation and no exit code", async () => {
    const result = await runCaptured(() => {});
    expect(result.annotations).toEqual([]);
    expect(result.exitCode).toBeUndefined();
  });

  test.each<[string, () => unknown, string]>([
    [
      "ActionError with cause and hint",
      () => {
        throw new ActionError("Could not reach db:5432", {
          cause: new Error("connect ECONNREFUSED"),
          hint: "Check that the database container is running.",
        });
      },
      "Could not reach db:5432: connect ECONNREFUSED\nCheck that the database container is running.",
    ],
    [
      "InputError",
      () => {
        throw new InputError("version", "must match ^[0-9]+$", { value: "1;id" });
      },
      'Input "version" must match ^[0-9]+$ (got "1;id")',
    ],
    [
      "plain Error",
      () => {
        throw new TypeError("x is not a function");
      },
      "Unexpected error: x is not a function",
    ],
    [
      "thrown string",
      () => {
        throw "oops";
      },
      "Unexpected error (a non-Error value was thrown): oops",
    ],
    [
      "thrown object",
      () => {
        throw { code: 7 };
      },
      'Unexpected error (a non-Error value was thrown): {"code":7}',
    ],
    [
      "thrown undefined",
      () => {
        throw undefined;
      },
      "Unexpected error (a non-Error value was thrown): undefined",
    ],
    [
      "rejected promise inside a phase",
      () => phase("Pull images", async () => Promise.reject(new Error("pull access denied"))),
      "Pull images failed: pull access denied",
    ],
    [
      "nested phases name the innermost",
      () => phase("Deploy", () => phase("Health check", () => Promise.reject(new Error("503")))),
      "Health check failed: 503",
    ],
    [
      "a wrapper repeating its cause says it once",
      () => {
        const cause = new Error("permission denied");
        throw new ActionError(`Upload failed: ${cause.message}`, { cause });
      },
      "Upload failed: permission denied",
    ],
    [
      "a hint deep in the cause chain",
      () => {
        throw new Error("compose up failed", {
          cause: new ActionError("port 80 in use", { hint: "Stop the other proxy." }),
        });
      },
      "Unexpected error: compose up failed: port 80 in use\nStop the other proxy.",
    ],
  ])("%s ends in one error annotation", async (_, main, message) => {
    const result = await runCaptured(main);
    expect(result.annotations).toEqual([{ level: "error", message }]);
    expect(result.exitCode).toBe(1);
  });

  test("stack traces go to the debug log, not the annotation", async () => {
    const result = await runCaptured(() => {
      throw new ActionError("outer", { cause: new Error("inner") });
    });
    const debugLines = result.text.split("\n").filter((line) => line.startsWith("::debug::"));
    expect(debugLines).toHaveLength(2);
    expect(debugLines[0]).toMatch(/^::debug::ActionError: outer%0A {4}at /);
    expect(debugLines[1]).toMatch(/^::debug::Error: inner%0A {4}at /);
    expect(result.annotations[0]?.message).not.toContain(" at ");
  });

  test("returns a promise and never calls process.exit", async () => {
    const exit = vi.spyOn(process, "exit").mockImplementation(() => undefined as never);
    const result = await runCaptured(() => Promise.reject(new Error("x")));
    expect(exit).not.toHaveBeenCalled();
    expect(result.exitCode).toBe(1);
  });
});

describe("run: post step", () => {
  test("with a post function, main saves isPost first and post does not run", async () => {
    const calls: string[] = [];
    const result = await runCaptured(
      () => {
        calls.push("main");
        throw new Error("main broke");
      },
      () => {
        calls.push("post");
      },
    );
    expect(calls).toEqual(["main"]);
    // Saved before main ran, so the runner still starts the post step after a failure.
    expect(result.text.indexOf("::save-state name=isPost::true")).toBeGreaterThanOrEqual(0);
    expect(result.text.indexOf("::save-state")).toBeLessThan(result.text.indexOf("::error::"));
  });

  test("STATE_isPost=true routes to post", async () => {
    vi.stubEnv("STATE_isPost", "true");
    const calls: string[] = [];
    const result = await runCaptured(
      () => {
        calls.push("main");
      },
      () => {
        calls.push("post");
      },
    );
    expect(calls).toEqual(["post"]);
    expect(result.text).not.toContain("::save-state");
  });

  test("without a post function, STATE_isPost is ignored and main runs", async () => {
    vi.stubEnv("STATE_isPost", "true");
    const calls: string[] = [];
    await runCaptured(() => {
      calls.push("main");
    });
    expect(calls).toEqual(["main"]);
  });

  test("a failing post step warns and does not fail the step", async () => {
    vi.stubEnv("STATE_isPost", "true");
    const result = await runCaptured(
      () => {},
      () =>
        phase("Remove deploy key", () => {
          throw new ActionError("could not delete /tmp/key", { hint: "Delete it by hand." });
        }),
    );
    expect(result.annotations).toEqual([
      {
        level: "warning",
        title: "Post step",
        message: "Remove deploy key failed: could not delete /tmp/key\nDelete it by hand.",
      },
    ]);
    expect(result.exitCode).toBeUndefined();
  });
});

describe("errors from other packages", () => {
  test("an Error with a hint field is described, not called unexpected, and its hint is printed", async () => {
    class RemoteLike extends Error {
      readonly hint = "Is sshd running on the host?";
    }
    const result = await runInProcess(async () => {
      throw new RemoteLike("SSH to 10.0.0.5:22 was refused");
    });
    expect(result.failed).toBe(true);
    expect(result.log).toContain(
      "::error::SSH to 10.0.0.5:22 was refused%0AIs sshd running on the host?",
    );
    expect(result.log).not.toContain("Unexpected error");
  });
});
