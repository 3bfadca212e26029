// Pins the exact requests (method, path, encoded body) the client sends for each operation,
// against a recording HTTPS server that answers like a node with a few guests.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { ProxmoxClient } from "./client.js";
import { applyGuest, planGuests } from "./guests.js";
import { backupGuest, rollbackSnapshot, takeSnapshot } from "./snapshots.js";
import { parseGuestsSpec } from "./spec.js";
import {
  type Certificate,
  ok,
  type Recorded,
  type RecordingServer,
  type Reply,
  selfSigned,
  startRecordingServer,
  upid,
} from "./testing.js";

const KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAxe+EeWpbavyYBhPd5Y5YDYdTMCDFADucPUb6se87gA deploy@smoker";

type Config = Record<string, string | number>;
interface Guest {
  type: "lxc" | "qemu";
  status: string;
  template?: boolean;
  config: Config;
  snapshots?: Array<{ name: string; snaptime: number; parent?: string }>;
}

/** Just enough of a node to answer what the operations ask; every task ends OK. */
function fakeNode(guests: Map<number, Guest>) {
  let tasks = 0;
  const task = (type: string, id: number | string): Reply => ok(upid(type, id, ++tasks));
  return (r: Recorded): Reply => {
    const p = r.path;
    const body = Object.fromEntries(new URLSearchParams(r.body));
    const list = /^\/nodes\/pve\/(lxc|qemu)$/.exec(p);
    if (r.method === "GET" && list) {
      return ok(
        [...guests]
          .filter(([, g]) => g.type === list[1])
          .map(([vmid, g]) => ({
            vmid,
            name: g.config.name ?? g.config.hostname,
            status: g.status,
            template: g.template ? 1 : 0,
          })),
      );
    }
    if (/\/tasks\/.*\/status$/.test(p)) return ok({ status: "stopped", exitstatus: "OK" });
    const m = /^\/nodes\/pve\/(lxc|qemu)\/(\d+)\/(.*)$/.exec(p);
    if (m) {
      const vmid = Number(m[2]);
      const rest = m[3]!;
      const g = guests.get(vmid);
      if (r.method === "GET" && rest === "config") return ok(g!.config);
      if (r.method === "GET" && rest === "status/current") return ok({ status: g!.status, vmid });
      if (r.method === "GET" && rest === "snapshot")
        return ok([...(g!.snapshots ?? []), { name: "current" }]);
      if (r.method === "POST" && rest === "clone") {
        const t = guests.get(vmid)!;
        guests.set(Number(body.newid), {
          type: t.type,
          status: "stopped",
          config: { ...t.config, name: body.name ?? "", template: 0 },
        });
        return task("qmclone", vmid);
      }
      if (r.method === "POST" && rest === "status/start") {
        g!.status = "running";
        return task("qmstart", vmid);
      }
      if (r.method === "PUT" && rest === "config") {
        Object.assign(g!.config, body);
        return ok(null);
      }
      if (r.method === "PUT" && rest === "resize") return task("resize", vmid);
      if (r.method === "POST" && rest === "snapshot") return task("vzsnapshot", vmid);
      if (r.method === "DELETE" && rest.startsWith("snapshot/")) return task("vzdelsnapshot", vmid);
      if (r.method === "POST" && rest.endsWith("/rollback")) {
        g!.status = "stopped";
        return task("vzrollback", vmid);
      }
    }
    if (r.method === "POST" && p === "/nodes/pve/lxc") {
      guests.set(Number(body.vmid), {
        type: "lxc",
        status: "stopped",
        config: {
          hostname: body.hostname!,
          cores: Number(body.cores),
          memory: Number(body.memory),
          net0: `${body.net0},hwaddr=BC:24:11:00:00:01,type=veth`,
          rootfs: `local-lvm:vm-${body.vmid}-disk-0,size=${body.rootfs!.split(":")[1]}G`,
          onboot: Number(body.onboot),
          tags: body.tags!,
        },
      });
      return task("vzcreate", body.vmid!);
    }
    if (r.method === "POST" && p === "/nodes/pve/vzdump") return task("vzdump", body.vmid!);
    if (r.method === "GET" && p === "/nodes/pve/storage/local/content") {
      return ok([
        {
          volid: "local:backup/vzdump-lxc-104-2020_01_01-00_00_00.tar.zst",
          vmid: 104,
          ctime: 1577836800,
        },
        {
          volid: "local:backup/vzdump-lxc-104-now.tar.zst",
          vmid: 104,
          ctime: Math.floor(Date.now() / 1000),
        },
      ]);
    }
    return {
      status: 501,
      body: { data: null, message: `Method '${r.method} ${p}' not implemented` },
    };
  };
}

let certificate: Certificate;
let server: RecordingServer;
let client: ProxmoxClient;
let guests: Map<number, Guest>;

beforeAll(async () => {
  certificate = await selfSigned();
  server = await startRecordingServer(certificate, (r) => fakeNode(guests)(r));
  client = new ProxmoxClient({
    apiUrl: server.url,
    tokenId: "deploy@pve!ci",
    tokenSecret: "s",
    trust: { kind: "fingerprint", fingerprints: [server.fingerprint] },
    retries: 0,
  });
});
afterAll(async () => {
  await client.close();
  await server.close();
});
afterEach(() => {
  server.requests.length = 0;
});

/** The requests that change something, as "METHOD path body". */
const mutating = () =>
  server.requests
    .filter((r) => r.method !== "GET")
    .map((r) => `${r.method} ${r.path} ${r.body}`.trim());
const quiet = { log: () => {}, task: { pollMs: 1 } };

describe("apply", () => {
  test("creates an lxc guest from an OS template, then starts it", async () => {
    guests = new Map();
    const spec = parseGuestsSpec(`
guests:
  - name: github-runner
    vmid: 103
    type: lxc
    ostemplate: local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst
    storage: local-lvm
    cores: 2
    memory: 2048
    disk: 16G
    network: { bridge: vmbr0, ip: 10.20.0.103/24, gateway: 10.20.0.1 }
    ssh-keys: ["${KEY}"]
    tags: [smoker, ci]
    start-on-boot: true
`).guests;
    const plan = await planGuests(client, "pve", spec);
    expect(plan.guests[0]!.changes.map((c) => c.action)).toEqual(["create", "start"]);
    expect(mutating()).toEqual([]);
    await applyGuest(client, "pve", plan.guests[0]!, quiet);
    expect(mutating()).toEqual([
      "POST /nodes/pve/lxc vmid=103&ostemplate=local%3Avztmpl%2Fdebian-12-standard_12.7-1_amd64.tar.zst" +
        "&hostname=github-runner&cores=2&memory=2048&rootfs=local-lvm%3A16" +
        "&net0=name%3Deth0%2Cbridge%3Dvmbr0%2Cip%3D10.20.0.103%2F24%2Cgw%3D10.20.0.1" +
        "&onboot=1&unprivileged=1&start=0&tags=ci%3Bsmoker" +
        "&ssh-public-keys=ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIAxe%2BEeWpbavyYBhPd5Y5YDYdTMCDFADucPUb6se87gA%20deploy%40smoker",
      "POST /nodes/pve/lxc/103/status/start",
    ]);
  });

  test("clones a qemu template, sets its config (sshkeys encoded twice on the wire), grows its disk, starts it", async () => {
    guests = new Map<number, Guest>([
      [
        9000,
        {
          type: "qemu",
          status: "stopped",
          template: true,
          config: {
            name: "debian-12-cloud",
            template: 1,
            cores: 1,
            memory: "512",
            net0: "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0",
            scsi0: "local-lvm:base-9000-disk-0,size=2G",
            ide2: "local-lvm:vm-9000-cloudinit,media=cdrom",
            boot: "order=scsi0",
            agent: "1",
          },
        },
      ],
      [120, { type: "lxc", status: "running", config: { hostname: "hand-made" } }],
    ]);
    const spec = parseGuestsSpec(`
guests:
  - name: smoker-vm
    vmid: 9001
    type: qemu
    template: 9000
    cores: 4
    memory: 1024
    disk: 8G
    network: { bridge: vmbr0, ip: 10.20.0.91/24, gateway: 10.20.0.1 }
    ssh-keys: ["${KEY}"]
    tags: [smoker]
    start-on-boot: true
`).guests;
    const plan = await planGuests(client, "pve", spec);
    expect(plan.unmanaged.map((g) => g.vmid)).toEqual([120]);
    expect(
      plan.guests[0]!.changes.map((c) => `${c.action} ${c.key ?? ""} ${c.from} -> ${c.to}`),
    ).toEqual([
      "clone  9000 -> 9001",
      "config cores 1 -> 4",
      "config memory 512 -> 1024",
      "config ipconfig0 - -> ip=10.20.0.91/24,gw=10.20.0.1",
      "config sshkeys - -> 1 key(s)",
      "config tags - -> smoker",
      "config onboot 0 -> 1",
      "resize scsi0 2G -> 8G",
      "start  stopped -> running",
    ]);
    expect(mutating()).toEqual([]);
    const made = await applyGuest(client, "pve", plan.guests[0]!, quiet);
    expect(made).toHaveLength(9);
    expect(mutating()).toEqual([
      "POST /nodes/pve/qemu/9000/clone newid=9001&name=smoker-vm",
      "PUT /nodes/pve/qemu/9001/config cores=4&memory=1024&ipconfig0=ip%3D10.20.0.91%2F24%2Cgw%3D10.20.0.1" +
        "&sshkeys=ssh-ed25519%2520AAAAC3NzaC1lZDI1NTE5AAAAIAxe%252BEeWpbavyYBhPd5Y5YDYdTMCDFADucPUb6se87gA%2520deploy%2540smoker" +
        "&tags=smoker&onboot=1",
      "PUT /nodes/pve/qemu/9001/resize disk=scsi0&size=8G",
      "POST /nodes/pve/qemu/9001/status/start",
    ]);
    // The guest the spec does not name was not touched.
    expect(server.requests.some((r) => r.path.includes("/120"))).toBe(false);
  });

  test("corrects drift of an existing guest and never shrinks its disk", async () => {
    guests = new Map([
      [
        104,
        {
          type: "lxc",
          status: "running",
          config: {
            hostname: "dev-cloud",
            cores: 1,
            memory: 2048,
            net0: "name=eth0,bridge=vmbr1,gw=10.20.0.1,hwaddr=BC:24:11:00:00:04,ip=10.20.0.104/24,type=veth",
            rootfs: "local-lvm:vm-104-disk-0,size=32G",
            onboot: 1,
            tags: "smoker;dev",
          },
        },
      ],
    ]);
    const spec = parseGuestsSpec(`
guests:
  - { name: dev-cloud, vmid: 104, type: lxc, ostemplate: "local:vztmpl/d.tar.zst", cores: 2, memory: 2048, disk: 20G, network: { ip: 10.20.0.104/24, gateway: 10.20.0.1 }, tags: [dev, smoker], start-on-boot: true }
`).guests;
    const plan = await planGuests(client, "pve", spec);
    expect(plan.guests[0]!.notes).toEqual([
      "dev-cloud: rootfs is 32G, more than the spec's 20G; disks are never shrunk",
    ]);
    await applyGuest(client, "pve", plan.guests[0]!, quiet);
    expect(mutating()).toEqual([
      "PUT /nodes/pve/lxc/104/config cores=2&net0=name%3Deth0%2Cbridge%3Dvmbr0%2Cgw%3D10.20.0.1%2Chwaddr%3DBC%3A24%3A11%3A00%3A00%3A04%2Cip%3D10.20.0.104%2F24%2Ctype%3Dveth",
    ]);
    server.requests.length = 0;
    const again = await planGuests(client, "pve", spec);
    expect(again.guests[0]!.changes).toEqual([]);
  });
});

describe("snapshots and backups", () => {
  const ct = { name: "dev-cloud", vmid: 104, type: "lxc" as const };

  test("snapshot, then only our oldest beyond keep are removed", async () => {
    guests = new Map([
      [
        104,
        {
          type: "lxc",
          status: "running",
          config: {},
          snapshots: [
            { name: "pre-deploy-1-0-0", snaptime: 100 },
            { name: "before-upgrade", snaptime: 50 },
            { name: "pre-deploy-1-1-0", snaptime: 200 },
            { name: "pre-deploy-1-2-0", snaptime: 300 },
          ],
        },
      ],
    ]);
    const result = await takeSnapshot(client, "pve", ct, "pre-deploy-1-4-0", {
      keep: 2,
      description: "smoker: before 1.4.0",
      ...quiet,
    });
    // The fake does not add the new snapshot, so keep 2 leaves 1.2.0 and 1.1.0.
    expect(result).toEqual({ created: true, removed: ["pre-deploy-1-0-0"] });
    expect(mutating()).toEqual([
      "POST /nodes/pve/lxc/104/snapshot snapname=pre-deploy-1-4-0&description=smoker%3A%20before%201.4.0",
      "DELETE /nodes/pve/lxc/104/snapshot/pre-deploy-1-0-0",
    ]);
  });

  test("snapshots taken within one second are ordered by their parents", async () => {
    guests = new Map([
      [
        104,
        {
          type: "lxc",
          status: "running",
          config: {},
          // Listed in no particular order, all with the same snaptime (it has whole seconds).
          snapshots: [
            { name: "pre-deploy-1-2-0", snaptime: 500, parent: "pre-deploy-1-1-0" },
            { name: "pre-deploy-1-0-0", snaptime: 500 },
            { name: "pre-deploy-1-1-0", snaptime: 500, parent: "pre-deploy-1-0-0" },
          ],
        },
      ],
    ]);
    const result = await takeSnapshot(client, "pve", ct, "pre-deploy-1-2-0", {
      keep: 2,
      description: "smoker: before 1.2.0",
      ...quiet,
    });
    expect(result).toEqual({ created: false, removed: ["pre-deploy-1-0-0"] });
  });

  test("rollback, and a guest that was running is started again", async () => {
    guests = new Map([
      [
        104,
        {
          type: "lxc",
          status: "running",
          config: {},
          snapshots: [{ name: "pre-deploy-1-4-0", snaptime: 1 }],
        },
      ],
    ]);
    await rollbackSnapshot(client, "pve", ct, "pre-deploy-1-4-0", quiet);
    expect(mutating()).toEqual([
      "POST /nodes/pve/lxc/104/snapshot/pre-deploy-1-4-0/rollback",
      "POST /nodes/pve/lxc/104/status/start",
    ]);
  });

  test("rollback to a snapshot the guest lacks fails before any change", async () => {
    guests = new Map([[104, { type: "lxc", status: "running", config: {}, snapshots: [] }]]);
    await expect(rollbackSnapshot(client, "pve", ct, "pre-deploy-9", quiet)).rejects.toThrow(
      "dev-cloud (104) has no snapshot pre-deploy-9 (it has: none)",
    );
    expect(mutating()).toEqual([]);
  });

  test("vzdump, then the new volume id from the storage", async () => {
    guests = new Map([[104, { type: "lxc", status: "running", config: {} }]]);
    const volid = await backupGuest(client, "pve", ct, {
      storage: "local",
      mode: "snapshot",
      ...quiet,
    });
    expect(volid).toBe("local:backup/vzdump-lxc-104-now.tar.zst");
    expect(mutating()).toEqual([
      "POST /nodes/pve/vzdump vmid=104&storage=local&mode=snapshot&compress=zstd",
    ]);
    expect(server.requests.at(-1)).toMatchObject({
      path: "/nodes/pve/storage/local/content",
      query: "content=backup&vmid=104",
    });
  });
});
