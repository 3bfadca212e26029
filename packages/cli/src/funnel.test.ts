import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { type CliIo, parseFlags, sourceFrom } from "./cli.js";
import { funnelCommand, funnelUsage } from "./funnel.js";
import { terminalReporter } from "./reporter.js";

const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nfunnelsecretmaterial\n-----END OPENSSH PRIVATE KEY-----\n";

function workdir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "smoker-funnel-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Runs `smoker funnel ARGS` as cli.ts's main would (its catch prints `✗ message` + hint). */
async function funnel(args: string[], cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    tty: false,
    cwd,
    env: {},
  };
  let code: number;
  try {
    code = await funnelCommand(sourceFrom(parseFlags(args, cwd), cwd), io, terminalReporter(io));
  } catch (error) {
    const e = error as Error & { hint?: unknown };
    err.push(`\n✗ ${e.message}\n${typeof e.hint === "string" ? `  ${e.hint}\n` : ""}`);
    code = 1;
  }
  return { code, out: out.join(""), err: err.join(""), all: out.join("") + err.join("") };
}

/** A TCP port that counts connections and never answers: proof of whether anything connected. */
async function listener(): Promise<{ port: number; connections: () => number; close(): void }> {
  let count = 0;
  const server = createServer((s) => {
    count++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { port: address.port, connections: () => count, close: () => server.close() };
}

const FINGERPRINT = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8";

describe("smoker funnel", () => {
  test("its usage line names the command and the config file flag", () => {
    expect(funnelUsage).toMatch(/^ {2}funnel {5}\S/);
    expect(funnelUsage).toMatch(/--config-file/);
  });

  test.each([
    [
      "funnel on a port funnel refuses",
      "- port: 9000\n  target: 3001\n  funnel: true\n",
      /Input "config" entry 1: funnel is only possible on ports 443, 8443, 10000 \(got port 9000\)/,
    ],
    ["a config that is not a list", "port: 443\n", /Input "config" /],
  ])("%s: refused before connecting, naming the input", async (_, config, message) => {
    const server = await listener();
    try {
      const dir = workdir({ key: KEY, "serve.yml": config });
      const run = await funnel(
        [
          "--host",
          "127.0.0.1",
          "--port",
          String(server.port),
          "--private-key-file",
          "key",
          "--host-fingerprint",
          FINGERPRINT,
          "--config-file",
          "serve.yml",
        ],
        dir,
      );
      expect(run.code).toBe(1);
      expect(run.err).toMatch(message);
      expect(run.err).toMatch(/--config-file FILE/);
      expect(server.connections()).toBe(0);
      expect(run.out).not.toMatch(/Connect to/);
      expect(run.all).not.toContain("funnelsecretmaterial");
      expect(run.all).not.toContain("::add-mask::");
    } finally {
      server.close();
    }
  });

  test("without --config-file, says how to pass the serve config", async () => {
    const dir = workdir({ key: KEY });
    const run = await funnel(
      ["--host", "127.0.0.1", "--private-key-file", "key", "--host-fingerprint", FINGERPRINT],
      dir,
    );
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/Input "config" is required: the list of ports to serve/);
    expect(run.err).toMatch(/--config-file FILE/);
  });

  test("a private key on the command line is ignored, never echoed: the key file is required", async () => {
    const dir = workdir({ "serve.yml": "- port: 443\n  target: 80\n" });
    const run = await funnel(
      [
        "--host",
        "127.0.0.1",
        "--private-key",
        "funnelsecretmaterial",
        "--host-fingerprint",
        FINGERPRINT,
        "--config-file",
        "serve.yml",
      ],
      dir,
    );
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/Input "private-key"/);
    expect(run.all).not.toContain("funnelsecretmaterial");
    expect(run.all).not.toContain("::add-mask::");
  });

  test("a bad verify address is refused before connecting", async () => {
    const server = await listener();
    try {
      const dir = workdir({ key: KEY, "serve.yml": "- port: 443\n  target: 80\n  funnel: true\n" });
      const run = await funnel(
        [
          "--host",
          "127.0.0.1",
          "--port",
          String(server.port),
          "--private-key-file",
          "key",
          "--host-fingerprint",
          FINGERPRINT,
          "--config-file",
          "serve.yml",
          "--verify-address",
          "10.0.0.1;curl evil",
        ],
        dir,
      );
      expect(run.code).toBe(1);
      expect(run.err).toMatch(/Input "verify-address"/);
      expect(server.connections()).toBe(0);
    } finally {
      server.close();
    }
  });
});
