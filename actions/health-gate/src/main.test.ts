import { type ActionResult, runInProcess } from "@smoker/action-kit/testing";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
// Until packages/health exports "./testing", its test servers are reached by path.
import {
  type Certificate,
  closedPort,
  type Script,
  selfSignedCertificate,
  startServer,
  startTlsServer,
  type TestServer,
} from "../../../packages/health/src/testing.js";
import { main } from "./main.js";

const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(script: Script): Promise<TestServer> {
  const server = await startServer(script);
  servers.push(server);
  return server;
}

// Fast loops for tests; the defaults (250ms, 120s) are exercised by the inputs tests.
const FAST = { interval: "10ms", timeout: "10s" };

function gate(inputs: Record<string, string>): Promise<ActionResult> {
  return runInProcess(main, { inputs: { ...FAST, ...inputs } });
}

function errorOf(result: ActionResult): string {
  const errors = result.annotations.filter((a) => a.level === "error");
  expect(errors).toHaveLength(1);
  return errors[0]!.message;
}

const ok = () => ({ body: "ok" });

describe("health-gate", () => {
  test("healthy after a few failures: outputs, summary and a sparing log", async () => {
    const server = await serve((n) => (n <= 3 ? { status: 503 } : ok()));
    const url = `${server.origin}/health`;
    const result = await gate({ urls: url });

    expect(result.failed).toBe(false);
    expect(result.annotations).toEqual([]);
    expect(server.count).toBe(5);

    const name = url.replace("http://", "");
    const report = JSON.parse(result.outputs.report!);
    expect(report).toEqual({
      healthy: true,
      timeToHealthyMs: expect.any(Number),
      elapsedMs: expect.any(Number),
      checks: [
        {
          name,
          url,
          healthy: true,
          attempts: 5,
          lastStatus: 200,
          consecutivePasses: 2,
          msToHealthy: report.timeToHealthyMs,
        },
      ],
    });
    expect(result.outputs).toEqual({
      healthy: "true",
      report: result.outputs.report,
      "time-to-healthy-ms": String(report.timeToHealthyMs),
    });

    // The first failure once, then the pass; three failing requests do not make three lines.
    const lines = result.log.split("\n");
    expect(lines.filter((l) => l.startsWith("… "))).toEqual([
      `… ${name}: status 503, expected 200; retrying`,
    ]);
    expect(lines.some((l) => l.startsWith(`✓ ${name} is healthy after `))).toBe(true);
    expect(result.log).toMatch(/^✓ Check health \(/m);

    expect(result.summary).toContain("<h3>Health gate</h3>");
    expect(result.summary).toContain(
      "<tr><th>Check</th><th>Result</th><th>Attempts</th><th>Last status</th><th>Time to healthy</th></tr>",
    );
    expect(result.summary).toMatch(
      new RegExp(
        `<tr><td>${name}<br><code>${url}</code></td><td>✅ healthy</td><td>5</td><td>200</td><td>\\d+ ms</td></tr>`,
      ),
    );
  });

  test("never healthy: fails at the timeout naming the check, with the report", async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/health`;
    const started = performance.now();
    const result = await gate({ urls: url, timeout: "1s" });
    expect(performance.now() - started).toBeLessThan(3_000);

    expect(result.failed).toBe(true);
    const message = errorOf(result);
    expect(message).toMatch(
      new RegExp(
        `^Check health failed: 1 of 1 check not healthy within 1\\.0 s: 127\\.0\\.0\\.1:${port}/health: connect ECONNREFUSED 127\\.0\\.0\\.1:${port} \\(\\d+ attempts\\)\\n`,
      ),
    );
    expect(message).toContain("check that the container is running and publishes that port");
    expect(result.log).toMatch(/^✗ Check health failed after /m);

    expect(result.outputs.healthy).toBe("false");
    expect(result.outputs["time-to-healthy-ms"]).toBe("");
    const report = JSON.parse(result.outputs.report!);
    expect(report).toEqual({
      healthy: false,
      elapsedMs: expect.any(Number),
      checks: [
        {
          name: `127.0.0.1:${port}/health`,
          url,
          healthy: false,
          attempts: expect.any(Number),
          lastError: `connect ECONNREFUSED 127.0.0.1:${port}`,
          consecutivePasses: 0,
        },
      ],
    });
    expect(result.summary).toContain("❌ Not healthy within 1.0 s");
    expect(result.summary).toContain(`<td>❌ connect ECONNREFUSED 127.0.0.1:${port}</td>`);
  });

  test("404 fails, naming the status; the other check passing does not help", async () => {
    const missing = await serve(() => ({ status: 404, body: "no such page" }));
    const fine = await serve(ok);
    const result = await gate({
      checks: `
- name: api
  url: ${missing.origin}/healthz
- name: web
  url: ${fine.origin}/
`,
      timeout: "1s",
    });
    expect(result.failed).toBe(true);
    const message = errorOf(result);
    expect(message).toContain(
      `1 of 2 checks not healthy within 1.0 s: api (${missing.origin}/healthz): status 404, expected 200 (`,
    );
    expect(message).not.toContain("web");
    expect(message).toContain("read its logs (docker logs), or fix expect-status");
    const report = JSON.parse(result.outputs.report!);
    expect(
      report.checks.map((c: { name: string; healthy: boolean }) => [c.name, c.healthy]),
    ).toEqual([
      ["api", false],
      ["web", true],
    ]);
    expect(report.checks[0].lastStatus).toBe(404);
    expect(result.summary).toContain("<td>404</td>");
  });

  test("contains and json-path checks pass once the body says so", async () => {
    const server = await serve((n, path) => {
      if (path === "/text") return { body: n <= 2 ? "starting" : "status: ready" };
      const status = n <= 4 ? "starting" : "ok";
      return { body: JSON.stringify({ app: { status, replicas: [{ up: true }] } }) };
    });
    const result = await gate({
      checks: `
- name: text
  url: ${server.origin}/text
  contains: ready
- name: json
  url: ${server.origin}/json
  json-path: $.app.status
  equals: ok
- name: array
  url: ${server.origin}/json2
  json-path: app.replicas[0].up
  equals: true
`,
    });
    expect(result.failed).toBe(false);
    const report = JSON.parse(result.outputs.report!);
    expect(report.healthy).toBe(true);
    expect(result.log).toMatch(/… json: \$\.app\.status is "starting", expected "ok"; retrying/);
  });

  test("a body check that never matches fails with what the body had", async () => {
    const server = await serve(() => ({ body: JSON.stringify({ status: "degraded" }) }));
    const result = await gate({
      checks: `
- url: ${server.origin}/status
  json-path: $.status
  equals: ok
- url: ${server.origin}/text
  contains: ready
`,
      timeout: "1s",
    });
    const message = errorOf(result);
    expect(message).toContain(`$.status is "degraded", expected "ok"`);
    expect(message).toContain(`body does not contain "ready"`);
    expect(message).toMatch(/^Check health failed: 2 of 2 checks/);
  });

  test("success threshold: alternating pass/fail never counts; steady passes do", async () => {
    // Odd requests pass, even ones fail, until request 8; then every request passes.
    const server = await serve((n) => (n <= 8 && n % 2 === 0 ? { status: 500 } : ok()));
    const result = await gate({ urls: `${server.origin}/`, "success-threshold": "2" });
    expect(result.failed).toBe(false);
    expect(JSON.parse(result.outputs.report!).checks[0].attempts).toBe(10);
    expect(server.count).toBe(10);

    const always = await serve((n) => (n % 2 === 1 ? ok() : { status: 500 }));
    const flapping = await gate({ urls: `${always.origin}/`, timeout: "1s" });
    expect(flapping.failed).toBe(true);
    expect(errorOf(flapping)).toContain("status 500, expected 200");

    const steady = await serve(ok);
    const three = await gate({ urls: `${steady.origin}/`, "success-threshold": "3" });
    expect(JSON.parse(three.outputs.report!).checks[0].attempts).toBe(3);
  });

  test.each<[string, Record<string, string>, string]>([
    ["neither checks nor urls", {}, 'Input "checks" or urls is required'],
    [
      "both checks and urls",
      { checks: "- url: URL", urls: "URL" },
      'Input "urls" cannot be combined with checks',
    ],
    [
      "checks that are not YAML",
      { checks: "- url: [URL" },
      'Input "checks" is not valid YAML (line ',
    ],
    [
      "checks that are not a list",
      { checks: "url: URL" },
      'Input "checks" must be a YAML list of checks',
    ],
    [
      "a bad second entry",
      { checks: "- url: URL\n- url: ftp://x" },
      'Input "checks" entry 2: "url" must use http or https (got "ftp:")',
    ],
    [
      "an unknown key",
      { checks: "- url: URL\n  expectStatus: 200" },
      'Input "checks" entry 1: has an unknown key "expectStatus" (did you mean expect-status?)',
    ],
    [
      "a bad url line",
      { urls: "URL\nnot a url" },
      'Input "urls" entry 2: "url" must be an absolute http or https URL (got "not a url")',
    ],
    ["a bad timeout", { urls: "URL", timeout: "soon" }, 'Input "timeout" must be a duration'],
    [
      "a threshold of 0",
      { urls: "URL", "success-threshold": "0" },
      'Input "success-threshold" must be an integer from 1 to 100 (got "0")',
    ],
    [
      "a bad boolean",
      { urls: "URL", "insecure-tls": "yes" },
      'Input "insecure-tls" must be true or false (got "yes")',
    ],
    [
      "a CA that is not PEM",
      { urls: "URL", "ca-certificate": "hello" },
      'Input "ca-certificate" must be a PEM certificate',
    ],
  ])("%s: InputError before any request", async (_, raw, expected) => {
    const server = await serve(ok);
    const url = `${server.origin}/health`;
    const inputs = Object.fromEntries(
      Object.entries(raw).map(([key, value]) => [key, value.replaceAll("URL", url)]),
    );
    const result = await gate(inputs);
    expect(result.failed).toBe(true);
    expect(errorOf(result)).toContain(expected);
    expect(server.count).toBe(0);
    expect(result.outputs).toEqual({});
  });
});

describe("health-gate over TLS", () => {
  let certificate: Certificate;
  let server: TestServer;

  beforeAll(async () => {
    certificate = await selfSignedCertificate();
    server = await startTlsServer(certificate, ok);
  });

  afterAll(async () => {
    await server?.close();
  });

  test("a self-signed certificate fails without ca-certificate, with a hint", async () => {
    const result = await gate({ urls: `${server.origin}/health`, timeout: "1s" });
    expect(result.failed).toBe(true);
    const message = errorOf(result);
    expect(message).toContain("self-signed certificate");
    expect(message).toContain("pass its CA (PEM) as ca-certificate");
  });

  test("passes with the certificate as ca-certificate", async () => {
    const result = await gate({
      urls: `${server.origin}/health`,
      "ca-certificate": certificate.cert,
    });
    expect(result.failed).toBe(false);
    expect(result.outputs.healthy).toBe("true");
    expect(result.annotations).toEqual([]);
  });

  test("insecure-tls passes, and warns loudly", async () => {
    const result = await gate({ urls: `${server.origin}/health`, "insecure-tls": "true" });
    expect(result.failed).toBe(false);
    expect(result.annotations).toEqual([
      {
        level: "warning",
        message: expect.stringContaining("insecure-tls is true: TLS certificates are NOT verified"),
      },
    ]);
  });

  test("insecure-tls with ca-certificate is refused", async () => {
    const before = server.count;
    const result = await gate({
      urls: `${server.origin}/health`,
      "insecure-tls": "true",
      "ca-certificate": certificate.cert,
    });
    expect(errorOf(result)).toContain(
      'Input "insecure-tls" cannot be true when ca-certificate is set',
    );
    expect(server.count).toBe(before);
  });
});
