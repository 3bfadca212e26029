import { render } from "@smoker/remote";
import { describe, expect, test } from "vitest";
import {
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
