// `smoker funnel` against the shared lab: prod-cloud gets the tailscale stand-in in its own bin
// dir and a frontend on :80; the command, with flags and files as a terminal user passes them,
// makes 443 -> :80 public and 8443 -> :3001 tailnet-only, prints the plan and the URLs, and
// fails (exit 1, URL named) when a public URL's app does not answer.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cmd } from "@smoker/remote";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliIo, parseFlags, sourceFrom } from "../../packages/cli/src/cli.js";
import { funnelCommand } from "../../packages/cli/src/funnel.js";
import { terminalReporter } from "../../packages/cli/src/reporter.js";
import { host, lab, withRemote } from "../remote/support.js";
import {
  clearInvocations,
  installStandin,
  invocations,
  isMutation,
  removeStandin,
  type Standin,
} from "./standin.js";

const prod = host("prod-cloud");
const APP = "smoker-cli-funnel-frontend";
let standin: Standin;
let dir: string;

/** Runs `smoker funnel ARGS` in `dir` as cli.ts's main does (its catch prints `✗ message`). */
async function smokerFunnel(...extra: string[]) {
  const out: string[] = [];
  const io: CliIo = {
    out: (t) => out.push(t),
    err: (t) => out.push(t),
    tty: false,
    cwd: dir,
    env: {},
  };
  const args = [
    "--host",
    prod.ip,
    "--port",
    String(prod.port),
    "--username",
    prod.user,
    "--host-fingerprint",
    prod.fingerprint,
    "--private-key-file",
    "id",
    "--config-file",
    "serve.yml",
    "--verify-address",
    prod.ip,
    "--verify-ca-certificate-file",
    "ca.pem",
    "--verify-timeout",
    "20s",
    ...extra,
  ];
  let code: number;
  try {
    code = await funnelCommand(sourceFrom(parseFlags(args, dir), dir), io, terminalReporter(io));
  } catch (error) {
    const e = error as Error & { hint?: unknown };
    out.push(`\n✗ ${e.message}\n${typeof e.hint === "string" ? `  ${e.hint}\n` : ""}`);
    code = 1;
  }
  return { code, log: out.join("") };
}

async function serveStatus(): Promise<unknown> {
  return withRemote(prod, async (r) =>
    JSON.parse((await r.run(cmd("tailscale", "serve", "status", "--json"))).stdout),
  );
}

beforeAll(async () => {
  removeStandin(prod.binDir);
  standin = await installStandin(prod.binDir, "prod-cloud");
  dir = mkdtempSync(join(tmpdir(), "smoker-cli-funnel-"));
  writeFileSync(join(dir, "id"), readFileSync(lab().clientKey, "utf8"), { mode: 0o600 });
  writeFileSync(join(dir, "ca.pem"), standin.certificate);
  writeFileSync(
    join(dir, "serve.yml"),
    "- port: 443\n  target: 80\n  funnel: true\n- port: 8443\n  target: 3001\n",
  );
  await withRemote(prod, async (r) => {
    await r.tryRun(cmd("docker", "rm", "-f", APP));
    await r.run(
      cmd("docker", "run", "-d", "--name", APP, "-p", "80:80", lab().images["frontend:1.0.0"]!),
    );
  });
});

afterAll(async () => {
  removeStandin(prod.binDir);
  await withRemote(prod, (r) => r.tryRun(cmd("docker", "rm", "-f", APP)));
});

describe("smoker funnel on prod-cloud", () => {
  it("applies the config, prints each change and the URLs, and the public one answers", async () => {
    const run = await smokerFunnel();
    expect(run.code, run.log).toBe(0);
    expect(invocations(prod.binDir).filter(isMutation)).toEqual([
      ["funnel", "--bg", "--https=443", "80"],
      ["serve", "--bg", "--https=8443", "3001"],
    ]);
    expect(await serveStatus()).toEqual({
      TCP: { "443": { HTTPS: true }, "8443": { HTTPS: true } },
      Web: {
        [`${standin.dnsName}:443`]: { Handlers: { "/": { Proxy: "http://127.0.0.1:80" } } },
        [`${standin.dnsName}:8443`]: { Handlers: { "/": { Proxy: "http://127.0.0.1:3001" } } },
      },
      AllowFunnel: { [`${standin.dnsName}:443`]: true },
    });
    // The plan as it is applied: each change with the command run for it.
    expect(run.log).toMatch(
      /funnel https:\/\/\S+\/ -> 80 \(new\): tailscale funnel --bg '--https=443' 80/,
    );
    expect(run.log).toMatch(
      /serve https:\/\/\S+:8443\/ -> 3001 \(new\): tailscale serve --bg '--https=8443' 3001/,
    );
    // One row per URL: public and probed, or tailnet-only and not.
    expect(run.log).toMatch(new RegExp(`https://${standin.dnsName}/ +public +80 +answered 200\\n`));
    expect(run.log).toMatch(new RegExp(`https://${standin.dnsName}:8443/ +tailnet +3001\\n`));
    expect(run.log).toMatch(/changed: 2 command\(s\) run on prod-cloud\./);
    const key = readFileSync(lab().clientKey, "utf8").split("\n")[1]!;
    expect(run.log).not.toContain(key);
    expect(run.log).not.toContain("::add-mask::");
  });

  it("a second run changes nothing and says so", async () => {
    clearInvocations(prod.binDir);
    const run = await smokerFunnel("--verify", "false");
    expect(run.code, run.log).toBe(0);
    expect(invocations(prod.binDir).filter(isMutation)).toEqual([]);
    expect(run.log).toMatch(/Nothing to change/);
    expect(run.log).toMatch(/unchanged: prod-cloud\.\S+ already served the config/);
    expect(run.log).toMatch(new RegExp(`https://${standin.dnsName}/ +public +80 +not probed\\n`));
  });

  it("exits 1 naming the public URL whose app does not answer, after printing the URLs", async () => {
    writeFileSync(join(dir, "serve.yml"), "- port: 10000\n  target: 3002\n  funnel: true\n");
    clearInvocations(prod.binDir);
    const run = await smokerFunnel("--verify-timeout", "2s", "--reset-others");
    expect(run.code).toBe(1);
    // reset-others turned the two entries of the earlier config off.
    expect(invocations(prod.binDir).filter(isMutation)).toEqual([
      ["funnel", "--bg", "--https=10000", "3002"],
      ["serve", "--https=443", "--set-path=/", "off"],
      ["serve", "--https=8443", "--set-path=/", "off"],
    ]);
    expect(run.log).toMatch(
      new RegExp(`https://${standin.dnsName}:10000/ +public +3002 +NOT ANSWERING \\(status 502\\)`),
    );
    expect(run.log).toMatch(/✗ Not answering through funnel: https:\/\/\S+:10000\/: status 502/);
    expect(run.log).toMatch(/a 502 means serve could not reach it/);
  });
});
