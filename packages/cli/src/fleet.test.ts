// `smoker fleet` without a lab: devices that refuse SSH (a closed port) or that Tailscale reports
// offline are pending, and the token comes from a file only and is printed nowhere. The fleet itself (setup, update, rollback) is test/watchtower/fleet.itg.test.ts.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sourceFrom } from "./cli.js";
import { fleetCommand } from "./fleet.js";
import { terminalReporter } from "./reporter.js";

const TOKEN = "wt-token-0123456789abcdef";
let dir: string;
let closedPort: number;

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "smoker-fleet-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "key")]);
  writeFileSync(join(dir, "token"), `${TOKEN}\n`);
  writeFileSync(
    join(dir, "known_hosts"),
    "127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
  );
  // A port that was free a moment ago: connecting to it is refused, like a device switched off.
  const probe = createServer();
  closedPort = await listen(probe);
  await new Promise((r) => probe.close(r));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function fleet(flags: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (t: string) => out.push(t),
    err: (t: string) => err.push(t),
    tty: false,
    cwd: dir,
    env: {},
  };
  const source = sourceFrom(
    {
      "private-key-file": "key",
      "known-hosts-file": "known_hosts",
      "project-name": "app",
      "watchtower-token-file": "token",
      "connect-timeout": "5s",
      ...flags,
    },
    dir,
  );
  let code: number;
  try {
    code = await fleetCommand(source, io, terminalReporter(io));
  } catch (error) {
    // What main() does with an error a command throws (bad input).
    err.push(`\n✗ ${(error as Error).message}\n`);
    code = 1;
  }
  const text = [...out, ...err].join("");
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain("::add-mask::");
  return { code, out: out.join(""), err: err.join(""), text };
}

/** The table's row for a device: its state and details. */
function row(out: string, device: string) {
  const line = out.split("\n").find((l) => l.startsWith(`${device} `));
  const [, state, details] = /^\S+\s+(\S+)\s*(.*)$/.exec(line ?? "") ?? [];
  return { state, details };
}

describe("smoker fleet", () => {
  test("devices that refuse SSH are pending: listed, and the command exits 0", async () => {
    const r = await fleet({ devices: "127.0.0.1", port: String(closedPort) });
    expect(r.code, r.text).toBe(0);
    expect(row(r.out, "127.0.0.1")).toMatchObject({ state: "pending" });
    expect(row(r.out, "127.0.0.1").details).toContain("refused");
    expect(r.out).toMatch(/^updated: +-$/m);
    expect(r.out).toMatch(/^pending: +127\.0\.0\.1$/m);
    expect(r.out).toMatch(/^failed: +-$/m);
  });

  test("with --offline-policy fail an offline device fails the command, saying why", async () => {
    const r = await fleet({
      devices: "127.0.0.1",
      port: String(closedPort),
      "offline-policy": "fail",
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain("1 device(s) were offline: 127.0.0.1");
    expect(r.err).toContain("offline-policy is fail");
  });

  test("status mode lists the devices online, not as updated", async () => {
    const r = await fleet({ mode: "status", devices: "127.0.0.1", port: String(closedPort) });
    expect(r.code, r.text).toBe(0);
    expect(row(r.out, "127.0.0.1").state).toBe("pending");
    expect(r.out).toMatch(/^online: +-$/m);
    expect(r.out).not.toMatch(/^updated:/m);
    expect(r.out).toMatch(/^pending: +127\.0\.0\.1$/m);
  });

  test("devices-tag: peers Tailscale reports offline are pending without a connection", async () => {
    // A stand-in `tailscale status --json`, shaped like ipnstate.Status (Peer keyed by node
    // key; HostName, TailscaleIPs, Tags, Online), as in packages/watchtower/src/devices.test.ts.
    const bin = join(dir, "bin");
    execFileSync("mkdir", ["-p", bin]);
    const status = {
      Self: { HostName: "runner", TailscaleIPs: ["100.64.0.1"], Online: true },
      Peer: {
        "nodekey:a": {
          HostName: "pi-garage",
          TailscaleIPs: ["100.64.0.8"],
          Tags: ["tag:device"],
          Online: false,
        },
        "nodekey:b": { HostName: "laptop", TailscaleIPs: ["100.64.0.9"], Online: false },
      },
    };
    writeFileSync(
      join(bin, "tailscale"),
      `#!/bin/sh\n[ "$1 $2" = "status --json" ] || exit 2\ncat <<'JSON'\n${JSON.stringify(status)}\nJSON\n`,
    );
    chmodSync(join(bin, "tailscale"), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const r = await fleet({ "devices-tag": "tag:device" });
      expect(r.code, r.text).toBe(0);
      expect(row(r.out, "pi-garage")).toEqual({ state: "pending", details: "offline (tailscale)" });
      expect(r.out).not.toContain("laptop");
      expect(r.out).toMatch(/^pending: +pi-garage$/m);
    } finally {
      process.env.PATH = path;
    }
  });

  test("bad input fails before any connection, naming the input; the token is never a flag", async () => {
    const onFlag = await fleet({
      mode: "setup",
      devices: "127.0.0.1",
      "watchtower-token-file": "",
      "watchtower-token": TOKEN,
    });
    expect(onFlag.code).toBe(1);
    expect(onFlag.err).toContain('"watchtower-token"');
    expect(onFlag.err).toContain("is required for mode: setup");
    expect(onFlag.out).not.toContain("connecting");

    const both = await fleet({ devices: "pi-1", "devices-tag": "tag:device" });
    expect(both.err).toContain("and devices-tag cannot both be given");
    const bad = await fleet({ devices: "pi-1;reboot" });
    expect(bad.err).toContain("not a host name or address");
  });
});
