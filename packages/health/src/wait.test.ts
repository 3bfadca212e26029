import { afterEach, describe, expect, test } from "vitest";
import type { Check } from "./checks.js";
import { closedPort, type Script, startServer, type TestServer } from "./testing.js";
import { type Attempt, waitUntilHealthy } from "./wait.js";

const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serving(
  script: Script,
  name = "svc",
): Promise<{ server: TestServer; check: Check }> {
  const server = await startServer(script);
  servers.push(server);
  return { server, check: { name, url: `${server.origin}/health`, expectStatus: [200] } };
}

const FAST = { intervalMs: 10, maxIntervalMs: 40 } as const;
const pass = () => ({ body: "ok" });
const failFirst = (n: number) => (i: number) => (i <= n ? { status: 503 } : { body: "ok" });

describe("waitUntilHealthy", () => {
  test("healthy after some failures, once it passes twice in a row", async () => {
    const { server, check } = await serving(failFirst(3));
    const attempts: Attempt[] = [];
    const report = await waitUntilHealthy([check], {
      ...FAST,
      timeoutMs: 5_000,
      onAttempt: (a) => attempts.push(a),
    });

    expect(report).toEqual({
      healthy: true,
      timeToHealthyMs: report.checks[0]!.msToHealthy,
      elapsedMs: expect.any(Number),
      checks: [
        {
          name: "svc",
          url: check.url,
          healthy: true,
          attempts: 5,
          lastStatus: 200,
          consecutivePasses: 2,
          msToHealthy: expect.any(Number),
        },
      ],
    });
    expect(attempts.map((a) => [a.number, a.result.status, a.streak, a.healthy])).toEqual([
      [1, 503, 0, false],
      [2, 503, 0, false],
      [3, 503, 0, false],
      [4, 200, 1, false],
      [5, 200, 2, true],
    ]);
    // Nothing more once healthy.
    expect(server.count).toBe(5);
  });

  test.each([1, 3])("successThreshold %i", async (successThreshold) => {
    const { server, check } = await serving(pass);
    const report = await waitUntilHealthy([check], { ...FAST, timeoutMs: 5_000, successThreshold });
    expect(report.healthy).toBe(true);
    expect(report.checks[0]!.attempts).toBe(successThreshold);
    expect(server.count).toBe(successThreshold);
  });

  test("never healthy (connection refused): ends at the timeout, with the last error", async () => {
    const port = await closedPort();
    const check: Check = { name: "gone", url: `http://127.0.0.1:${port}/`, expectStatus: [200] };
    const started = performance.now();
    const report = await waitUntilHealthy([check], { ...FAST, timeoutMs: 300 });
    const took = performance.now() - started;

    expect(report.healthy).toBe(false);
    expect(report.timeToHealthyMs).toBeUndefined();
    expect(report.checks[0]).toEqual({
      name: "gone",
      url: check.url,
      healthy: false,
      attempts: expect.any(Number),
      lastError: `connect ECONNREFUSED 127.0.0.1:${port}`,
      consecutivePasses: 0,
    });
    expect(took).toBeGreaterThanOrEqual(295);
    expect(took).toBeLessThan(1_500);
    // Backed off: 10, 20, 40, 40, ... ms between requests, so about 10 in 300 ms, not 30.
    expect(report.checks[0]!.attempts).toBeGreaterThanOrEqual(4);
    expect(report.checks[0]!.attempts).toBeLessThanOrEqual(14);
  });

  test("404 is a failure, reported with its status", async () => {
    const { check } = await serving(() => ({ status: 404, body: "not found" }));
    const report = await waitUntilHealthy([check], { ...FAST, timeoutMs: 200 });
    expect(report.healthy).toBe(false);
    expect(report.checks[0]).toMatchObject({
      healthy: false,
      lastStatus: 404,
      lastError: "status 404, expected 200",
    });
  });

  test("a server that never answers: no request outlives the timeout", async () => {
    const { check } = await serving(() => "hang");
    const started = performance.now();
    const report = await waitUntilHealthy([check], { ...FAST, timeoutMs: 300 });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(report.checks[0]).toMatchObject({ healthy: false, attempts: 1 });
    expect(report.checks[0]!.lastError).toMatch(/^no response within \d+ ms$/);
  });

  test("alternating pass/fail never reaches a threshold of 2", async () => {
    const { check } = await serving((n) => (n % 2 === 1 ? { body: "ok" } : { status: 500 }));
    const streaks: number[] = [];
    const report = await waitUntilHealthy([check], {
      ...FAST,
      timeoutMs: 400,
      onAttempt: (a) => streaks.push(a.streak),
    });
    expect(report.healthy).toBe(false);
    expect(streaks.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...streaks)).toBe(1);
    // Whichever came last, the report keeps why it failed.
    expect(report.checks[0]!.lastError).toBe("status 500, expected 200");
  });

  test("alternating, then steady: healthy once two passes follow each other", async () => {
    const { server, check } = await serving((n) =>
      n <= 8 && n % 2 === 0 ? { status: 500 } : { body: "ok" },
    );
    const report = await waitUntilHealthy([check], { ...FAST, timeoutMs: 5_000 });
    // Pass, fail, pass, fail, pass, fail, pass, fail, then passes 9 and 10.
    expect(report.checks[0]).toMatchObject({ healthy: true, attempts: 10 });
    expect(server.count).toBe(10);
  });

  test("checks run in parallel; the gate is as slow as its slowest check", async () => {
    const quick = await serving(pass, "quick");
    const slow = await serving(failFirst(4), "slow");
    const report = await waitUntilHealthy([quick.check, slow.check], { ...FAST, timeoutMs: 5_000 });
    expect(report.healthy).toBe(true);
    const [q, s] = report.checks;
    expect(q).toMatchObject({ name: "quick", healthy: true, attempts: 2 });
    expect(s).toMatchObject({ name: "slow", healthy: true, attempts: 6 });
    expect(q!.msToHealthy!).toBeLessThan(s!.msToHealthy!);
    expect(report.timeToHealthyMs).toBe(s!.msToHealthy);
  });

  test("one failing check fails the whole; the healthy one stops being polled", async () => {
    const good = await serving(pass, "good");
    const bad = await serving(() => ({ status: 503 }), "bad");
    const report = await waitUntilHealthy([good.check, bad.check], { ...FAST, timeoutMs: 1_000 });
    expect(report.healthy).toBe(false);
    expect(report.checks.map((c) => [c.name, c.healthy])).toEqual([
      ["good", true],
      ["bad", false],
    ]);
    expect(good.server.count).toBe(2);
    expect(report.checks[1]).toMatchObject({
      lastStatus: 503,
      lastError: "status 503, expected 200",
    });
  });

  test("waits after failures double up to the cap; after a pass, one interval", async () => {
    const { server, check } = await serving((n) => (n <= 5 || n === 7 ? { status: 503 } : pass()));
    await waitUntilHealthy([check], { intervalMs: 40, maxIntervalMs: 100, timeoutMs: 5_000 });
    // Requests 1-5 fail, 6 passes, 7 fails, 8 and 9 pass.
    const gaps = server.times.slice(1).map((t, i) => t - server.times[i]!);
    const expected = [40, 80, 100, 100, 100, 40, 40, 40];
    expect(gaps).toHaveLength(expected.length);
    gaps.forEach((gap, i) => {
      // ±10 % jitter; timers only ever run late, so the upper bound gets some slack (still
      // under the 320 and 640 ms that an uncapped backoff would wait at requests 4 and 5).
      expect(gap).toBeGreaterThanOrEqual(expected[i]! * 0.9 - 2);
      expect(gap).toBeLessThan(expected[i]! * 1.1 + 100);
    });
  });

  test("many checks at once: no listener-leak warning from Node", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on("warning", onWarning);
    try {
      const checks: Check[] = [];
      for (let i = 0; i < 30; i++) {
        checks.push({ ...(await serving(failFirst(2), `c${i}`)).check });
      }
      const outer = new AbortController();
      const report = await waitUntilHealthy(checks, {
        ...FAST,
        timeoutMs: 5_000,
        signal: outer.signal,
      });
      expect(report.healthy).toBe(true);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).toEqual([]);
  });

  test("an abort signal ends the wait early with what was seen", async () => {
    const { check } = await serving(() => ({ status: 503 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    const report = await waitUntilHealthy([check], {
      ...FAST,
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(report.healthy).toBe(false);
    expect(report.checks[0]!.attempts).toBeGreaterThan(0);
  });

  test("a wake event ends a check's back-off wait: it asks again at once", async () => {
    const { server, check } = await serving(failFirst(1));
    const wake = new EventTarget();
    const waiting = waitUntilHealthy([check], {
      // Without the wake, the wait after the first failure outlasts the timeout.
      intervalMs: 60_000,
      timeoutMs: 3_000,
      successThreshold: 1,
      wake,
      onAttempt: (a) => {
        if (a.number === 1) setTimeout(() => wake.dispatchEvent(new Event("wake")), 50);
      },
    });
    const report = await waiting;
    expect(report.healthy).toBe(true);
    expect(report.checks[0]!.attempts).toBe(2);
    expect(server.count).toBe(2);
  });

  test("an onAttempt that throws stops every check and is rethrown", async () => {
    const a = await serving(() => ({ status: 503 }), "a");
    const b = await serving(() => ({ status: 503 }), "b");
    const boom = new Error("boom");
    await expect(
      waitUntilHealthy([a.check, b.check], {
        ...FAST,
        timeoutMs: 10_000,
        onAttempt: (attempt) => {
          if (attempt.check.name === "a" && attempt.number === 2) throw boom;
        },
      }),
    ).rejects.toBe(boom);
    // A request already on the wire when the checks stopped may still land; nothing after it.
    const pause = () => new Promise((resolve) => setTimeout(resolve, 100));
    await pause();
    const seen = b.server.count;
    await pause();
    expect(b.server.count).toBe(seen);
  });

  test.each<[string, object, RegExp]>([
    ["no checks", { timeoutMs: 1 }, /at least one check/],
    ["a negative timeout", { timeoutMs: -1 }, /timeoutMs must be 0 or more/],
    ["a zero interval", { timeoutMs: 1, intervalMs: 0 }, /intervalMs must be at least 1/],
    ["a fractional threshold", { timeoutMs: 1, successThreshold: 1.5 }, /successThreshold/],
    ["a zero threshold", { timeoutMs: 1, successThreshold: 0 }, /successThreshold/],
  ])("rejects %s before any request", async (what, options, message) => {
    const { server, check } = await serving(pass);
    const checks = what === "no checks" ? [] : [check];
    await expect(
      waitUntilHealthy(checks, options as Parameters<typeof waitUntilHealthy>[1]),
    ).rejects.toThrow(message);
    expect(server.count).toBe(0);
  });
});
