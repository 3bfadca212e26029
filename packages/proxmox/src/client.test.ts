import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { ProxmoxClient } from "./client.js";
import { ProxmoxApiError, ProxmoxConnectionError } from "./errors.js";
import {
  type Certificate,
  type Handler,
  ok,
  type RecordingServer,
  selfSigned,
  startRecordingServer,
} from "./testing.js";
import type { TlsTrust } from "./tls.js";

const SECRET = "5f0c8a2e-1b7d-4c3e-9a6f-2d8e4b1c7a90";
let certificate: Certificate;
let other: Certificate;
let server: RecordingServer;
let handler: Handler = () => ok(null);

beforeAll(async () => {
  [certificate, other] = await Promise.all([selfSigned(), selfSigned()]);
  server = await startRecordingServer(certificate, (r, n) => handler(r, n));
});
afterAll(() => server.close());

const clients: ProxmoxClient[] = [];
afterEach(async () => {
  server.requests.length = 0;
  handler = () => ok(null);
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(trust?: TlsTrust, retries = 3): ProxmoxClient {
  const c = new ProxmoxClient({
    apiUrl: server.url,
    tokenId: "deploy@pve!ci",
    tokenSecret: SECRET,
    trust: trust ?? { kind: "fingerprint", fingerprints: [server.fingerprint] },
    retries,
    retryDelayMs: 1,
  });
  clients.push(c);
  return c;
}

describe("requests", () => {
  test("token header, GET parameters in the query, data unwrapped", async () => {
    handler = () => ok([{ vmid: 104 }]);
    expect(await client().get("/nodes/pve/lxc", { full: true })).toEqual([{ vmid: 104 }]);
    const [request] = server.requests;
    expect(request).toMatchObject({
      method: "GET",
      path: "/nodes/pve/lxc",
      query: "full=1",
      body: "",
    });
    expect(request!.headers.authorization).toBe(`PVEAPIToken=deploy@pve!ci=${SECRET}`);
  });

  test("POST and PUT send a form body with booleans as 1/0 and %20 for spaces", async () => {
    await client().put("/nodes/pve/lxc/104/config", {
      onboot: true,
      cores: 2,
      description: "a b&c",
    });
    const [request] = server.requests;
    expect(request!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request!.body).toBe("onboot=1&cores=2&description=a%20b%26c");
  });

  test("a base URL without /api2/json gets it", async () => {
    const c = new ProxmoxClient({
      apiUrl: server.url.replace("/api2/json", ""),
      tokenId: "deploy@pve!ci",
      tokenSecret: SECRET,
      trust: { kind: "fingerprint", fingerprints: [server.fingerprint] },
    });
    clients.push(c);
    await c.get("/version");
    expect(server.requests[0]!.path).toBe("/version");
  });
});

describe("errors", () => {
  test("carry the status, Proxmox's message and the per-parameter errors", async () => {
    handler = () => ({
      status: 400,
      statusText: "Parameter verification failed.",
      body: {
        data: null,
        message: "Parameter verification failed.\n",
        errors: { onboot: "type check ('boolean') failed - got 'true'\n" },
      },
    });
    const error = await client()
      .put("/nodes/pve/lxc/104/config", { onboot: "true" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxmoxApiError);
    expect(error).toMatchObject({
      status: 400,
      pveMessage: "Parameter verification failed.",
      errors: { onboot: "type check ('boolean') failed - got 'true'" },
    });
    expect((error as Error).message).toBe(
      "PUT /nodes/pve/lxc/104/config failed with HTTP 400: Parameter verification failed. (onboot: type check ('boolean') failed - got 'true')",
    );
  });

  test("401 with an empty body says what to check, without the secret", async () => {
    handler = () => ({ status: 401, statusText: "No ticket" });
    const error = (await client()
      .get("/version")
      .catch((e: unknown) => e)) as ProxmoxApiError;
    expect(error.status).toBe(401);
    expect(error.message).toContain("HTTP 401: No ticket");
    expect(error.hint).toMatch(/token-id .* token-secret/);
    expect(`${error.message}${error.hint}`).not.toContain(SECRET);
    expect(server.requests).toHaveLength(1);
  });

  test("a missing guest (500 does not exist) is not retried", async () => {
    handler = () => ({
      status: 500,
      body: { data: null, message: "Configuration file 'nodes/pve/lxc/999.conf' does not exist\n" },
    });
    await expect(client().get("/nodes/pve/lxc/999/config")).rejects.toThrow(/does not exist/);
    expect(server.requests).toHaveLength(1);
  });
});

describe("retries", () => {
  test("5xx and 'VM is locked' are retried, then the call succeeds", async () => {
    handler = (_r, n) =>
      n === 1
        ? { status: 503, statusText: "Service Unavailable" }
        : n === 2
          ? { status: 500, body: { data: null, message: "VM is locked (clone)\n" } }
          : ok(null);
    await client().put("/nodes/pve/qemu/9001/config", { cores: 4 });
    expect(server.requests.map((r) => r.body)).toEqual(["cores=4", "cores=4", "cores=4"]);
  });

  test("a connection reset is retried", async () => {
    handler = (_r, n) => (n === 1 ? { reset: true } : ok("7.0"));
    expect(await client().get("/version")).toBe("7.0");
    expect(server.requests).toHaveLength(2);
  });

  test("retries are bounded", async () => {
    handler = () => ({ status: 502, statusText: "Bad Gateway" });
    await expect(client(undefined, 2).get("/version")).rejects.toThrow(/HTTP 502/);
    expect(server.requests).toHaveLength(3);
  });
});

describe("TLS", () => {
  test("the pinned fingerprint is accepted in any case", async () => {
    await client({ kind: "fingerprint", fingerprints: [server.fingerprint.toLowerCase()] }).get(
      "/version",
    );
    expect(server.requests).toHaveLength(1);
  });

  test("a different certificate is refused after the handshake and before any request", async () => {
    const { X509Certificate } = await import("node:crypto");
    const wrong = new X509Certificate(other.cert).fingerprint256;
    const connectionsBefore = server.connections;
    const error = await client({ kind: "fingerprint", fingerprints: [wrong] })
      .get("/version")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxmoxConnectionError);
    expect(String((error as Error).cause)).toContain(
      `has SHA-256 fingerprint ${server.fingerprint}`,
    );
    expect((error as ProxmoxConnectionError).hint).toMatch(/tls-fingerprint/);
    // The client did connect (so the check ran on the real certificate) but the server never
    // received a request, so it never saw the token.
    expect(server.connections).toBeGreaterThan(connectionsBefore);
    expect(server.requests).toHaveLength(0);
  });

  test("ca-certificate trusts the node's certificate", async () => {
    await client({ kind: "ca", certificates: [certificate.cert] }).get("/version");
    expect(server.requests).toHaveLength(1);
  });

  test("the wrong CA and the public roots both refuse a self-signed node", async () => {
    await expect(
      client({ kind: "ca", certificates: [other.cert] }).get("/version"),
    ).rejects.toThrow(ProxmoxConnectionError);
    await expect(client({ kind: "system" }).get("/version")).rejects.toThrow(/self-signed/);
    expect(server.requests).toHaveLength(0);
  });

  test("insecure accepts anything", async () => {
    await client({ kind: "insecure" }).get("/version");
    expect(server.requests).toHaveLength(1);
  });
});
