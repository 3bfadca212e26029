import { type Remote, render } from "@smoker/remote";
import { describe, expect, test } from "vitest";
import {
  acquireLock,
  describeHolder,
  inspectCommand,
  parseLockState,
  releaseCommand,
  takeCommand,
} from "./lock.js";

describe("lock commands", () => {
  test.each([
    [
      takeCommand("/opt/app"),
      "mkdir -p -- /opt/app/.smoker && mkdir -- /opt/app/.smoker/lock && cat > /opt/app/.smoker/lock/holder.json",
    ],
    [
      takeCommand("/opt/my app/"),
      "mkdir -p -- '/opt/my app/.smoker' && mkdir -- '/opt/my app/.smoker/lock' && cat > '/opt/my app/.smoker/lock/holder.json'",
    ],
    [
      inspectCommand("/opt/app"),
      "date +%s ; stat -c %Y -- /opt/app/.smoker/lock 2> /dev/null ; cat -- /opt/app/.smoker/lock/holder.json 2> /dev/null",
    ],
    [
      releaseCommand("/opt/app", "abc123"),
      "grep -qF -- abc123 /opt/app/.smoker/lock/holder.json && rm -rf -- /opt/app/.smoker/lock",
    ],
  ])("%#: %s", (script, expected) => {
    expect(render(script)).toBe(expected);
  });
});

describe("parseLockState", () => {
  test("no lock: only the clock line", () => {
    expect(parseLockState("1700000000\n")).toEqual({
      held: false,
      holder: undefined,
      ageSeconds: 0,
    });
  });
  test("a lock with its holder and age by the host's clock", () => {
    const holder = { run: "42", actor: "octo", version: "1.2.3", token: "t" };
    const state = parseLockState(`1700000100\n1700000000\n${JSON.stringify(holder, null, 2)}\n`);
    expect(state).toEqual({ held: true, holder, ageSeconds: 100 });
    expect(describeHolder(state.holder)).toContain("run 42 by octo (version 1.2.3");
  });
  test("a lock whose holder is not written yet is still held", () => {
    const state = parseLockState("1700000001\n1700000000\n");
    expect(state.held).toBe(true);
    expect(state.holder).toBeUndefined();
    expect(describeHolder(state.holder)).toMatch(/unknown holder/);
  });
  test("clock skew never gives a negative age", () => {
    expect(parseLockState("1700000000\n1700000009\n{}").ageSeconds).toBe(0);
  });
});

describe("acquireLock races", () => {
  /** A connection whose answers are scripted in order: take, inspect, take, ... */
  function scripted(answers: { code: number; stdout?: string; stderr?: string }[]) {
    const seen: string[] = [];
    const remote = {
      where: "10.0.0.5:22",
      tryRun: async (script: Parameters<typeof render>[0]) => {
        seen.push(render(script));
        const next = answers.shift();
        if (!next) throw new Error("no more scripted answers");
        return { stdout: "", stderr: "", ...next };
      },
    };
    return { remote: remote as unknown as Remote, seen };
  }
  const options = {
    projectDir: "/opt/app",
    holder: { run: "1", actor: "a", commit: "c", version: "v", runner: "r" },
    waitMs: 5_000,
    staleAfterMs: 60_000,
    pollMs: 10,
  };

  test("a lock released between our mkdir and our look is simply taken on the next try", async () => {
    const { remote, seen } = scripted([
      { code: 1, stderr: "mkdir: cannot create directory '/opt/app/.smoker/lock': File exists" },
      { code: 0, stdout: "1700000000\n" },
      { code: 0 },
    ]);
    const lock = await acquireLock(remote, options);
    expect(lock.holder.run).toBe("1");
    expect(seen.filter((c) => c.includes("mkdir -- /opt/app/.smoker/lock"))).toHaveLength(2);
  });

  test("a directory that cannot be made at all fails with a hint", async () => {
    const { remote } = scripted([
      { code: 1, stderr: "mkdir: cannot create directory '/opt/app': Permission denied" },
      { code: 0, stdout: "1700000000\n" },
    ]);
    await expect(acquireLock(remote, options)).rejects.toThrow(
      /Could not create the deploy lock.*Permission denied/,
    );
  });
});
