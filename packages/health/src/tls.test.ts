import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Check } from "./checks.js";
import { probe } from "./probe.js";
import {
  type Certificate,
  selfSignedCertificate,
  startTlsServer,
  type TestServer,
} from "./testing.js";
import { dispatcherFor, parseCaCertificates } from "./tls.js";

let certificate: Certificate;
let server: TestServer;
let check: Check;

beforeAll(async () => {
  certificate = await selfSignedCertificate();
  server = await startTlsServer(certificate, () => ({ body: "ok" }));
  check = { name: "tls", url: `${server.origin}/health`, expectStatus: [200] };
});

afterAll(async () => {
  await server?.close();
});

async function probeWith(options: Parameters<typeof dispatcherFor>[0]) {
  const dispatcher = dispatcherFor(options);
  try {
    return await probe(check, { dispatcher, timeoutMs: 5_000 });
  } finally {
    await dispatcher.destroy();
  }
}

describe("dispatcherFor", () => {
  test("verifies certificates by default: a self-signed one fails", async () => {
    const result = await probeWith({});
    expect(result.ok).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/self-signed certificate/);
  });

  test("insecureTls false is the default, not a way around it", async () => {
    expect((await probeWith({ insecureTls: false })).ok).toBe(false);
  });

  test("a CA certificate makes it pass", async () => {
    expect(await probeWith({ caCertificate: certificate.cert })).toMatchObject({
      ok: true,
      status: 200,
    });
  });

  test("insecureTls skips verification", async () => {
    expect(await probeWith({ insecureTls: true })).toMatchObject({ ok: true, status: 200 });
  });

  test("a different CA does not help", async () => {
    const other = await selfSignedCertificate();
    const result = await probeWith({ caCertificate: other.cert });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/certificate/);
  });

  test("insecureTls with a CA is a contradiction", () => {
    expect(() => dispatcherFor({ insecureTls: true, caCertificate: certificate.cert })).toThrow(
      /cannot be combined/,
    );
  });
});

describe("parseCaCertificates", () => {
  test("splits a bundle", () => {
    const bundle = `# internal CAs\n${certificate.cert}\n${certificate.cert}`;
    expect(parseCaCertificates(bundle)).toHaveLength(2);
  });

  test.each<[string, string, RegExp]>([
    ["not PEM", "hello", /must be a PEM certificate/],
    [
      "a private key",
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
      /must be a PEM/,
    ],
    [
      "garbage inside the markers",
      "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----",
      /has an unreadable certificate: /,
    ],
  ])("rejects %s", (_, pem, rule) => {
    expect(() => parseCaCertificates(pem)).toThrow(rule);
  });
});
