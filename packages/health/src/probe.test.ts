import { afterEach, describe, expect, test } from "vitest";
import type { Check } from "./checks.js";
import { BODY_LIMIT_BYTES, describeError, type ProbeResult, probe } from "./probe.js";
import { closedPort, type Script, startServer, type TestServer } from "./testing.js";

let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serveAndProbe(script: Script, fields: Partial<Check> = {}): Promise<ProbeResult> {
  server = await startServer(script);
  const check: Check = {
    name: "t",
    url: `${server.origin}/health`,
    expectStatus: [200],
    ...fields,
  };
  return probe(check, { timeoutMs: 2_000 });
}

const json = (value: unknown) => () => ({
  body: JSON.stringify(value),
  headers: { "content-type": "application/json" },
});

describe("probe: status", () => {
  test.each<[string, Script, Partial<Check>, Omit<ProbeResult, "ms">]>([
    ["200 passes", () => ({ body: "ok" }), {}, { ok: true, status: 200 }],
    [
      "404 fails, saying what was expected",
      () => ({ status: 404 }),
      {},
      { ok: false, status: 404, error: "status 404, expected 200" },
    ],
    [
      "a listed status passes",
      () => ({ status: 204 }),
      { expectStatus: [200, 204] },
      { ok: true, status: 204 },
    ],
    [
      "a redirect is not followed: it is a status like any other",
      () => ({ status: 302, headers: { location: "/elsewhere" } }),
      {},
      { ok: false, status: 302, error: "status 302, expected 200" },
    ],
    [
      "a redirect passes when expected",
      () => ({ status: 301, headers: { location: "/elsewhere" } }),
      { expectStatus: [301] },
      { ok: true, status: 301 },
    ],
  ])("%s", async (_, script, fields, expected) => {
    const result = await serveAndProbe(script, fields);
    expect(result).toEqual({ ...expected, ms: expect.any(Number) });
    // Exactly one request: nothing retried, no redirect followed.
    expect(server?.count).toBe(1);
  });
});

describe("probe: body", () => {
  test.each<[string, Script, Partial<Check>, string | undefined]>([
    ["contains: found", () => ({ body: "status: ready" }), { contains: "ready" }, undefined],
    [
      "contains: missing",
      () => ({ body: "status: starting" }),
      { contains: "ready" },
      'body does not contain "ready"',
    ],
    [
      "contains is checked only after the status",
      () => ({ status: 500, body: "ready" }),
      { contains: "ready" },
      "status 500, expected 200",
    ],
    [
      "json-path: equal",
      json({ data: { items: [{ ok: true }] } }),
      { jsonPath: "data.items[0].ok", equals: true },
      undefined,
    ],
    [
      "json-path: a string",
      json({ status: "starting" }),
      { jsonPath: "$.status", equals: "ok" },
      '$.status is "starting", expected "ok"',
    ],
    [
      "json-path: types must match too",
      json({ code: 200 }),
      { jsonPath: "$.code", equals: "200" },
      '$.code is 200, expected "200"',
    ],
    ["json-path: null", json({ error: null }), { jsonPath: "$.error", equals: null }, undefined],
    [
      "json-path: an object is never a scalar",
      json({ db: { up: true } }),
      { jsonPath: "$.db", equals: true },
      "$.db is an object, expected true",
    ],
    [
      "json-path: missing",
      json({ data: {} }),
      { jsonPath: "$.data.items[0]", equals: 1 },
      '$.data.items[0] not found: no key "items" in an object at $.data',
    ],
    [
      "json-path: not JSON",
      () => ({ body: "<html>oops</html>" }),
      { jsonPath: "$.ok", equals: true },
      'body is not JSON (starts "<html>oops</html>")',
    ],
    [
      "json-path: a bad path in a hand-made check fails the probe, never throws",
      json({}),
      { jsonPath: "$..x", equals: 1 },
      'json-path cannot read "$..x" at character 2: use $, .name and [n] steps only (like $.status or data.items[0].ok)',
    ],
  ])("%s", async (_, script, fields, error) => {
    const result = await serveAndProbe(script, fields);
    expect(result.error).toBe(error);
    expect(result.ok).toBe(error === undefined);
  });

  test("reads at most 64 KiB of a body", async () => {
    const big = `${"x".repeat(BODY_LIMIT_BYTES)}ready`;
    const tail = await serveAndProbe(() => ({ body: big }), { contains: "ready" });
    expect(tail.error).toBe('body does not contain "ready" (in its first 64 KiB)');
    await server?.close();

    const head = await serveAndProbe(() => ({ body: `ready${big}` }), { contains: "ready" });
    expect(head).toMatchObject({ ok: true, status: 200 });
    await server?.close();

    const asJson = await serveAndProbe(() => ({ body: JSON.stringify({ pad: big, ok: true }) }), {
      jsonPath: "$.ok",
      equals: true,
    });
    expect(asJson.error).toBe("body is over 64 KiB, too long to read as JSON");
  });
});

describe("probe: no response", () => {
  test("connection refused", async () => {
    const port = await closedPort();
    const check: Check = { name: "t", url: `http://127.0.0.1:${port}/`, expectStatus: [200] };
    const result = await probe(check, { timeoutMs: 2_000 });
    expect(result).toEqual({
      ok: false,
      error: `connect ECONNREFUSED 127.0.0.1:${port}`,
      ms: expect.any(Number),
    });
  });

  test("a server that never answers: fails at the request timeout, not later", async () => {
    server = await startServer(() => "hang");
    const started = performance.now();
    const result = await probe(
      { name: "t", url: `${server.origin}/health`, expectStatus: [200] },
      { timeoutMs: 150 },
    );
    const took = performance.now() - started;
    expect(result).toEqual({
      ok: false,
      error: "no response within 150 ms",
      ms: expect.any(Number),
    });
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1_000);
  });

  test("an abort signal ends the request at once and says so", async () => {
    server = await startServer(() => "hang");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const result = await probe(
      { name: "t", url: `${server.origin}/`, expectStatus: [200] },
      { timeoutMs: 5_000, signal: controller.signal },
    );
    expect(result).toMatchObject({ ok: false, error: "aborted" });
    expect(result.ms).toBeLessThan(1_000);
  });
});

describe("describeError", () => {
  test.each<[unknown, string]>([
    [
      Object.assign(new Error("connect ECONNREFUSED 1.2.3.4:5"), { code: "ECONNREFUSED" }),
      "connect ECONNREFUSED 1.2.3.4:5",
    ],
    [
      Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
      "self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)",
    ],
    [
      Object.assign(
        new AggregateError(
          [new Error("connect ECONNREFUSED ::1:5"), new Error("connect ECONNREFUSED 127.0.0.1:5")],
          "",
        ),
        { code: "ECONNREFUSED" },
      ),
      "connect ECONNREFUSED ::1:5; connect ECONNREFUSED 127.0.0.1:5",
    ],
    ["a string", "a string"],
  ])("%s", (error, text) => {
    expect(describeError(error)).toBe(text);
  });
});
