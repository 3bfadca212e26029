import type { Attempt, Check, CheckReport, HealthReport } from "@smoker/health";
import { describe, expect, test } from "vitest";
import {
  attemptLogger,
  duration,
  failureHint,
  failureLines,
  REPEAT_EVERY_MS,
  summaryRows,
} from "./report.js";

const api: Check = { name: "api", url: "http://10.0.0.5:3001/health", expectStatus: [200] };
const web: Check = { name: "web", url: "http://10.0.0.5/", expectStatus: [200] };

function attempt(check: Check, number: number, elapsedMs: number, fields: Partial<Attempt> = {}) {
  return {
    check,
    number,
    elapsedMs,
    streak: 0,
    healthy: false,
    result: { ok: false, error: "connect ECONNREFUSED 10.0.0.5:3001", ms: 1 },
    ...fields,
  };
}

const pass = (streak: number, healthy = false) => ({
  streak,
  healthy,
  result: { ok: true, status: 200, ms: 2 },
});

describe("attemptLogger", () => {
  test("first failure, then one line per interval while failing, then the pass", () => {
    const lines: string[] = [];
    const debugLines: string[] = [];
    const log = attemptLogger(
      (l) => lines.push(l),
      (l) => debugLines.push(l),
    );
    log(attempt(api, 1, 5));
    log(attempt(web, 1, 6, { result: { ok: false, status: 503, error: "status 503", ms: 1 } }));
    // api fails every 500 ms for 12 s, then passes twice.
    for (let n = 2; n <= 24; n++) log(attempt(api, n, n * 500));
    log(attempt(api, 25, 12_200, pass(1)));
    log(attempt(api, 26, 12_450, pass(2, true)));

    expect(lines).toEqual([
      "… api: connect ECONNREFUSED 10.0.0.5:3001; retrying",
      "… web: status 503; retrying",
      // At least 5 s after the previous line: at 5.5 s, then 10.5 s.
      "… api: still failing after 5.5 s (11 attempts): connect ECONNREFUSED 10.0.0.5:3001",
      "… api: still failing after 10.5 s (21 attempts): connect ECONNREFUSED 10.0.0.5:3001",
      "✓ api is healthy after 12.4 s (26 attempts)",
    ]);
    expect(debugLines).toHaveLength(27);
    expect(debugLines[0]).toBe(
      "api #1 after 5 ms: fail: connect ECONNREFUSED 10.0.0.5:3001 (1 ms)",
    );
    expect(debugLines.at(-1)).toBe("api #26 after 12.4 s: pass 2 (2 ms)");
    expect(REPEAT_EVERY_MS).toBe(5_000);
  });

  test("a check healthy at once logs one line", () => {
    const lines: string[] = [];
    attemptLogger(
      (l) => lines.push(l),
      () => {},
    )(attempt(api, 1, 12, pass(1, true)));
    expect(lines).toEqual(["✓ api is healthy after 12 ms (1 attempt)"]);
  });
});

function report(checks: Array<Partial<CheckReport>>): HealthReport {
  return {
    healthy: false,
    elapsedMs: 5_000,
    checks: checks.map((c) => ({
      name: "api",
      url: "http://10.0.0.5:3001/health",
      healthy: false,
      attempts: 3,
      consecutivePasses: 0,
      ...c,
    })),
  };
}

describe("failure text", () => {
  test("names each failing check once, with its URL when the name does not say it", () => {
    const r = report([
      { lastStatus: 404, lastError: "status 404, expected 200" },
      {
        name: "10.0.0.5/",
        url: "http://10.0.0.5/",
        attempts: 1,
        lastError: "no response within 5000 ms",
      },
      { name: "ok", healthy: true, lastStatus: 200, consecutivePasses: 2, msToHealthy: 900 },
      {
        name: "flappy",
        consecutivePasses: 1,
        lastStatus: 200,
        lastError: "status 500, expected 200",
      },
    ]);
    expect(failureLines(r)).toEqual([
      "api (http://10.0.0.5:3001/health): status 404, expected 200 (3 attempts)",
      "10.0.0.5/: no response within 5000 ms (1 attempt)",
      "flappy (http://10.0.0.5:3001/health): status 500, expected 200, then only 1 pass in a row before the timeout (3 attempts)",
    ]);
  });

  test.each<[string, string, RegExp]>([
    ["refused", "connect ECONNREFUSED 10.0.0.5:3001", /^Nothing answered in time/],
    ["timeout", "no response within 5000 ms", /^Nothing answered in time/],
    ["status", "status 502, expected 200", /^A service answered, but not as its check expects/],
    ["body", 'body does not contain "ok"', /^A service answered/],
    ["json", '$.status is "starting", expected "ok"', /^A service answered/],
    ["tls", "self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)", /ca-certificate\.$/],
    ["other", "something odd", /^Raise timeout/],
  ])("hint for %s", (_, lastError, hint) => {
    expect(failureHint(report([{ lastError }]))).toMatch(hint);
  });
});

describe("summaryRows", () => {
  test("escapes what users and servers wrote, and never leaves a cell empty", () => {
    const rows = summaryRows(
      report([
        {
          name: "<img src=x onerror=alert(1)>",
          url: "http://a/?q=<b>&x=1",
          lastError: 'body does not contain "<ok>"',
          attempts: 7,
        },
        {
          name: "web",
          url: "http://w/",
          healthy: true,
          lastStatus: 200,
          msToHealthy: 3_250,
          attempts: 2,
        },
      ]),
    );
    expect(rows).toEqual([
      ["Check", "Result", "Attempts", "Last status", "Time to healthy"],
      [
        "&lt;img src=x onerror=alert(1)&gt;<br><code>http://a/?q=&lt;b&gt;&amp;x=1</code>",
        "❌ body does not contain &quot;&lt;ok&gt;&quot;",
        "7",
        "—",
        "—",
      ],
      ["web<br><code>http://w/</code>", "✅ healthy", "2", "200", "3.2 s"],
    ]);
  });
});

test.each<[number, string]>([
  [0, "0 ms"],
  [999, "999 ms"],
  [1_000, "1.0 s"],
  [3_250, "3.2 s"],
  [59_999, "59.9 s"],
  [60_000, "1m 00s"],
  [125_000, "2m 05s"],
])("duration(%i) = %s", (ms, text) => {
  expect(duration(ms)).toBe(text);
});
