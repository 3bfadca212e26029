import { readFileSync } from "node:fs";
import {
  and,
  CommandTimeoutError,
  ConnectError,
  ConnectionLostError,
  cmd,
  connect,
  deadPeerBoundMs,
  HostKeyError,
  inDir,
  RemoteCommandError,
  redirect,
} from "@smoker/remote";
import { hostileStrings } from "@smoker/remote/testing";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { labCommand } from "../lab/lab.js";
import { acceptedLogins, host, lab, options, sampleCmdlines, withRemote } from "./support.js";

const MARKER = "/tmp/smoker-marker-should-not-exist";

afterAll(async () => {
  // Whatever a failed test left switched, the next file gets a working lab.
  labCommand(["heal", "prod-cloud"]);
  labCommand(["accept", "prod-cloud"]);
});

describe("a pinned host key", () => {
  test("connects with the fingerprint and with the known_hosts line, and runs on that host's engine", async () => {
    const h = host("dev-cloud");
    for (const hostKeys of [{ fingerprints: [h.fingerprint] }, { knownHosts: h.knownHostsLine }]) {
      const remote = await connect(options(h, { hostKeys }));
      try {
        expect(remote.fingerprint).toBe(h.fingerprint);
        const out = await remote.run(
          cmd("docker", "info", "--format", "{{.Name}} {{.DockerRootDir}}"),
        );
        // The engine answering is this host's own (its own data root under the lab dir).
        expect(out.stdout).toContain(`${lab().dir}/hosts/${h.name}/`);
      } finally {
        remote.close();
      }
    }
  });

  test("every command of a run goes over one connection", async () => {
    const seen = await withRemote(host("smoker-pi"), async (r) => {
      const peers: string[] = [];
      for (let i = 0; i < 5; i++)
        peers.push((await r.run(cmd("printenv", "SSH_CONNECTION"))).stdout);
      return peers;
    });
    expect(new Set(seen).size).toBe(1);
  });
});

describe("a key that does not match fails before login, and nothing runs", () => {
  const other = () => host("prod-cloud");

  test.each([
    ["another host's fingerprint", () => ({ fingerprints: [other().fingerprint] }), "mismatch"],
    [
      "another host's key in known_hosts",
      () => ({ knownHosts: other().knownHostsLine.replace(other().ip, host().ip) }),
      "mismatch",
    ],
    ["known_hosts without this host", () => ({ knownHosts: other().knownHostsLine }), "unknown"],
  ])("%s", async (_name, policy, reason) => {
    const h = host("dev-cloud");
    const before = acceptedLogins(h);
    const attempt = connect(options(h, { hostKeys: policy() })).then((r) =>
      r.run(cmd("touch", MARKER)),
    );
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyError);
    expect((error as HostKeyError).reason).toBe(reason);
    // The message names the key the host presented, so a user can check and pin it.
    expect((error as Error).message).toContain(h.fingerprint);
    expect(acceptedLogins(h)).toBe(before);
    const exists = await withRemote(h, (r) => r.tryRun(cmd("test", "-e", MARKER)));
    expect(exists.code).toBe(1);
  });

  test("a rotated host key is refused until it is pinned again", async () => {
    const old = host("smoker-pi");
    expect(labCommand(["rotate-key", "smoker-pi"]).status).toBe(0);
    const rotated = host("smoker-pi");
    expect(rotated.fingerprint).not.toBe(old.fingerprint);
    const before = acceptedLogins(rotated);
    const error = await connect(
      options(rotated, { hostKeys: { knownHosts: old.knownHostsLine } }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyError);
    expect((error as Error).message).toMatch(/changed/i);
    expect((error as Error).message).toContain(rotated.fingerprint);
    expect(acceptedLogins(rotated)).toBe(before);
    const ok = await withRemote(rotated, (r) => r.run(cmd("true")));
    expect(ok.code).toBe(0);
  });

  test("skipping the check is explicit and warned on every connect", async () => {
    const h = host("dev-cloud");
    const warnings: string[] = [];
    const log = { info() {}, debug() {}, warn: (m: string) => warnings.push(m) };
    for (let i = 0; i < 2; i++) {
      const r = await connect(options(h, { hostKeys: "insecure-skip", log }));
      r.close();
    }
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/DISABLED/);
    expect(warnings[0]).toContain(h.fingerprint);
  });
});

describe("failures are failures", () => {
  afterEach(() => {
    labCommand(["heal", "prod-cloud"]);
    labCommand(["accept", "prod-cloud"]);
  });

  test("a partitioned host fails within the keepalive bound instead of hanging", async () => {
    const h = host("prod-cloud");
    const keepalive = { keepaliveIntervalMs: 1_000, keepaliveCountMax: 2 };
    const remote = await connect(options(h, keepalive));
    const running = remote.run(cmd("sleep", "60")).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 500));
    const cut = Date.now();
    expect(labCommand(["partition", "prod-cloud"]).status).toBe(0);
    const error = await running;
    const took = Date.now() - cut;
    remote.close();
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(took).toBeLessThan(deadPeerBoundMs(keepalive) + 2_000);
    // Connecting to the partitioned host fails at the connect timeout, not later.
    const started = Date.now();
    const refused = await connect(options(h, { connectTimeoutMs: 2_000 })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).reason).toBe("unreachable");
    expect(Date.now() - started).toBeLessThan(2_000 + 2_000);
  });

  test("a port that hangs up without speaking SSH is 'not-ssh', not a timeout", async () => {
    const { createServer } = await import("node:net");
    const server = createServer((socket) => socket.destroy()).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const { port } = server.address() as { port: number };
    try {
      const error = await connect({
        ...options(host("dev-cloud")),
        host: "127.0.0.1",
        port,
        connectTimeoutMs: 10_000,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).reason).toBe("not-ssh");
      expect((error as Error).message).toMatch(/closed the connection before the SSH handshake/);
      expect((error as Error).message).not.toMatch(/did not answer/);
    } finally {
      server.close();
    }
  });

  test("a host whose sshd is stopped is refused at once, with a hint", async () => {
    expect(labCommand(["refuse", "prod-cloud"]).status).toBe(0);
    const error = await connect(options(host("prod-cloud"))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toMatch(/refused/);
    expect((error as ConnectError).reason).toBe("unreachable");
    expect((error as ConnectError).hint).toMatch(/sshd/);
  });

  test("non-zero exits throw with stderr; a missing directory is an error, not $HOME", async () => {
    await withRemote(host("dev-cloud"), async (r) => {
      const failed = await r.run(cmd("sh", "-c", "echo boom >&2; exit 3")).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(RemoteCommandError);
      expect((failed as RemoteCommandError).code).toBe(3);
      expect((failed as Error).message).toContain("boom");
      const name = `smoker-cwd-${process.pid}`;
      const inMissing = await r.tryRun(inDir("/nonexistent/dir", cmd("touch", name)));
      expect(inMissing.code).not.toBe(0);
      expect((await r.tryRun(cmd("test", "-e", `/root/${name}`))).code).toBe(1);
    });
  });

  test("a command past its timeout is stopped", async () => {
    await withRemote(host("dev-cloud"), async (r) => {
      const error = await r.run(cmd("sleep", "30"), { timeoutMs: 500 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandTimeoutError);
      // The connection is still usable afterwards.
      expect((await r.run(cmd("echo", "still here"))).stdout).toBe("still here\n");
    });
  });

  test("a passphrase-protected key needs its passphrase", async () => {
    const h = host("dev-cloud");
    const key = readFileSync(lab().clientKeyPassphraseProtected, "utf8");
    const passphrase = readFileSync(lab().passphraseFile, "utf8").trim();
    const missing = await connect(options(h, { privateKey: key })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConnectError);
    expect((missing as ConnectError).hint).toMatch(/passphrase/);
    const r = await connect(options(h, { privateKey: key, passphrase }));
    expect((await r.run(cmd("echo", "ok"))).stdout).toBe("ok\n");
    r.close();
  });
});

describe("values and secrets", () => {
  test("hostile strings round-trip through the remote shell unchanged, and nothing they say runs", async () => {
    const values = hostileStrings();
    await withRemote(host("smoker-pi"), async (r) => {
      await r.tryRun(cmd("rm", "-f", "/tmp/pwn"));
      const out = await r.run(cmd("printf", "%s\\0", ...values));
      expect(out.stdout.split("\0").slice(0, -1)).toEqual(values);
      // Each value as the sole argument of its own command too (covers leading '-' as argv[1]).
      for (const v of values) {
        const one = await r.run(and(cmd("printf", "%s", "<"), cmd("printf", "%s>", v)));
        expect(one.stdout).toBe(`<${v}>`);
      }
      expect((await r.tryRun(cmd("test", "-e", "/tmp/pwn"))).code).toBe(1);
    });
  });

  test("secrets reach the host on stdin and in 0600 files, never in any process's argv", async () => {
    const secret = `s3cr3t-${process.pid}-${Date.now()}`;
    const samples = sampleCmdlines();
    await withRemote(host("dev-cloud"), async (r) => {
      await r.run(cmd("mkdir", "-p", "/opt/secret-test"));
      // Existing file with a loose mode: the write replaces it with an exact 0600 file.
      await r.run(redirect(cmd("echo", "old"), { stdout: "/opt/secret-test/.env" }));
      await r.run(cmd("chmod", "0644", "/opt/secret-test/.env"));
      await r.writeFile("/opt/secret-test/.env", `TOKEN=${secret}\n`);
      const stat = await r.run(cmd("stat", "-c", "%a %s", "/opt/secret-test/.env"));
      expect(stat.stdout.trim()).toBe(`600 ${`TOKEN=${secret}\n`.length}`);
      expect((await r.readFile("/opt/secret-test/.env")).toString()).toBe(`TOKEN=${secret}\n`);
      // Through stdin, slowly consumed so the sampler has time to look.
      const echoed = await r.run(cmd("sh", "-c", "sleep 1; cat"), { stdin: secret });
      expect(echoed.stdout).toBe(secret);
      // The file is on this host's /opt only (mount namespaces are per host).
      const elsewhere = await withRemote(host("prod-cloud"), (p) =>
        p.tryRun(cmd("test", "-e", "/opt/secret-test/.env")),
      );
      expect(elsewhere.code).toBe(1);
      await r.run(cmd("rm", "-rf", "/opt/secret-test"));
    });
    const seen = await samples.stop();
    expect(seen.count).toBeGreaterThan(10);
    expect(seen.text).not.toContain(secret);
  });
});

test("a policy with no key at all fails before any packet is sent", async () => {
  const h = host("dev-cloud");
  const before = acceptedLogins(h);
  const error = await connect(options(h, { hostKeys: { knownHosts: "" } })).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  expect((error as Error).message).toMatch(/No host key to verify/);
  expect(acceptedLogins(h)).toBe(before);
});
