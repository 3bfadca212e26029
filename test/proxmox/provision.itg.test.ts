// provision-proxmox, bundled and run as a runner runs it, against the PVE simulator
// (test/proxmox/sim): plan, apply, a second apply, drift, a failed task, a wrong token, a wrong
// certificate, snapshots, rollback and backup. Guests get the spec's 10.20.0.0/24 addresses,
// which are not reachable from here, so apply waits for the address only (wait-for: address);
// e2e.itg.test.ts waits for SSH on a real lab host.
import { randomUUID, X509Certificate } from "node:crypto";
import { type ActionResult, assertNoSecrets } from "@smoker/action-kit/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT, runAction } from "../deploy/support.js";
import { type PveSimulator, type SimGuest, startPveSimulator } from "./sim/index.js";

const SECRET = randomUUID();
const AUDIT_SECRET = randomUUID();

/** A Debian cloud-init template as `qm template` leaves it. */
export const CLOUD_TEMPLATE: SimGuest = {
  vmid: 9000,
  type: "qemu",
  node: "pve",
  status: "stopped",
  template: true,
  config: {
    name: "debian-12-cloud",
    template: 1,
    cores: 1,
    memory: "512",
    ostype: "l26",
    scsihw: "virtio-scsi-pci",
    scsi0: "local-lvm:base-9000-disk-0,size=2G",
    ide2: "local-lvm:vm-9000-cloudinit,media=cdrom",
    boot: "order=scsi0",
    net0: "virtio=BC:24:11:9A:00:00,bridge=vmbr0",
    agent: "1",
  },
  snapshots: [],
};

/** A guest someone made by hand: the spec does not name it, so it must be left alone. */
const HAND_MADE: SimGuest = {
  vmid: 120,
  type: "lxc",
  node: "pve",
  status: "running",
  template: false,
  config: {
    hostname: "hand-made",
    arch: "amd64",
    ostype: "debian",
    cores: 1,
    memory: 512,
    rootfs: "local-lvm:vm-120-disk-0,size=4G",
    net0: "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:20,ip=dhcp,type=veth",
  },
  snapshots: [],
};

let sim: PveSimulator;
const results: Array<{ result: ActionResult; secret: string }> = [];

beforeAll(async () => {
  sim = await startPveSimulator({
    tokens: [
      { id: "deploy@pve!ci", secret: SECRET, privileges: "all" },
      { id: "audit@pve!ro", secret: AUDIT_SECRET, privileges: ["VM.Audit", "Sys.Audit"] },
    ],
    guests: [structuredClone(CLOUD_TEMPLATE), structuredClone(HAND_MADE)],
    taskMs: 60,
  });
});

afterAll(async () => {
  await sim?.close();
});

async function provision(extra: Record<string, string>): Promise<ActionResult> {
  const result = await runAction(
    "provision-proxmox",
    {
      "api-url": sim.url,
      "token-id": "deploy@pve!ci",
      "token-secret": SECRET,
      node: "pve",
      "tls-fingerprint": sim.fingerprint,
      "wait-for": "address",
      "wait-timeout": "20s",
      ...extra,
    },
    { GITHUB_WORKSPACE: ROOT },
  );
  results.push({ result, secret: extra["token-secret"] ?? SECRET });
  return result;
}

const mutating = () => sim.requests.filter((r) => r.method !== "GET");
const changesOf = (r: ActionResult) =>
  JSON.parse(r.outputs.changes ?? "null") as Array<{
    guest: string;
    vmid: number;
    action: string;
    key?: string;
    from?: string;
    to?: string;
  }>;

describe("provision-proxmox against the simulator", () => {
  test("plan shows every difference and changes nothing", async () => {
    sim.requests.length = 0;
    const r = await provision({ mode: "plan" });
    expect(r.failed, r.log).toBe(false);
    const summary = changesOf(r).map((c) => `${c.guest} ${c.action} ${c.key ?? ""}`.trim());
    expect(summary).toEqual([
      "github-runner create",
      "github-runner start",
      "dev-cloud create",
      "dev-cloud start",
      "prod-cloud create",
      "prod-cloud start",
      "smoker-vm clone",
      "smoker-vm config cores",
      "smoker-vm config memory",
      "smoker-vm config ipconfig0",
      "smoker-vm config sshkeys",
      "smoker-vm config tags",
      "smoker-vm config onboot",
      "smoker-vm resize scsi0",
      "smoker-vm start",
    ]);
    expect(r.log).toMatch(/smoker-vm\s+9001\s+config\s+memory\s+512\s+1024/);
    expect(r.log).toMatch(/smoker-vm\s+9001\s+resize\s+scsi0\s+2G\s+8G/);
    expect(r.log).toContain("Not in the spec, left alone: hand-made (lxc 120, running) on pve");
    expect(r.summary).toContain("15 change(s) would be made (nothing was changed).");
    expect(r.summary).toContain("<td>ipconfig0</td>");
    expect(JSON.parse(r.outputs.guests ?? "[]")).toContainEqual({
      vmid: 104,
      name: "dev-cloud",
      type: "lxc",
      status: "missing",
      ip: null,
    });
    expect(sim.requests.length).toBeGreaterThan(0);
    expect(mutating()).toEqual([]);
    expect([...sim.guests.keys()].sort()).toEqual([120, 9000]);
  });

  test("apply makes the four guests of the spec, and leaves the hand-made one alone", async () => {
    sim.requests.length = 0;
    const r = await provision({ mode: "apply" });
    expect(r.failed, r.log).toBe(false);
    const vm = sim.guests.get(9001)!;
    expect(vm).toMatchObject({ type: "qemu", status: "running" });
    expect(vm.config).toMatchObject({
      name: "smoker-vm",
      cores: 4,
      ipconfig0: "ip=10.20.0.91/24,gw=10.20.0.1",
      onboot: 1,
      tags: "device;smoker",
    });
    expect(String(vm.config.memory)).toBe("1024");
    expect(String(vm.config.scsi0)).toMatch(/size=8G/);
    expect(decodeURIComponent(String(vm.config.sshkeys))).toMatch(
      /^ssh-ed25519 AAAA\S+ deploy@smoker$/,
    );
    for (const [vmid, ip, cores] of [
      [103, "10.20.0.103/24", 2],
      [104, "10.20.0.104/24", 2],
      [106, "10.20.0.106/24", 4],
    ] as const) {
      const ct = sim.guests.get(vmid)!;
      expect(ct.status).toBe("running");
      expect(ct.config.cores).toBe(cores);
      expect(String(ct.config.net0)).toContain(`ip=${ip}`);
    }
    expect(JSON.parse(r.outputs.guests ?? "[]")).toEqual([
      { vmid: 103, name: "github-runner", type: "lxc", status: "running", ip: "10.20.0.103" },
      { vmid: 104, name: "dev-cloud", type: "lxc", status: "running", ip: "10.20.0.104" },
      { vmid: 106, name: "prod-cloud", type: "lxc", status: "running", ip: "10.20.0.106" },
      { vmid: 9001, name: "smoker-vm", type: "qemu", status: "running", ip: "10.20.0.91" },
    ]);
    expect(sim.guests.get(120)).toMatchObject({ status: "running", config: HAND_MADE.config });
    expect(mutating().filter((q) => q.path.includes("/120"))).toEqual([]);
    // Every request the simulator rejected would show here.
    expect(
      sim.requests.filter((q) => q.status >= 400).map((q) => `${q.method} ${q.path} ${q.status}`),
    ).toEqual([]);
  });

  test("a second apply changes nothing", async () => {
    sim.requests.length = 0;
    const r = await provision({ mode: "apply" });
    expect(r.failed, r.log).toBe(false);
    expect(changesOf(r)).toEqual([]);
    expect(r.log).toContain("Nothing to change: the node matches the spec");
    expect(mutating()).toEqual([]);
  });

  test("a drifted guest is corrected", async () => {
    const ct = sim.guests.get(106)!;
    ct.config.cores = 1;
    ct.config.tags = "smoker";
    sim.requests.length = 0;
    const r = await provision({ mode: "apply", guests: "prod-cloud" });
    expect(r.failed, r.log).toBe(false);
    expect(changesOf(r).map((c) => `${c.key} ${c.from} -> ${c.to}`)).toEqual([
      "cores 1 -> 4",
      "tags smoker -> prod;smoker",
    ]);
    expect(sim.guests.get(106)!.config).toMatchObject({ cores: 4, tags: "prod;smoker" });
    expect(mutating().map((q) => `${q.method} ${q.path} ${q.body}`)).toEqual([
      "PUT /nodes/pve/lxc/106/config cores=4&tags=prod%3Bsmoker",
    ]);
  });

  test("a task that fails fails the action with the task's log", async () => {
    sim.guests.get(104)!.status = "stopped";
    sim.failNextTask("vzstart", "startup for container '104' failed");
    const r = await provision({ mode: "apply", guests: "dev-cloud" });
    expect(r.failed).toBe(true);
    const error = r.annotations.find((a) => a.level === "error")?.message ?? "";
    expect(error).toContain("Converge dev-cloud (lxc 104) failed");
    expect(error).toContain(`ended with "startup for container '104' failed"`);
    expect(error).toContain("TASK ERROR: startup for container '104' failed");
    // It starts at the next apply.
    expect((await provision({ mode: "apply", guests: "dev-cloud" })).failed).toBe(false);
    expect(sim.guests.get(104)!.status).toBe("running");
  });

  test("a wrong token fails with a clear message", async () => {
    const r = await provision({ mode: "plan", "token-secret": randomUUID() });
    expect(r.failed).toBe(true);
    const error = r.annotations.find((a) => a.level === "error")?.message ?? "";
    expect(error).toMatch(/failed with HTTP 401/);
    expect(error).toContain("Check token-id (USER@REALM!TOKENID) and token-secret");
  });

  test("a token without the privilege gets a 403 naming it, before any change", async () => {
    sim.requests.length = 0;
    const r = await runAction(
      "provision-proxmox",
      {
        "api-url": sim.url,
        "token-id": "audit@pve!ro",
        "token-secret": AUDIT_SECRET,
        node: "pve",
        "tls-fingerprint": sim.fingerprint,
        mode: "snapshot",
        version: "2.0.0",
        guests: "dev-cloud",
      },
      { GITHUB_WORKSPACE: ROOT },
    );
    expect(r.failed).toBe(true);
    expect(r.annotations.find((a) => a.level === "error")?.message).toMatch(
      /HTTP 403: Permission check failed/,
    );
    assertNoSecrets(r, [AUDIT_SECRET]);
    expect(sim.guests.get(104)!.snapshots).toEqual([]);
  });

  test("a wrong TLS fingerprint fails before any request is sent", async () => {
    sim.requests.length = 0;
    const other = new X509Certificate(sim.certificate).fingerprint256.replace(/^../, (h) =>
      h === "00" ? "01" : "00",
    );
    const r = await provision({ mode: "plan", "tls-fingerprint": other });
    expect(r.failed).toBe(true);
    const error = r.annotations.find((a) => a.level === "error")?.message ?? "";
    expect(error).toContain(
      `has SHA-256 fingerprint ${sim.fingerprint}, not the pinned ${other}; no request was sent`,
    );
    expect(sim.requests).toEqual([]);
  });

  test("ca-certificate trusts the node too", async () => {
    const r = await provision({
      mode: "plan",
      "tls-fingerprint": "",
      "ca-certificate": sim.certificate,
    });
    expect(r.failed, r.log).toBe(false);
    expect(changesOf(r)).toEqual([]);
  });

  test("snapshot before a deploy, keep the newest of ours, roll back, back up", async () => {
    const ct = sim.guests.get(104)!;
    ct.snapshots.push({ name: "by-hand", snaptime: 1, description: "mine" });
    for (const version of ["1.0.0", "1.1.0", "1.2.0"]) {
      const r = await provision({
        mode: "snapshot",
        version,
        guests: "dev-cloud",
        "keep-snapshots": "2",
      });
      expect(r.failed, r.log).toBe(false);
      expect(r.outputs.snapshot).toBe(`pre-deploy-${version.replaceAll(".", "-")}`);
    }
    expect(ct.snapshots.map((s) => s.name).sort()).toEqual([
      "by-hand",
      "pre-deploy-1-1-0",
      "pre-deploy-1-2-0",
    ]);

    ct.config.memory = 4096;
    const back = await provision({
      mode: "rollback-snapshot",
      version: "1.2.0",
      guests: "dev-cloud",
    });
    expect(back.failed, back.log).toBe(false);
    expect(back.outputs.snapshot).toBe("pre-deploy-1-2-0");
    expect(ct.config.memory).toBe(2048);
    expect(ct.status).toBe("running");

    const backup = await provision({ mode: "backup", guests: "dev-cloud" });
    expect(backup.failed, backup.log).toBe(false);
    const [made] = JSON.parse(backup.outputs.backups ?? "[]") as Array<{
      vmid: number;
      volid: string;
    }>;
    expect(made).toMatchObject({
      vmid: 104,
      volid: expect.stringMatching(/^local:backup\/vzdump-lxc-104-.+/),
    });
  });

  test("the token secret appears in no log, output or summary", () => {
    expect(results.length).toBeGreaterThan(10);
    for (const { result, secret } of results) {
      assertNoSecrets(result, [SECRET, secret]);
      expect(result.masked).toContain(secret);
    }
  });
});
