// Proves that `lab.sh down` leaves nothing behind: no process, namespace, link or mount.
// It brings up its own small lab (no registry, no images) beside the default one.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Lab, LabHost } from "./lab.js";
import { labCommand, labHost, loadLab } from "./lab.js";

const DIR = "/tmp/smoker-lab-downtest";
const ENV = {
  LAB_DIR: DIR,
  LAB_NAME: "labt",
  LAB_NET: "232",
  LAB_HOSTS: "t1 t2",
  LAB_IMAGES: "0",
};

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function ssh(lab: Lab, host: LabHost, command: string): Run {
  const result = spawnSync(
    "ssh",
    [
      "-F",
      "/dev/null",
      "-i",
      lab.clientKey,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${lab.knownHostsFile}`,
      "-o",
      "ConnectTimeout=5",
      "-p",
      String(host.port),
      `${host.user}@${host.ip}`,
      command,
    ],
    { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] },
  );
  return { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 30_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
  }
  return result.stdout;
}

function allPids(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return undefined;
  }
}

/** Running: there and not a zombie. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** This process and its ancestors: their command lines are not the lab's business. */
function ownLineage(): Set<number> {
  const pids = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !pids.has(pid)) {
    pids.add(pid);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  }
  return pids;
}

/** Running processes whose command line mentions the lab dir. */
function processesMentioningDir(): { pid: number; cmd: string }[] {
  const own = ownLineage();
  const found: { pid: number; cmd: string }[] = [];
  for (const pid of allPids()) {
    const cmd = cmdline(pid);
    if (!own.has(pid) && cmd?.includes(DIR) && isRunning(pid)) found.push({ pid, cmd });
  }
  return found;
}

/** Running processes inside a network namespace named by `ip netns`. */
function processesInNetns(netns: string): number[] {
  const inode = statSync(`/run/netns/${netns}`).ino;
  return allPids().filter((pid) => {
    try {
      return statSync(`/proc/${pid}/ns/net`).ino === inode && isRunning(pid);
    } catch {
      return false;
    }
  });
}

describe("lab.sh up/down (own lab: labt, 10.232.0.0/24, LAB_IMAGES=0)", () => {
  let lab: Lab;

  beforeAll(() => {
    // A run that died half-way may have left a lab behind.
    const clean = labCommand(["down"], ENV);
    expect(clean.status, clean.stderr).toBe(0);
    const up = labCommand(["up"], ENV);
    expect(up.status, `${up.stdout}\n${up.stderr}`).toBe(0);
    lab = loadLab(DIR);
  }, 300_000);

  afterAll(() => {
    labCommand(["down"], ENV);
  }, 300_000);

  it("writes lab.json for its two hosts, without registry or images", () => {
    expect(lab.name).toBe("labt");
    expect(lab.dir).toBe(DIR);
    expect(lab.gateway).toBe("10.232.0.1");
    expect(lab.registry).toBeNull();
    expect(lab.images).toEqual({});
    expect(lab.hosts.map((h) => [h.name, h.ip, h.netns])).toEqual([
      ["t1", "10.232.0.11", "labt-t1"],
      ["t2", "10.232.0.12", "labt-t2"],
    ]);
    for (const host of lab.hosts) {
      expect(host.knownHostsLine).toMatch(/^10\.232\.0\.1[12] ssh-ed25519 AAAA\S+$/);
      expect(host.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(readFileSync(lab.knownHostsFile, "utf8")).toContain(host.knownHostsLine);
    }
  });

  it("reports every component up", () => {
    const status = labCommand(["status"], ENV);
    expect(status.status, status.stdout).toBe(0);
    for (const line of ["bridge labt", "t1 netns", "t1 dockerd", "t1 sshd", "t2 sshd"]) {
      expect(status.stdout).toMatch(new RegExp(`^${line}\\s+up`, "m"));
    }
  });

  it("lets each host's engine be reached over ssh, with the host key checked", () => {
    for (const host of lab.hosts) {
      const info = ssh(lab, host, "docker info --format '{{.ServerVersion}} {{.DockerRootDir}}'");
      expect(info.status, info.stderr).toBe(0);
      const [version, rootDir] = info.stdout.trim().split(" ");
      expect(version).toMatch(/^\d+\.\d+\.\d+/);
      // The session's engine is this host's own, not another host's.
      expect(rootDir).toBe(join(DIR, "hosts", host.name, "data"));
      expect(ssh(lab, host, "hostname").stdout.trim()).toBe(host.name);
    }
  });

  it("gives each host its own /opt", () => {
    const [t1, t2] = [labHost(lab, "t1"), labHost(lab, "t2")];
    const probe = `probe-${process.pid}-${Date.now()}`;
    expect(ssh(lab, t1, `echo hello > /opt/${probe}`).status).toBe(0);
    expect(ssh(lab, t1, `cat /opt/${probe}`).stdout).toBe("hello\n");
    expect(ssh(lab, t2, `test -e /opt/${probe}`).status).toBe(1);
    expect(readFileSync(join(t1.optDir, probe), "utf8")).toBe("hello\n");
    expect(existsSync(join(t2.optDir, probe))).toBe(false);
  });

  it("leaves nothing behind after down, even with a container running", async () => {
    const t1 = labHost(lab, "t1");
    // A container with a published port: a containerd shim and a docker-proxy must go too.
    // Its image is busybox from the host's own /opt (no registry in this lab).
    const started = ssh(
      lab,
      t1,
      [
        "set -e",
        "mkdir -p /opt/rootfs/bin",
        "cp /bin/busybox /opt/rootfs/bin/",
        "for a in sh httpd; do ln -sf busybox /opt/rootfs/bin/$a; done",
        "tar -C /opt/rootfs -c . | docker import - probe:1 >/dev/null",
        "docker run -d -p 18080:8080 probe:1 httpd -f -p 8080 >/dev/null",
        "docker ps -q | xargs docker inspect --format '{{.State.Pid}}'",
      ].join("\n"),
    );
    expect(started.status, started.stderr).toBe(0);
    const containerPid = Number(started.stdout.trim());
    expect(isRunning(containerPid)).toBe(true);
    // The published port answers from the root namespace (busybox httpd: 404 for /).
    const response = await fetch(`http://${t1.ip}:18080/`, { signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(404);

    // Everything that is the lab's now, to check after down.
    const recorded = labCommand(["pids"], ENV)
      .stdout.trim()
      .split("\n")
      .map((line) => Number(line.split(" ")[1]));
    expect(recorded.length).toBe(4); // t1 and t2: dockerd and sshd (no registry or builder)
    const before = new Map<number, string | undefined>();
    const inNetns = lab.hosts.flatMap((h) => processesInNetns(h.netns));
    const mentioning = processesMentioningDir().map((p) => p.pid);
    for (const pid of [...recorded, ...inNetns, ...mentioning, containerPid]) {
      before.set(pid, cmdline(pid));
    }
    expect([...before.values()].some((cmd) => cmd?.includes("containerd-shim"))).toBe(true);
    expect([...before.values()].some((cmd) => cmd?.includes("docker-proxy"))).toBe(true);

    const down = labCommand(["down"], ENV);
    expect(down.status, `${down.stdout}\n${down.stderr}`).toBe(0);

    // No process seen before survives (same pid and same command line: not a reused pid).
    const survivors = [...before].filter(([pid, cmd]) => isRunning(pid) && cmdline(pid) === cmd);
    expect(survivors).toEqual([]);
    expect(processesMentioningDir()).toEqual([]);
    expect(
      run("ip", ["netns", "list"])
        .split("\n")
        .filter((line) => line.startsWith("labt-")),
    ).toEqual([]);
    const links = run("ip", ["-o", "link"])
      .split("\n")
      .map((line) => line.split(": ")[1]?.split("@")[0] ?? "")
      .filter((name) => name === "labt" || /^vlabth\d+p?$/.test(name));
    expect(links).toEqual([]);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((line) => line.split(" ")[4] ?? "")
      .filter((point) => point === DIR || point.startsWith(`${DIR}/`));
    expect(mounts).toEqual([]);
    expect(existsSync(DIR)).toBe(false);
    expect(labCommand(["status"], ENV).status).toBe(3);
  });

  it("takes a second down in its stride", () => {
    const again = labCommand(["down"], ENV);
    expect(again.status, again.stderr).toBe(0);
  });
});
