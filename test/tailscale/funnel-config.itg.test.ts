// funnel-config, bundled, against the shared lab: prod-cloud gets the tailscale stand-in in its
// own bin dir (dev-cloud has none), a frontend on :80 and a backend on :3001, and the action
// makes 443 -> :80 and 8443 -> :3001 public through the stand-in's funnel.
import { existsSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { assertNoSecrets } from "@smoker/action-kit/testing";
import { cmd, type Remote } from "@smoker/remote";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionInputs, runAction } from "../deploy/support.js";
import { acceptedLogins, host, lab, withRemote } from "../remote/support.js";
import {
  clearInvocations,
  FUNNEL_CAPS,
  installStandin,
  invocations,
  isMutation,
  removeStandin,
  type Standin,
  setNode,
} from "./standin.js";

const PROD_CONFIG = `- port: 443
  target: 80
  funnel: true
- port: 8443
  target: 3001
  funnel: true
`;
const APPS = {
  "smoker-ts-frontend": ["frontend:1.0.0", "80"],
  "smoker-ts-backend": ["backend:1.0.0", "3001"],
};

const prod = host("prod-cloud");
const dev = host("dev-cloud");
let standin: Standin;

function inputs(extra: Record<string, string> = {}, h = prod): Record<string, string> {
  return {
    ...connectionInputs(h),
    config: PROD_CONFIG,
    "verify-address": h.ip,
    "verify-ca-certificate": standin.certificate,
    "verify-timeout": "20s",
    ...extra,
  };
}

/** GET through the stand-in's funnel, as the internet would: TLS for the public name. */
function viaFunnel(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: prod.ip,
        port,
        path,
        servername: standin.dnsName,
        headers: { host: standin.dnsName },
        ca: standin.certificate,
        timeout: 3_000,
      },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

function serveConfigOf(outputs: Record<string, string | undefined>) {
  return JSON.parse(outputs["serve-config"] ?? "null");
}

async function tailscaleByHand(...args: string[]): Promise<void> {
  await withRemote(prod, (r: Remote) => r.run(cmd("tailscale", ...args)));
}

beforeAll(async () => {
  expect(existsSync(join(dev.binDir, "tailscale"))).toBe(false);
  removeStandin(prod.binDir);
  standin = await installStandin(prod.binDir, "prod-cloud");
  await withRemote(prod, async (r) => {
    for (const [name, [image, port]] of Object.entries(APPS)) {
      await r.tryRun(cmd("docker", "rm", "-f", name));
      await r.run(
        cmd("docker", "run", "-d", "--name", name, "-p", `${port}:${port}`, lab().images[image]!),
      );
    }
  });
});

afterAll(async () => {
  removeStandin(prod.binDir);
  await withRemote(prod, async (r) => {
    await r.tryRun(cmd("docker", "rm", "-f", ...Object.keys(APPS)));
  });
});

const EXPECTED = () => ({
  TCP: { "443": { HTTPS: true }, "8443": { HTTPS: true } },
  Web: {
    [`${standin.dnsName}:443`]: { Handlers: { "/": { Proxy: "http://127.0.0.1:80" } } },
    [`${standin.dnsName}:8443`]: { Handlers: { "/": { Proxy: "http://127.0.0.1:3001" } } },
  },
  AllowFunnel: { [`${standin.dnsName}:443`]: true, [`${standin.dnsName}:8443`]: true },
});

describe("funnel-config on prod-cloud", () => {
  it("applies the production config to a fresh host, and both URLs answer through it", async () => {
    const result = await runAction("funnel-config", inputs());
    expect(result.exitCode, result.log).toBe(0);
    expect(result.outputs.changed).toBe("true");
    expect(serveConfigOf(result.outputs)).toEqual(EXPECTED());
    const status = await withRemote(prod, (r) =>
      r.run(cmd("tailscale", "serve", "status", "--json")),
    );
    expect(JSON.parse(status.stdout)).toEqual(EXPECTED());
    expect(JSON.parse(result.outputs.urls ?? "[]")).toEqual([
      { url: `https://${standin.dnsName}/`, funnel: true, port: 443, path: "/" },
      { url: `https://${standin.dnsName}:8443/`, funnel: true, port: 8443, path: "/" },
    ]);
    expect(result.log).toMatch(/answered/);
    assertNoSecrets(result, [inputs()["private-key"] ?? ""]);
    // Through the funnel, each port reaches its own app.
    expect(await viaFunnel(443, "/version")).toEqual({ status: 200, body: "1.0.0" });
    expect((await viaFunnel(443, "/")).status).toBe(200);
    expect(await viaFunnel(8443, "/health")).toEqual({ status: 200, body: "ok" });
    // Only current-syntax calls were made.
    const calls = invocations(prod.binDir).filter(isMutation);
    expect(calls).toEqual([
      ["funnel", "--bg", "--https=443", "80"],
      ["funnel", "--bg", "--https=8443", "3001"],
    ]);
  });

  it("a second run changes nothing, and says so", async () => {
    clearInvocations(prod.binDir);
    const result = await runAction("funnel-config", inputs());
    expect(result.exitCode, result.log).toBe(0);
    expect(result.outputs.changed).toBe("false");
    expect(result.log).toMatch(/Nothing to change/);
    expect(invocations(prod.binDir).filter(isMutation)).toEqual([]);
    expect(invocations(prod.binDir).length).toBeGreaterThan(0);
  });

  it("repairs drift (8443 removed by hand), touching only 8443", async () => {
    await tailscaleByHand("serve", "--https=8443", "off");
    await expect(viaFunnel(8443, "/health")).rejects.toThrow();
    clearInvocations(prod.binDir);
    const result = await runAction("funnel-config", inputs());
    expect(result.exitCode, result.log).toBe(0);
    expect(result.outputs.changed).toBe("true");
    expect(invocations(prod.binDir).filter(isMutation)).toEqual([
      ["funnel", "--bg", "--https=8443", "3001"],
    ]);
    expect(serveConfigOf(result.outputs)).toEqual(EXPECTED());
    expect(await viaFunnel(8443, "/health")).toEqual({ status: 200, body: "ok" });
  });

  it("reports an extra entry and leaves it alone; reset-others turns it off", async () => {
    await tailscaleByHand("serve", "--bg", "--https=10000", "--set-path=/notes", "text:hello");
    clearInvocations(prod.binDir);
    const kept = await runAction("funnel-config", inputs());
    expect(kept.exitCode, kept.log).toBe(0);
    expect(kept.outputs.changed).toBe("false");
    expect(kept.log).toMatch(
      /Not in the config, left alone: https:\/\/\S+:10000\/notes -> text:hello/,
    );
    expect(invocations(prod.binDir).filter(isMutation)).toEqual([]);
    expect(serveConfigOf(kept.outputs).TCP["10000"]).toEqual({ HTTPS: true });

    const reset = await runAction("funnel-config", inputs({ "reset-others": "true" }));
    expect(reset.exitCode, reset.log).toBe(0);
    expect(reset.outputs.changed).toBe("true");
    expect(invocations(prod.binDir).filter(isMutation)).toEqual([
      ["serve", "--https=10000", "--set-path=/notes", "off"],
    ]);
    expect(serveConfigOf(reset.outputs)).toEqual(EXPECTED());
  });

  it("refuses funnel on port 9000 before any remote command", async () => {
    clearInvocations(prod.binDir);
    const logins = acceptedLogins(prod);
    const result = await runAction(
      "funnel-config",
      inputs({ config: "- port: 9000\n  target: 3001\n  funnel: true\n" }),
    );
    expect(result.exitCode).toBe(1);
    expect(result.log).toMatch(
      /Input "config" entry 1: funnel is only possible on ports 443, 8443, 10000 \(got port 9000\)/,
    );
    expect(acceptedLogins(prod)).toBe(logins);
    expect(invocations(prod.binDir)).toEqual([]);
  });

  it("says what to do when the node is logged out or may not funnel, changing nothing", async () => {
    clearInvocations(prod.binDir);
    setNode(prod.binDir, { backendState: "NeedsLogin" });
    const out = await runAction("funnel-config", inputs());
    expect(out.exitCode).toBe(1);
    expect(out.log).toMatch(/is logged out/);
    expect(out.log).toMatch(/run `tailscale up` on it/);

    setNode(prod.binDir, { backendState: "Running", capabilities: ["https"] });
    const refused = await runAction("funnel-config", inputs());
    expect(refused.exitCode).toBe(1);
    expect(refused.log).toMatch(/does not have the "funnel" node attribute/);
    expect(refused.log).toMatch(/nodeAttrs entry with "attr": \["funnel"\]/);
    expect(invocations(prod.binDir).filter(isMutation)).toEqual([]);
    setNode(prod.binDir, { capabilities: FUNNEL_CAPS });
  });

  it("fails the verify when an app behind the funnel does not answer", async () => {
    await withRemote(prod, (r) => r.run(cmd("docker", "stop", "smoker-ts-backend")));
    const result = await runAction("funnel-config", inputs({ "verify-timeout": "2s" }));
    expect(result.exitCode).toBe(1);
    expect(result.outputs.changed).toBe("false");
    expect(result.log).toMatch(
      /Not answering through funnel: https:\/\/\S+:8443\/: status 502(%0A|\n)/,
    );
    expect(result.log).not.toMatch(/ts\.net\/: status 502/);
    await withRemote(prod, (r) => r.run(cmd("docker", "start", "smoker-ts-backend")));
  });

  it("fails clearly on a host without tailscale (dev-cloud)", async () => {
    const result = await runAction("funnel-config", inputs({}, dev));
    expect(result.exitCode).toBe(1);
    expect(result.log).toMatch(/tailscale is not installed on 10\.\d+\.0\.11:22/);
    expect(result.log).toMatch(/Install Tailscale on the host/);
  });
});
