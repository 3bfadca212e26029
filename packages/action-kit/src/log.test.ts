import { beforeEach, describe, expect, test } from "vitest";
import { captureOutput } from "./internal/capture.js";
import { debug, formatDuration, info, phase, resetTimings, timings, warn } from "./log.js";

// Durations vary; compare the log with them replaced.
function normalise(text: string): string[] {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => line.replace(/\(\d+ ms\)|after \d+ ms/, (found) => found.replace(/\d+/, "N")));
}

beforeEach(() => resetTimings());

describe("phase", () => {
  test("groups the work and prints one result line after the group", async () => {
    const { value, text } = await captureOutput(() =>
      phase("Pull images", async () => {
        info("pulling web");
        return 42;
      }),
    );
    expect(value).toBe(42);
    expect(normalise(text)).toEqual([
      "::group::Pull images",
      "pulling web",
      "::endgroup::",
      "✓ Pull images (N ms)",
    ]);
  });

  test("a failure is rethrown unchanged after a ✗ line", async () => {
    const boom = new Error("boom");
    const { value, text } = await captureOutput(() =>
      phase("Start stack", () => {
        throw boom;
      }).catch((error: unknown) => error),
    );
    expect(value).toBe(boom);
    expect(normalise(text)).toEqual([
      "::group::Start stack",
      "::endgroup::",
      "✗ Start stack failed after N ms",
    ]);
  });

  test("a phase inside a phase runs inline: the runner cannot nest groups", async () => {
    const { text } = await captureOutput(() => phase("Deploy", () => phase("Pull", () => "ok")));
    expect(normalise(text)).toEqual([
      "::group::Deploy",
      "✓ Pull (N ms)",
      "::endgroup::",
      "✓ Deploy (N ms)",
    ]);
  });

  test("timings lists finished phases in start order with their outcome", async () => {
    await captureOutput(async () => {
      await phase("Connect", () => {});
      await phase("Deploy", () => phase("Pull", () => {}));
      await phase("Verify", () => Promise.reject(new Error("x"))).catch(() => {});
    });
    const list = timings();
    expect(list.map(({ name, ok, depth }) => ({ name, ok, depth }))).toEqual([
      { name: "Connect", ok: true, depth: 0 },
      { name: "Deploy", ok: true, depth: 0 },
      { name: "Pull", ok: true, depth: 1 },
      { name: "Verify", ok: false, depth: 0 },
    ]);
    for (const entry of list) {
      expect(entry.endMs).toBeGreaterThanOrEqual(entry.startMs);
      expect(entry.durationMs).toBe(entry.endMs - entry.startMs);
    }
    expect(list[1]!.startMs).toBeGreaterThanOrEqual(list[0]!.endMs);
    resetTimings();
    expect(timings()).toEqual([]);
  });
});

test.each([
  [0, "0 ms"],
  [999, "999 ms"],
  [1000, "1.0 s"],
  [4240, "4.2 s"],
  [59_999, "59.9 s"],
  [60_000, "1m 00s"],
  [125_000, "2m 05s"],
])("formatDuration(%d) = %s", (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});

test("info, warn and debug write plain text, a warning and a debug command", async () => {
  const { text } = await captureOutput(async () => {
    info("hello");
    warn("careful");
    debug("details");
  });
  expect(text.split("\n")).toEqual(["hello", "::warning::careful", "::debug::details", ""]);
});
