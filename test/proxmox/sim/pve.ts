// The simulated node: guests, storages, snapshots, pending changes and the API methods that act
// on them. Behaviour and messages follow qemu-server src/PVE/API2/Qemu.pm, pve-container
// src/PVE/API2/LXC.pm, pve-guest-common src/PVE/AbstractConfig.pm and pve-manager's
// Cluster/Tasks/VZDump APIs as summarised in test/fixtures/proxmox/contract-facts.json; where
// this file approximates PVE, a comment says so.
import { createHash, randomBytes } from "node:crypto";
import type { SimGuest } from "./api.js";
import { splitList } from "./formats.js";
import {
  apiPaths,
  checkFormat,
  type Errors,
  type ParamValue,
  type PropSchema,
  propertyFor,
} from "./schema.js";
import { type Task, type TaskRunner, UPID_RE } from "./tasks.js";

/** An error answer: HTTP status, message (newline added on the wire), per-parameter errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Errors,
  ) {
    super(message);
  }
}

export const paramError = (errors: Errors) =>
  new ApiError(400, "Parameter verification failed.", errors);
const fail500 = (message: string) => new ApiError(500, message);

export interface Caller {
  /** "user@realm!token". */
  authid: string;
  has(priv: string): boolean;
}

export interface Call {
  params: Record<string, ParamValue>;
  caller: Caller;
}

interface Storage {
  storage: string;
  type: string;
  content: string[];
  shared: 0 | 1;
  path?: string;
  total: number;
  /** Volumes not owned by a guest config (templates, ISOs, backups). */
  volumes: Volume[];
}

interface Volume {
  volid: string;
  content: string;
  format: string;
  size: number;
  ctime: number;
  vmid?: number;
  subtype?: string;
  notes?: string;
}

export interface PveHooks {
  onStart?: (guest: SimGuest) => Promise<void>;
  onStop?: (guest: SimGuest) => Promise<void>;
  /** How long after a qemu guest starts its agent answers. */
  agentDelayMs: () => number;
}

const GiB = 1024 ** 3;
const str = (v: ParamValue | undefined) =>
  v === undefined || v === null ? undefined : typeof v === "boolean" ? (v ? "1" : "0") : String(v);
const isTrue = (v: ParamValue | undefined) => str(v) === "1";

/** PVE::JSONSchema::parse_size */
export function parseSize(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(value);
  if (!m) return undefined;
  const mult = { K: 1024, M: 1024 ** 2, G: GiB, T: 1024 ** 4 }[m[2] ?? ""] ?? 1;
  return Math.floor(Number(m[1]) * mult);
}

/** PVE::JSONSchema::format_size */
export function formatSize(size: number): string {
  let n = Math.floor(size);
  for (const unit of ["", "K", "M", "G"]) {
    if (n % 1024 !== 0) return `${n}${unit}`;
    n /= 1024;
  }
  return `${n}T`;
}

// qemu-server vmconfig_hotplug_pending: options applied to a running VM at once ("fast plug");
// with the default hotplug "network,disk,usb" also net/disk/usb keys. Everything else waits in
// the pending section until the next start.
const QEMU_FAST_PLUG = new Set([
  "description",
  "hookscript",
  "lock",
  "migrate_downtime",
  "migrate_speed",
  "name",
  "onboot",
  "protection",
  "shares",
  "startup",
  "tags",
  "vmstatestorage",
]);
const qemuHotplugged = (key: string) =>
  QEMU_FAST_PLUG.has(key) || /^(net|scsi|virtio|sata|usb|unused)\d+$/.test(key);
// pve-container: on a running CT these keys only take effect at the next start (approximation
// of PVE::LXC::Config vmconfig_hotplug_pending: CPU, memory, net and options are hot-applied).
const LXC_COLD = new Set(["hostname", "nameserver", "searchdomain", "features", "ostype", "arch"]);

/** The privilege PVE demands for changing a config key (check_vm_modify_config_perm). */
function configPriv(type: "lxc" | "qemu", key: string): string {
  if (/^(cores|sockets|vcpus|cpu|cpulimit|cpuunits|affinity|numa)$/.test(key)) {
    return "VM.Config.CPU";
  }
  if (/^(memory|balloon|shares|swap)$/.test(key)) return "VM.Config.Memory";
  if (/^net\d+$/.test(key)) return "VM.Config.Network";
  if (/^(rootfs|mp\d+|scsi\d+|virtio\d+|sata\d+|ide\d+|efidisk0|tpmstate0|unused\d+)$/.test(key)) {
    return "VM.Config.Disk";
  }
  if (
    type === "qemu" &&
    /^(ipconfig\d+|sshkeys|ciuser|cipassword|citype|cicustom|ciupgrade|searchdomain|nameserver)$/.test(
      key,
    )
  ) {
    return "VM.Config.Cloudinit";
  }
  if (type === "qemu" && /^(hostpci\d+|usb\d+|serial\d+|parallel\d+|vga|audio0|rng0)$/.test(key)) {
    return "VM.Config.HWType";
  }
  return "VM.Config.Options";
}

export class PveNode {
  readonly guests = new Map<number, SimGuest>();
  private readonly snapConfigs = new Map<string, Record<string, string | number>>();
  private readonly pending = new Map<number, { set: Record<string, string>; del: Set<string> }>();
  private readonly startedAt = new Map<number, number>();
  readonly storages: Storage[];

  constructor(
    readonly node: string,
    readonly tasks: TaskRunner,
    private readonly hooks: PveHooks,
    guests: SimGuest[],
    templates: string[],
  ) {
    const now = Math.floor(Date.now() / 1000);
    this.storages = [
      {
        storage: "local",
        type: "dir",
        content: ["backup", "iso", "vztmpl", "snippets", "import"],
        shared: 0,
        path: "/var/lib/vz",
        total: 100 * GiB,
        volumes: templates.map((volid) => ({
          volid,
          content: "vztmpl",
          format: volid.endsWith(".zst") ? "tzst" : "tgz",
          size: 120 * 1024 ** 2,
          ctime: now,
        })),
      },
      {
        storage: "local-lvm",
        type: "lvmthin",
        content: ["images", "rootdir"],
        shared: 0,
        total: 400 * GiB,
        volumes: [],
      },
    ];
    for (const g of guests) {
      const copy: SimGuest = structuredClone(g);
      if (copy.template) copy.config.template = 1;
      this.guests.set(g.vmid, copy);
      if (copy.status === "running") this.startedAt.set(g.vmid, Date.now() - 60_000);
    }
  }

  // ---------------------------------------------------------------- helpers

  private confPath(type: "lxc" | "qemu", vmid: number | string) {
    return `nodes/${this.node}/${type === "qemu" ? "qemu-server" : "lxc"}/${vmid}.conf`;
  }

  /** The guest of this type, or PVE's 500 for a missing config file. */
  guest(type: "lxc" | "qemu", vmidParam: ParamValue | undefined): SimGuest {
    const vmid = Number(str(vmidParam));
    const g = this.guests.get(vmid);
    if (!g || g.type !== type || g.node !== this.node) {
      throw fail500(`Configuration file '${this.confPath(type, vmid)}' does not exist`);
    }
    return g;
  }

  /** PVE::AbstractConfig::check_lock: "VM is locked (clone)" / "CT is locked (create)". */
  private checkLock(g: SimGuest): void {
    const lock = g.config.lock;
    if (lock !== undefined) {
      throw fail500(`${g.type === "qemu" ? "VM" : "CT"} is locked (${lock})`);
    }
  }

  /**
   * Hold a config lock for a task's run (snapshot, rollback, backup) as the worker does. A lock
   * somebody else holds is reported by `foreign`: PVE's worker fails with it.
   */
  private taskLock(g: SimGuest, lock: string) {
    const foreign = g.config.lock === undefined ? undefined : String(g.config.lock);
    if (foreign === undefined) g.config.lock = lock;
    return {
      check: () => {
        if (foreign !== undefined)
          throw new Error(`${g.type === "qemu" ? "VM" : "CT"} is locked (${foreign})`);
      },
      release: () => {
        if (foreign === undefined && g.config.lock === lock) delete g.config.lock;
      },
    };
  }

  /** PVE::Cluster::check_vmid_unused */
  private checkVmidUnused(vmid: number): void {
    const g = this.guests.get(vmid);
    if (g)
      throw fail500(
        `${g.type === "qemu" ? "VM" : "CT"} ${vmid} already exists on node '${g.node}'`,
      );
  }

  private requirePriv(caller: Caller, path: string, priv: string): void {
    if (!caller.has(priv)) throw new ApiError(403, `Permission check failed (${path}, ${priv})`);
  }

  private storage(id: string): Storage {
    const s = this.storages.find((x) => x.storage === id);
    if (!s) throw fail500(`storage '${id}' does not exist`);
    return s;
  }

  private configSchema(type: "lxc" | "qemu"): Record<string, PropSchema> {
    return apiPaths()[`/nodes/{node}/${type}/{vmid}/config`]!.GET!.returns!.properties!;
  }

  private updateSchema(type: "lxc" | "qemu"): Record<string, PropSchema> {
    return apiPaths()[`/nodes/{node}/${type}/{vmid}/config`]!.PUT!.parameters.properties!;
  }

  /**
   * A config value as GET .../config returns it: integer and boolean keys as JSON numbers, all
   * others as strings (so qemu `memory` is "1024" since qemu-server 8.0.8, see
   * bpg/terraform-provider-proxmox#727; lxc `cpulimit` is "0" in the recorded lxc-config.json).
   */
  private typed(type: "lxc" | "qemu", key: string, value: string | number): string | number {
    const s = propertyFor(this.configSchema(type), key);
    if (s?.type === "integer" || s?.type === "boolean") return Number(value);
    return String(value);
  }

  private mac(): string {
    const b = randomBytes(3);
    return `BC:24:11:${[...b].map((x) => x.toString(16).toUpperCase().padStart(2, "0")).join(":")}`;
  }

  /** print_property_string: default key first, then required keys, then the rest sorted. */
  private printProps(format: Record<string, PropSchema>, parsed: Record<string, string>): string {
    const parts: string[] = [];
    const done = new Set<string>();
    for (const [k, s] of Object.entries(format)) {
      if (s.default_key && parsed[k] !== undefined) {
        parts.push(parsed[k]!);
        done.add(k);
      }
    }
    const keys = Object.keys(parsed).filter((k) => !done.has(k));
    const required = keys.filter((k) => format[k] && !format[k]!.optional).sort();
    const rest = keys.filter((k) => !required.includes(k)).sort();
    for (const k of [...required, ...rest]) parts.push(`${k}=${parsed[k]}`);
    return parts.join(",");
  }

  private netFormat(type: "lxc" | "qemu"): Record<string, PropSchema> {
    return this.updateSchema(type)["net[n]"]!.format as Record<string, PropSchema>;
  }

  /** Normalise a netN value as PVE stores it: parsed, MAC added when missing, re-printed. */
  private normaliseNet(type: "lxc" | "qemu", key: string, value: string): string {
    const format = this.netFormat(type);
    const net = checkFormat(format, value, key) as Record<string, string>;
    if (type === "lxc") {
      net.hwaddr ??= this.mac();
      net.type ??= "veth";
      return this.printProps(format, net);
    }
    // qemu: "virtio=MAC" is model + macaddr (keyAlias); print it back that way.
    const model = net.model ?? "virtio";
    const mac = net.macaddr ?? this.mac();
    const rest = { ...net };
    delete rest.model;
    delete rest.macaddr;
    const tail = this.printProps({}, rest);
    return `${model}=${mac}${tail ? `,${tail}` : ""}`;
  }

  /** GuestHelpers::get_unique_tags: split, de-duplicated (case-insensitive), sorted, ';'-joined. */
  private normaliseTags(value: string): string {
    const seen = new Set<string>();
    const tags: string[] = [];
    for (const t of splitList(value)) {
      if (seen.has(t.toLowerCase())) continue;
      seen.add(t.toLowerCase());
      tags.push(t);
    }
    return tags.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())).join(";");
  }

  /** Allocate a disk given as "<storage>:<GiB>[,opts]"; keep existing volumes as they are. */
  private allocDisk(
    vmid: number,
    value: string,
    content: "images" | "rootdir",
    index: { n: number },
  ): string {
    const [first, ...opts] = value.split(",");
    const volume = first!.replace(/^(volume|file)=/, "");
    const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?)$/i.exec(volume);
    if (!m) return value;
    const store = this.storage(m[1]!);
    if (!store.content.includes(content)) {
      throw fail500(
        content === "rootdir"
          ? `storage '${store.storage}' does not support container directories`
          : `storage '${store.storage}' does not support vm images`,
      );
    }
    const size = formatSize(Number(m[2]) * GiB);
    const rest = opts.filter((o) => !o.startsWith("size=") && o !== "");
    rest.push(`size=${size}`);
    rest.sort();
    return [`${store.storage}:vm-${vmid}-disk-${index.n++}`, ...rest].join(",");
  }

  private setConfigValue(g: SimGuest, key: string, value: string): void {
    let v = value;
    if (/^net\d+$/.test(key)) v = this.normaliseNet(g.type, key, value);
    else if (key === "tags") v = this.normaliseTags(value);
    g.config[key] = this.typed(g.type, key, v);
  }

  private digest(config: Record<string, unknown>): string {
    return createHash("sha1").update(JSON.stringify(config)).digest("hex");
  }

  private pendingOf(vmid: number) {
    let p = this.pending.get(vmid);
    if (!p) {
      p = { set: {}, del: new Set() };
      this.pending.set(vmid, p);
    }
    return p;
  }

  /** Apply pending changes (at start / reboot). */
  private applyPending(g: SimGuest): void {
    const p = this.pending.get(g.vmid);
    if (!p) return;
    for (const [k, v] of Object.entries(p.set)) this.setConfigValue(g, k, v);
    for (const k of p.del) delete g.config[k];
    this.pending.delete(g.vmid);
  }

  private snapKey(vmid: number, name: string) {
    return `${vmid}/${name}`;
  }

  private nextDiskIndex(g: SimGuest): { n: number } {
    let n = 0;
    for (const v of Object.values(g.config)) {
      const m = new RegExp(`vm-${g.vmid}-disk-(\\d+)`).exec(String(v));
      if (m) n = Math.max(n, Number(m[1]) + 1);
    }
    return { n };
  }

  // ---------------------------------------------------------------- cluster / node

  nextid(call: Call): string {
    const wanted = str(call.params.vmid);
    if (wanted !== undefined) {
      if (this.guests.has(Number(wanted)))
        throw paramError({ vmid: `VM ${wanted} already exists` });
      return wanted;
    }
    let id = 100;
    while (this.guests.has(id)) id++;
    return String(id);
  }

  private resource(g: SimGuest) {
    const running = g.status === "running";
    const uptime = running
      ? Math.floor((Date.now() - (this.startedAt.get(g.vmid) ?? Date.now())) / 1000)
      : 0;
    const maxmem = Number(String(g.config.memory ?? 512).replace(/^current=/, "")) * 1024 ** 2;
    return {
      cpu: running ? 0.0123 : 0,
      disk: 0,
      diskread: 0,
      diskwrite: 0,
      id: `${g.type}/${g.vmid}`,
      maxcpu: Number(g.config.cores ?? 1) * Number(g.config.sockets ?? 1),
      maxdisk: this.rootSize(g),
      maxmem,
      mem: running ? Math.floor(maxmem / 8) : 0,
      name: String(
        g.type === "qemu"
          ? (g.config.name ?? `VM ${g.vmid}`)
          : (g.config.hostname ?? `CT${g.vmid}`),
      ),
      netin: 0,
      netout: 0,
      node: g.node,
      status: g.status,
      template: g.template ? 1 : 0,
      type: g.type,
      uptime,
      vmid: g.vmid,
      ...(g.config.tags !== undefined ? { tags: String(g.config.tags) } : {}),
      ...(g.config.lock !== undefined ? { lock: String(g.config.lock) } : {}),
    };
  }

  private rootSize(g: SimGuest): number {
    const key =
      g.type === "lxc"
        ? "rootfs"
        : (["scsi0", "virtio0", "sata0", "ide0"].find(
            (k) => g.config[k] !== undefined && !String(g.config[k]).includes("media=cdrom"),
          ) ?? "scsi0");
    const m = /(?:^|,)size=([^,]+)/.exec(String(g.config[key] ?? ""));
    return m ? (parseSize(m[1]!) ?? 0) : 0;
  }

  clusterResources(call: Call) {
    const type = str(call.params.type);
    const out: Record<string, unknown>[] = [];
    // Only guests the caller may audit are listed (the real check is per /vms/<vmid>).
    const visible = (_g: SimGuest) => call.caller.has("VM.Audit");
    if (!type || type === "vm") {
      for (const g of [...this.guests.values()].sort((a, b) => a.vmid - b.vmid)) {
        if (visible(g)) out.push(this.resource(g));
      }
    }
    if (!type || type === "node") {
      out.push({
        id: `node/${this.node}`,
        type: "node",
        node: this.node,
        status: "online",
        cpu: 0.02,
        maxcpu: 8,
        mem: 4 * GiB,
        maxmem: 32 * GiB,
        disk: 10 * GiB,
        maxdisk: 100 * GiB,
        uptime: 86400,
        level: "",
        "cgroup-mode": 2,
      });
    }
    if (!type || type === "storage") {
      for (const s of this.storages) {
        out.push({
          id: `storage/${this.node}/${s.storage}`,
          type: "storage",
          storage: s.storage,
          node: this.node,
          status: "available",
          plugintype: s.type,
          content: s.content.join(","),
          shared: s.shared,
          disk: 0,
          maxdisk: s.total,
        });
      }
    }
    return out;
  }

  nodeStatus() {
    return {
      uptime: 86400,
      cpu: 0.02,
      loadavg: ["0.10", "0.05", "0.01"],
      memory: { total: 32 * GiB, used: 4 * GiB, free: 28 * GiB, available: 28 * GiB },
      swap: { total: 0, used: 0, free: 0 },
      rootfs: { total: 100 * GiB, used: 10 * GiB, free: 90 * GiB, avail: 90 * GiB },
      cpuinfo: {
        cpus: 8,
        cores: 8,
        sockets: 1,
        model: "Simulated CPU",
        mhz: "3000.000",
        hvm: "1",
        flags: "",
      },
      "current-kernel": {
        sysname: "Linux",
        release: "6.17.2-1-pve",
        version: "#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1",
        machine: "x86_64",
      },
      "boot-info": { mode: "efi", secureboot: 0 },
      kversion: "Linux 6.17.2-1-pve #1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1",
      pveversion: "pve-manager/9.1.1/42db4a6cf33dac83",
      idle: 0,
      wait: 0,
      ksm: { shared: 0 },
    };
  }

  version() {
    return { version: "9.1.1", release: "9.1", repoid: "42db4a6cf33dac83", console: "xtermjs" };
  }

  // ---------------------------------------------------------------- guests: read

  list(type: "lxc" | "qemu", call: Call) {
    return [...this.guests.values()]
      .filter((g) => g.type === type && call.caller.has("VM.Audit"))
      .map((g) => {
        const r = this.resource(g);
        return {
          vmid: g.vmid,
          name: r.name,
          status: g.status,
          cpu: r.cpu,
          cpus: r.maxcpu,
          maxmem: r.maxmem,
          mem: r.mem,
          maxdisk: r.maxdisk,
          disk: 0,
          diskread: 0,
          diskwrite: 0,
          netin: 0,
          netout: 0,
          uptime: r.uptime,
          ...(g.type === "qemu"
            ? { qmpstatus: g.status }
            : { maxswap: Number(g.config.swap ?? 512) * 1024 ** 2, type: "lxc" }),
          ...(g.template ? { template: 1 } : {}),
          ...(r.tags !== undefined ? { tags: r.tags } : {}),
          ...(r.lock !== undefined ? { lock: r.lock } : {}),
        };
      });
  }

  guestIndex(type: "lxc" | "qemu", call: Call) {
    this.guest(type, call.params.vmid);
    const dirs =
      type === "qemu"
        ? [
            "config",
            "pending",
            "status",
            "snapshot",
            "clone",
            "resize",
            "agent",
            "cloudinit",
            "template",
          ]
        : ["config", "pending", "status", "snapshot", "clone", "resize", "interfaces", "template"];
    return dirs.map((subdir) => ({ subdir }));
  }

  getConfig(type: "lxc" | "qemu", call: Call) {
    const g = this.guest(type, call.params.vmid);
    const snapname = str(call.params.snapshot);
    let config: Record<string, string | number> = { ...g.config };
    if (snapname !== undefined) {
      const snap = this.snapConfigs.get(this.snapKey(g.vmid, snapname));
      if (!snap) throw fail500(`snapshot '${snapname}' does not exist`);
      config = { ...snap };
    } else if (!isTrue(call.params.current)) {
      // Without current=1 PVE answers with the pending changes applied.
      const p = this.pending.get(g.vmid);
      if (p) {
        for (const [k, v] of Object.entries(p.set)) config[k] = this.typed(type, k, v);
        for (const k of p.del) delete config[k];
      }
    }
    delete config.parent;
    if (g.config.parent !== undefined && snapname === undefined) config.parent = g.config.parent;
    return { ...config, digest: this.digest(g.config) };
  }

  getPending(type: "lxc" | "qemu", call: Call) {
    const g = this.guest(type, call.params.vmid);
    const p = this.pending.get(g.vmid) ?? { set: {}, del: new Set<string>() };
    const keys = new Set([...Object.keys(g.config), ...Object.keys(p.set), ...p.del]);
    const out: Record<string, unknown>[] = [];
    for (const key of [...keys].sort()) {
      if (key === "digest") continue;
      const entry: Record<string, unknown> = { key };
      // The pending API's schema gives value and pending as strings.
      if (g.config[key] !== undefined) entry.value = String(g.config[key]);
      if (p.set[key] !== undefined) entry.pending = p.set[key];
      if (p.del.has(key)) entry.delete = 1;
      out.push(entry);
    }
    return out;
  }

  statusIndex(type: "lxc" | "qemu", call: Call) {
    this.guest(type, call.params.vmid);
    return ["current", "start", "stop", "shutdown", "reboot"].map((subdir) => ({ subdir }));
  }

  statusCurrent(type: "lxc" | "qemu", call: Call) {
    const g = this.guest(type, call.params.vmid);
    const r = this.resource(g);
    const base = {
      status: g.status,
      vmid: g.vmid,
      name: r.name,
      uptime: r.uptime,
      cpu: r.cpu,
      cpus: r.maxcpu,
      mem: r.mem,
      maxmem: r.maxmem,
      disk: 0,
      maxdisk: r.maxdisk,
      diskread: 0,
      diskwrite: 0,
      netin: 0,
      netout: 0,
      ha: { managed: 0 },
      ...(r.tags !== undefined ? { tags: r.tags } : {}),
      ...(r.lock !== undefined ? { lock: r.lock } : {}),
      ...(g.template ? { template: 1 } : {}),
    };
    if (type === "qemu") {
      return {
        ...base,
        qmpstatus: g.status,
        ...(g.config.agent !== undefined && this.agentEnabled(g) ? { agent: 1 } : {}),
        ...(g.status === "running"
          ? {
              pid: 10000 + g.vmid,
              "running-qemu": "10.1.2",
              "running-machine": "pc-i440fx-10.1+pve0",
            }
          : {}),
      };
    }
    return { ...base, type: "lxc", swap: 0, maxswap: Number(g.config.swap ?? 512) * 1024 ** 2 };
  }

  // ---------------------------------------------------------------- guests: create, clone, delete

  createLxc(call: Call): string {
    const p = call.params;
    const vmid = Number(str(p.vmid));
    const pool = str(p.pool);
    this.requirePriv(call.caller, pool ? `/pool/${pool}` : `/vms/${vmid}`, "VM.Allocate");
    if (isTrue(p.restore))
      throw new ApiError(501, "restore is not implemented by the PVE simulator");
    this.checkVmidUnused(vmid);
    const ostemplate = str(p.ostemplate)!;
    const tm = /^([^:]+):(.+)$/.exec(ostemplate);
    if (!tm) throw fail500(`unable to parse volume ID '${ostemplate}'`);
    const tstore = this.storage(tm[1]!);
    if (!tstore.volumes.some((v) => v.volid === ostemplate && v.content === "vztmpl")) {
      throw fail500(`volume '${ostemplate}' does not exist`);
    }
    const rootfsParam = str(p.rootfs) ?? `${str(p.storage) ?? "local"}:4`;
    const rootStore = /^(?:volume=)?([^:,]+):/.exec(rootfsParam)?.[1] ?? "local";
    this.requirePriv(call.caller, `/storage/${rootStore}`, "Datastore.AllocateSpace");
    const ssh = str(p["ssh-public-keys"]);
    if (ssh !== undefined) this.validateSshKeys(ssh, "ssh-public-keys");
    const ostype =
      /\/(debian|ubuntu|alpine|centos|fedora|archlinux|devuan|opensuse|gentoo|nixos)/.exec(
        ostemplate,
      )?.[1] ?? "unmanaged";
    const config: Record<string, string | number> = { arch: "amd64", ostype };
    const g: SimGuest = {
      vmid,
      type: "lxc",
      node: this.node,
      status: "stopped",
      template: false,
      config,
      snapshots: [],
    };
    const index = { n: 0 };
    config.rootfs = this.allocDisk(vmid, rootfsParam, "rootdir", index);
    const skip = new Set([
      "node",
      "vmid",
      "ostemplate",
      "rootfs",
      "storage",
      "password",
      "ssh-public-keys",
      "start",
      "pool",
      "restore",
      "force",
      "unique",
      "ignore-unpack-errors",
      "bwlimit",
      "ha-managed",
    ]);
    for (const [k, v] of Object.entries(p)) {
      if (skip.has(k) || v === undefined || v === null) continue;
      if (/^mp\d+$/.test(k)) config[k] = this.allocDisk(vmid, str(v)!, "rootdir", index);
      else this.setConfigValue(g, k, str(v)!);
    }
    config.memory ??= 512;
    config.swap ??= 512;
    config.lock = "create";
    this.guests.set(vmid, g);
    const start = isTrue(p.start);
    return this.tasks.start({
      type: "vzcreate",
      id: String(vmid),
      authid: call.caller.authid,
      run: async (t) => {
        t.log(`extracting archive '/var/lib/vz/template/cache/${ostemplate.split("/").pop()}'`);
        t.log("Total bytes read: 524288000 (500MiB, 100MiB/s)");
        t.log("Detected container architecture: amd64");
        if (ssh !== undefined) t.log("Setting up SSH public keys");
        t.log("Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...");
        delete config.lock;
        if (start) await this.doStart(g, t);
      },
      rollback: () => {
        this.guests.delete(vmid);
      },
    }).upid;
  }

  createQemu(call: Call): string {
    const p = call.params;
    const vmid = Number(str(p.vmid));
    const pool = str(p.pool);
    this.requirePriv(call.caller, pool ? `/pool/${pool}` : `/vms/${vmid}`, "VM.Allocate");
    if (str(p.archive) !== undefined)
      throw new ApiError(501, "restore is not implemented by the PVE simulator");
    this.checkVmidUnused(vmid);
    const config: Record<string, string | number> = {};
    const g: SimGuest = {
      vmid,
      type: "qemu",
      node: this.node,
      status: "stopped",
      template: false,
      config,
      snapshots: [],
    };
    const index = { n: 0 };
    const skip = new Set([
      "node",
      "vmid",
      "start",
      "pool",
      "archive",
      "force",
      "unique",
      "bwlimit",
      "live-restore",
      "storage",
      "ha-managed",
    ]);
    for (const [k, v] of Object.entries(p)) {
      if (skip.has(k) || v === undefined || v === null) continue;
      const s = str(v)!;
      if (/^(scsi|virtio|sata|ide|efidisk|tpmstate)\d+$/.test(k)) {
        const store = /^(?:file=)?([^:,]+):/.exec(s)?.[1];
        if (store) this.requirePriv(call.caller, `/storage/${store}`, "Datastore.AllocateSpace");
        config[k] = /^[^:,]+:cloudinit$/.test(s.split(",")[0]!)
          ? `${s.split(":")[0]}:vm-${vmid}-cloudinit,media=cdrom`
          : this.allocDisk(vmid, s, "images", index);
      } else if (k === "sshkeys") {
        this.validateSshKeys(decodeURIComponent(s), "sshkeys");
        config[k] = s;
      } else {
        this.setConfigValue(g, k, s);
      }
    }
    config.smbios1 ??= `uuid=${crypto.randomUUID()}`;
    config.vmgenid ??= crypto.randomUUID();
    config.meta = `creation-qemu=10.1.2,ctime=${Math.floor(Date.now() / 1000)}`;
    config.lock = "create";
    this.guests.set(vmid, g);
    const start = isTrue(p.start);
    return this.tasks.start({
      type: "qmcreate",
      id: String(vmid),
      authid: call.caller.authid,
      run: async (t) => {
        for (const [k, v] of Object.entries(config)) {
          if (String(v).includes(`vm-${vmid}-disk`))
            t.log(`${k}: successfully created disk '${String(v)}'`);
        }
        delete config.lock;
        if (start) await this.doStart(g, t);
      },
      rollback: () => {
        this.guests.delete(vmid);
      },
    }).upid;
  }

  clone(type: "lxc" | "qemu", call: Call): string {
    const p = call.params;
    const src = this.guest(type, p.vmid);
    const newid = Number(str(p.newid));
    this.checkLock(src);
    this.checkVmidUnused(newid);
    const full = str(p.full) !== undefined ? isTrue(p.full) : !src.template;
    const storage = str(p.storage);
    const target = str(p.target);
    if (target !== undefined && target !== this.node) {
      throw fail500(`Can't clone to node '${target}': VM uses local storage`);
    }
    if (!src.template && !full) {
      throw paramError({ full: "linked clone feature is only available for templates" });
    }
    if (storage !== undefined) {
      if (!full) throw paramError({ storage: "parameter 'storage' not allowed for linked clones" });
      const s = this.storage(storage);
      this.requirePriv(call.caller, `/storage/${s.storage}`, "Datastore.AllocateSpace");
    }
    const snapname = str(p.snapname);
    let base: Record<string, string | number> = src.config;
    if (snapname !== undefined) {
      const snap = this.snapConfigs.get(this.snapKey(src.vmid, snapname));
      if (!snap) throw fail500(`snapshot '${snapname}' does not exist`);
      base = snap;
    }
    const config: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(base)) {
      if (["template", "parent", "snaptime", "lock", "vmstate"].includes(k)) continue;
      let value = String(v);
      const disk =
        /^([^:,]+):(?:base-\d+-disk-\d+\/)?(?:base|vm)-\d+-(disk-\d+|cloudinit)(.*)$/.exec(value);
      if (/^(rootfs|mp\d+|scsi\d+|virtio\d+|sata\d+|ide\d+|efidisk0|tpmstate0)$/.test(k) && disk) {
        const store = full && storage ? storage : disk[1];
        const name = `vm-${newid}-${disk[2]}`;
        value =
          full || disk[2] === "cloudinit"
            ? `${store}:${name}${disk[3]}`
            : `${disk[1]}:${String(v)
                .split(",")[0]!
                .split(":")[1]!
                .replace(/^.*?(base-\d+-disk-\d+).*$/, "$1")}/${name}${disk[3]}`;
      }
      if (/^net\d+$/.test(k)) {
        // Both qemu and lxc clones get a fresh MAC on every NIC.
        value = value
          .replace(/hwaddr=[^,]+/, `hwaddr=${this.mac()}`)
          .replace(/^([a-z0-9-]+)=[0-9A-Fa-f:]{17}/, `$1=${this.mac()}`);
      }
      config[k] = this.typed(type, k, value);
    }
    const name = str(type === "qemu" ? p.name : p.hostname);
    if (type === "qemu") config.name = name ?? `Copy-of-VM-${src.config.name ?? src.vmid}`;
    else if (name !== undefined) config.hostname = name;
    if (str(p.description) !== undefined) config.description = str(p.description)!;
    if (type === "qemu") config.vmgenid = crypto.randomUUID();
    // The target exists, locked, as soon as the POST returns (qemu-server clone_vm writes the
    // config with lock 'clone' before forking; pve-container uses lock 'create').
    config.lock = type === "qemu" ? "clone" : "create";
    const g: SimGuest = {
      vmid: newid,
      type,
      node: this.node,
      status: "stopped",
      template: false,
      config,
      snapshots: [],
    };
    this.guests.set(newid, g);
    return this.tasks.start({
      type: type === "qemu" ? "qmclone" : "vzclone",
      id: String(src.vmid),
      authid: call.caller.authid,
      run: (t) => {
        for (const [k, v] of Object.entries(config)) {
          if (/^(rootfs|mp\d+|scsi\d+|virtio\d+|sata\d+|efidisk0)$/.test(k)) {
            t.log(
              `create ${full ? "full" : "linked"} clone of drive ${k} (${String(base[k]).split(",")[0]})`,
            );
            if (full)
              t.log(`  Logical volume "${String(v).split(",")[0]!.split(":")[1]}" created.`);
          }
        }
        delete config.lock;
      },
      rollback: () => {
        this.guests.delete(newid);
      },
    }).upid;
  }

  destroy(type: "lxc" | "qemu", call: Call): string {
    const g = this.guest(type, call.params.vmid);
    this.checkLock(g);
    if (g.status === "running") {
      throw fail500(
        type === "qemu"
          ? `VM ${g.vmid} is running - destroy failed`
          : `CT ${g.vmid} is running - destroy failed`,
      );
    }
    if (isTrue(g.config.protection as ParamValue)) {
      throw fail500(
        `can't remove ${type === "qemu" ? "VM" : "CT"} ${g.vmid} - protection mode enabled`,
      );
    }
    g.config.lock = "destroyed";
    return this.tasks.start({
      type: type === "qemu" ? "qmdestroy" : "vzdestroy",
      id: String(g.vmid),
      authid: call.caller.authid,
      run: () => {
        this.guests.delete(g.vmid);
        this.pending.delete(g.vmid);
        for (const s of g.snapshots) this.snapConfigs.delete(this.snapKey(g.vmid, s.name));
      },
      rollback: () => {
        delete g.config.lock;
      },
    }).upid;
  }

  template(type: "lxc" | "qemu", call: Call): string | null {
    const g = this.guest(type, call.params.vmid);
    this.checkLock(g);
    if (g.template)
      throw fail500(`${type === "qemu" ? "VM" : "CT"} ${g.vmid} is already a template`);
    if (g.status === "running")
      throw fail500(`${type === "qemu" ? "VM" : "CT"} ${g.vmid} is running`);
    const convert = () => {
      g.template = true;
      g.config.template = 1;
      for (const [k, v] of Object.entries(g.config)) {
        if (typeof v === "string")
          g.config[k] = v.replace(new RegExp(`vm-${g.vmid}-disk-`, "g"), `base-${g.vmid}-disk-`);
      }
    };
    if (type === "lxc") {
      convert();
      return null;
    }
    return this.tasks.start({
      type: "qmtemplate",
      id: String(g.vmid),
      authid: call.caller.authid,
      run: convert,
    }).upid;
  }

  // ---------------------------------------------------------------- config

  updateConfig(type: "lxc" | "qemu", call: Call, async: boolean): string | null {
    const p = call.params;
    const g = this.guest(type, p.vmid);
    const digest = str(p.digest);
    if (digest !== undefined && digest !== this.digest(g.config)) {
      throw fail500("detected modified configuration - file changed by other user? Try again.");
    }
    if (!isTrue(p.skiplock)) this.checkLock(g);
    const keys = Object.keys(p).filter(
      (k) =>
        ![
          "node",
          "vmid",
          "digest",
          "delete",
          "revert",
          "skiplock",
          "background_delay",
          "force",
        ].includes(k),
    );
    const del = splitList(str(p.delete) ?? "");
    const revert = splitList(str(p.revert) ?? "");
    for (const k of [...keys, ...del, ...revert]) {
      const priv = configPriv(type, k);
      this.requirePriv(call.caller, `/vms/${g.vmid}`, priv);
    }
    const schema = this.updateSchema(type);
    const errors: Errors = {};
    for (const k of del) {
      if (!propertyFor(schema, k)) errors.delete = `invalid option '${k}'`;
      if (keys.includes(k))
        errors[k] = `error - can't set and delete option '${k}' at the same time`;
    }
    if (Object.keys(errors).length > 0) throw paramError(errors);
    if (keys.length === 0 && del.length === 0 && revert.length === 0) {
      throw fail500("no options specified");
    }
    for (const k of keys) {
      if (k === "sshkeys") this.validateSshKeys(decodeURIComponent(str(p[k])!), "sshkeys");
      if (
        /^(rootfs|mp\d+|scsi\d+|virtio\d+|sata\d+|ide\d+)$/.test(k) &&
        g.config[k] !== undefined
      ) {
        const oldSize = /size=([^,]+)/.exec(String(g.config[k]))?.[1];
        const newSize = /size=([^,]+)/.exec(str(p[k])!)?.[1];
        if (oldSize && newSize && newSize !== oldSize) {
          throw paramError({ [k]: "changing the disk size is not supported, use the resize API" });
        }
      }
    }
    const apply = (t?: { log(line: string): void }) => {
      const pend = this.pendingOf(g.vmid);
      for (const k of revert) {
        delete pend.set[k];
        pend.del.delete(k);
      }
      for (const k of keys) {
        let v = str(p[k])!;
        if (/^(scsi|virtio|sata|ide|mp)\d+$/.test(k) && g.config[k] === undefined) {
          v = this.allocDisk(
            g.vmid,
            v,
            type === "lxc" ? "rootdir" : "images",
            this.nextDiskIndex(g),
          );
        }
        const cold =
          g.status === "running" && (type === "qemu" ? !qemuHotplugged(k) : LXC_COLD.has(k));
        if (cold) {
          if (/^net\d+$/.test(k)) v = this.normaliseNet(type, k, v);
          else if (k === "tags") v = this.normaliseTags(v);
          pend.set[k] = v;
          pend.del.delete(k);
        } else {
          this.setConfigValue(g, k, v);
          delete pend.set[k];
        }
        t?.log(`update VM ${g.vmid}: -${k} ${v}`);
      }
      for (const k of del) {
        const cold =
          g.status === "running" && (type === "qemu" ? !qemuHotplugged(k) : LXC_COLD.has(k));
        if (cold) pend.del.add(k);
        else delete g.config[k];
      }
      if (Object.keys(pend.set).length === 0 && pend.del.size === 0) this.pending.delete(g.vmid);
    };
    if (!async) {
      apply();
      return null;
    }
    return this.tasks.start({
      type: "qmconfig",
      id: String(g.vmid),
      authid: call.caller.authid,
      run: (t) => apply(t),
    }).upid;
  }

  /** PVE::Tools::validate_ssh_public_keys (approximation: each line "type base64 [comment]"). */
  private validateSshKeys(keys: string, param: string): void {
    for (const line of keys.split("\n")) {
      if (line.trim() === "" || line.startsWith("#")) continue;
      if (
        !/^(?:\S+\s+)?(ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521)|sk-\S+@openssh\.com)\s+[A-Za-z0-9+/]+={0,2}(\s.*)?$/.test(
          line,
        )
      ) {
        throw paramError({ [param]: "SSH public key validation error\n" });
      }
    }
  }

  resize(type: "lxc" | "qemu", call: Call): string {
    const p = call.params;
    const g = this.guest(type, p.vmid);
    const disk = str(p.disk)!;
    const sizeParam = str(p.size)!;
    const volume = g.config[disk];
    if (volume === undefined) throw fail500(`disk '${disk}' does not exist`);
    const cur = parseSize(/size=([^,]+)/.exec(String(volume))?.[1] ?? "0") ?? 0;
    const m = /^(\+)?(\d+(?:\.\d+)?[KMGT]?)$/.exec(sizeParam)!;
    const delta = parseSize(m[2]!) ?? 0;
    const next = m[1] ? cur + delta : delta;
    // pve-container refuses a smaller size before forking; qemu-server checks inside the task.
    if (type === "lxc" && next < cur) throw fail500("unable to shrink disk size");
    this.checkLock(g);
    return this.tasks.start({
      type: "resize",
      id: String(g.vmid),
      authid: call.caller.authid,
      run: (t) => {
        if (g.config.lock !== undefined)
          throw new Error(`${type === "qemu" ? "VM" : "CT"} is locked (${g.config.lock})`);
        if (next < cur) throw new Error("shrinking disks is not supported");
        if (next === cur) return;
        t.log(
          `  Size of logical volume pve/${String(volume).split(",")[0]!.split(":")[1]} changed from ${formatSize(cur)} to ${formatSize(next)}.`,
        );
        g.config[disk] = String(g.config[disk]).replace(/size=[^,]+/, `size=${formatSize(next)}`);
      },
    }).upid;
  }

  // ---------------------------------------------------------------- power

  private agentEnabled(g: SimGuest): boolean {
    const a = g.config.agent;
    if (a === undefined) return false;
    const first = String(a).split(",")[0]!;
    const enabled = first.startsWith("enabled=")
      ? first.slice(8)
      : first.includes("=")
        ? "0"
        : first;
    return /^(1|on|yes|true)$/i.test(enabled);
  }

  private async doStart(g: SimGuest, t: { log(line: string): void }): Promise<void> {
    this.applyPending(g);
    await this.hooks.onStart?.(g);
    g.status = "running";
    this.startedAt.set(g.vmid, Date.now());
    t.log(g.type === "qemu" ? `start VM ${g.vmid}: UPID ok` : `starting CT ${g.vmid}`);
  }

  private async doStop(g: SimGuest): Promise<void> {
    await this.hooks.onStop?.(g);
    g.status = "stopped";
    this.startedAt.delete(g.vmid);
  }

  power(
    type: "lxc" | "qemu",
    action: "start" | "stop" | "shutdown" | "reboot",
    call: Call,
  ): string {
    const g = this.guest(type, call.params.vmid);
    const what = type === "qemu" ? "VM" : "CT";
    if (!isTrue(call.params.skiplock)) this.checkLock(g);
    if (action === "start") {
      if (g.template)
        throw fail500(
          type === "qemu"
            ? "you can't start a vm if it's a template"
            : "you can't start a CT if it's a template",
        );
      if (type === "lxc" && g.status === "running") throw fail500(`CT ${g.vmid} already running`);
    } else if (type === "lxc" && g.status !== "running") {
      throw fail500(`CT ${g.vmid} not running`);
    }
    const prefix = type === "qemu" ? "qm" : "vz";
    return this.tasks.start({
      type: `${prefix}${action}`,
      id: String(g.vmid),
      authid: call.caller.authid,
      run: async (t) => {
        if (action === "start") {
          if (g.status === "running") throw new Error(`VM ${g.vmid} already running`);
          await this.doStart(g, t);
        } else if (action === "stop") {
          if (g.status === "running") await this.doStop(g);
        } else if (action === "shutdown") {
          if (g.status !== "running") throw new Error(`${what} ${g.vmid} not running`);
          await this.doStop(g);
        } else {
          if (g.status !== "running") throw new Error(`${what} ${g.vmid} not running`);
          await this.doStop(g);
          await this.doStart(g, t);
        }
      },
    }).upid;
  }

  // ---------------------------------------------------------------- snapshots

  snapshotList(type: "lxc" | "qemu", call: Call) {
    const g = this.guest(type, call.params.vmid);
    const out: Record<string, unknown>[] = g.snapshots.map((s) => ({
      name: s.name,
      description: s.description ?? "",
      snaptime: s.snaptime,
      ...(s.parent !== undefined ? { parent: s.parent } : {}),
      ...(type === "qemu" ? { vmstate: 0 } : {}),
    }));
    out.push({
      name: "current",
      description: "You are here!",
      digest: this.digest(g.config),
      running: g.status === "running" ? 1 : 0,
      ...(g.config.parent !== undefined ? { parent: String(g.config.parent) } : {}),
    });
    return out;
  }

  snapshotCreate(type: "lxc" | "qemu", call: Call): string {
    const g = this.guest(type, call.params.vmid);
    const name = str(call.params.snapname)!;
    if (name === "current") throw fail500("unable to use snapshot name 'current' (reserved name)");
    if (name.toLowerCase() === "pending")
      throw fail500("unable to use snapshot name 'pending' (reserved name)");
    const description = str(call.params.description);
    const lock = this.taskLock(g, "snapshot");
    return this.tasks.start({
      type: type === "qemu" ? "qmsnapshot" : "vzsnapshot",
      rollback: () => lock.release(),
      id: String(g.vmid),
      authid: call.caller.authid,
      run: (t) => {
        // AbstractConfig::__snapshot_prepare runs inside the worker: lock and duplicate checks
        // fail the task, not the POST.
        lock.check();
        lock.release();
        if (g.snapshots.some((s) => s.name === name))
          throw new Error(`snapshot name '${name}' already used`);
        if (!this.guests.has(g.vmid))
          throw new Error(`Configuration file '${this.confPath(type, g.vmid)}' does not exist`);
        const config = { ...g.config };
        delete config.parent;
        const parent = g.config.parent === undefined ? undefined : String(g.config.parent);
        this.snapConfigs.set(this.snapKey(g.vmid, name), config);
        g.snapshots.push({
          name,
          ...(description !== undefined ? { description } : {}),
          snaptime: Math.floor(Date.now() / 1000),
          ...(parent !== undefined ? { parent } : {}),
        });
        g.config.parent = name;
        t.log(
          type === "qemu"
            ? `snapshotting 'drive-scsi0' (${String(g.config.scsi0 ?? "").split(",")[0]})`
            : `snapshotting 'rootfs' (${String(g.config.rootfs ?? "").split(",")[0]})`,
        );
      },
    }).upid;
  }

  private snapshotOf(g: SimGuest, name: string) {
    const s = g.snapshots.find((x) => x.name === name);
    if (!s) throw fail500(`snapshot '${name}' does not exist`);
    return s;
  }

  snapshotIndex(type: "lxc" | "qemu", call: Call) {
    const g = this.guest(type, call.params.vmid);
    this.snapshotOf(g, str(call.params.snapname)!);
    return [
      { rel: "child", href: "config" },
      { rel: "child", href: "rollback" },
    ];
  }

  snapshotConfig(type: "lxc" | "qemu", call: Call) {
    const g = this.guest(type, call.params.vmid);
    const s = this.snapshotOf(g, str(call.params.snapname)!);
    const conf = this.snapConfigs.get(this.snapKey(g.vmid, s.name)) ?? {};
    return {
      ...conf,
      snaptime: s.snaptime,
      ...(s.description !== undefined ? { description: s.description } : {}),
      ...(s.parent !== undefined ? { parent: s.parent } : {}),
    };
  }

  snapshotUpdate(type: "lxc" | "qemu", call: Call): null {
    const g = this.guest(type, call.params.vmid);
    const s = this.snapshotOf(g, str(call.params.snapname)!);
    const d = str(call.params.description);
    if (d !== undefined) s.description = d;
    return null;
  }

  snapshotDelete(type: "lxc" | "qemu", call: Call): string {
    const g = this.guest(type, call.params.vmid);
    const name = str(call.params.snapname)!;
    return this.tasks.start({
      type: type === "qemu" ? "qmdelsnapshot" : "vzdelsnapshot",
      id: String(g.vmid),
      authid: call.caller.authid,
      run: (t) => {
        const s = g.snapshots.find((x) => x.name === name);
        if (!s) throw new Error(`snapshot '${name}' does not exist`);
        if (g.config.lock !== undefined && !isTrue(call.params.force))
          throw new Error(`${type === "qemu" ? "VM" : "CT"} is locked (${g.config.lock})`);
        for (const other of g.snapshots)
          if (other.parent === name) {
            if (s.parent === undefined) delete other.parent;
            else other.parent = s.parent;
          }
        if (g.config.parent === name) {
          if (s.parent === undefined) delete g.config.parent;
          else g.config.parent = s.parent;
        }
        g.snapshots = g.snapshots.filter((x) => x.name !== name);
        this.snapConfigs.delete(this.snapKey(g.vmid, name));
        t.log(`delete snapshot '${name}'`);
      },
    }).upid;
  }

  snapshotRollback(type: "lxc" | "qemu", call: Call): string {
    const g = this.guest(type, call.params.vmid);
    const name = str(call.params.snapname)!;
    const start = isTrue(call.params.start);
    const lock = this.taskLock(g, "rollback");
    return this.tasks.start({
      type: type === "qemu" ? "qmrollback" : "vzrollback",
      id: String(g.vmid),
      authid: call.caller.authid,
      rollback: () => lock.release(),
      run: async (t) => {
        lock.check();
        lock.release();
        const s = g.snapshots.find((x) => x.name === name);
        if (!s) throw new Error(`snapshot '${name}' does not exist`);
        // Rolling back stops the guest (no RAM state in our snapshots); `start` starts it again.
        if (g.status === "running") await this.doStop(g);
        const snap = this.snapConfigs.get(this.snapKey(g.vmid, name)) ?? {};
        for (const k of Object.keys(g.config)) delete g.config[k];
        Object.assign(g.config, structuredClone(snap), { parent: name });
        this.pending.delete(g.vmid);
        t.log(`rollback snapshot '${name}'`);
        if (start) await this.doStart(g, t);
      },
    }).upid;
  }

  // ---------------------------------------------------------------- IP discovery

  private eui64(mac: string): string {
    const b = mac
      .toLowerCase()
      .split(":")
      .map((x) => Number.parseInt(x, 16));
    b[0] = b[0]! ^ 2;
    const words = [
      (b[0] << 8) | b[1]!,
      (b[2]! << 8) | 0xff,
      (0xfe << 8) | b[3]!,
      (b[4]! << 8) | b[5]!,
    ];
    return `fe80::${words.map((w) => w.toString(16)).join(":")}`;
  }

  lxcInterfaces(call: Call) {
    const g = this.guest("lxc", call.params.vmid);
    if (g.status !== "running") return null;
    const out: Record<string, unknown>[] = [
      {
        name: "lo",
        hwaddr: "00:00:00:00:00:00",
        "hardware-address": "00:00:00:00:00:00",
        inet: "127.0.0.1/8",
        inet6: "::1/128",
        "ip-addresses": [
          { "ip-address": "127.0.0.1", "ip-address-type": "inet", prefix: 8 },
          { "ip-address": "::1", "ip-address-type": "inet6", prefix: 128 },
        ],
      },
    ];
    for (const [k, v] of Object.entries(g.config).sort()) {
      if (!/^net\d+$/.test(k)) continue;
      const net = Object.fromEntries(
        String(v)
          .split(",")
          .map((kv) => kv.split("=") as [string, string]),
      );
      const hw = (net.hwaddr ?? "00:00:00:00:00:00").toLowerCase();
      const addrs: Record<string, unknown>[] = [];
      const entry: Record<string, unknown> = {
        name: net.name ?? k,
        hwaddr: hw,
        "hardware-address": hw,
      };
      const ip = net.ip?.includes("/") ? net.ip : undefined;
      if (ip) {
        entry.inet = ip;
        addrs.push({
          "ip-address": ip.split("/")[0],
          "ip-address-type": "inet",
          prefix: Number(ip.split("/")[1]),
        });
      }
      const ll = `${this.eui64(hw)}/64`;
      entry.inet6 = net.ip6?.includes("/") ? net.ip6 : ll;
      if (net.ip6?.includes("/")) {
        addrs.push({
          "ip-address": net.ip6.split("/")[0],
          "ip-address-type": "inet6",
          prefix: Number(net.ip6.split("/")[1]),
        });
      }
      addrs.push({ "ip-address": ll.split("/")[0], "ip-address-type": "inet6", prefix: 64 });
      entry["ip-addresses"] = addrs;
      out.push(entry);
    }
    return out;
  }

  private agentReady(call: Call): SimGuest {
    const g = this.guest("qemu", call.params.vmid);
    if (!this.agentEnabled(g)) throw fail500("No QEMU guest agent configured");
    if (g.status !== "running") throw fail500(`VM ${g.vmid} is not running`);
    const since = Date.now() - (this.startedAt.get(g.vmid) ?? 0);
    if (since < this.hooks.agentDelayMs()) throw fail500("QEMU guest agent is not running");
    return g;
  }

  agentPing(call: Call) {
    this.agentReady(call);
    return { result: {} };
  }

  agentIndex(call: Call) {
    this.guest("qemu", call.params.vmid);
    return ["network-get-interfaces", "ping", "get-osinfo"].map((name) => ({ name }));
  }

  agentOsinfo(call: Call) {
    this.agentReady(call);
    return {
      result: {
        id: "debian",
        name: "Debian GNU/Linux",
        "pretty-name": "Debian GNU/Linux 13 (trixie)",
        "version-id": "13",
        "kernel-release": "6.12.48+deb13-amd64",
        machine: "x86_64",
      },
    };
  }

  agentNetwork(call: Call) {
    const g = this.agentReady(call);
    const stats = {
      "rx-bytes": 0,
      "rx-dropped": 0,
      "rx-errs": 0,
      "rx-packets": 0,
      "tx-bytes": 0,
      "tx-dropped": 0,
      "tx-errs": 0,
      "tx-packets": 0,
    };
    const result: Record<string, unknown>[] = [
      {
        name: "lo",
        "hardware-address": "00:00:00:00:00:00",
        "ip-addresses": [
          { "ip-address": "127.0.0.1", "ip-address-type": "ipv4", prefix: 8 },
          { "ip-address": "::1", "ip-address-type": "ipv6", prefix: 128 },
        ],
        statistics: stats,
      },
    ];
    for (const [k, v] of Object.entries(g.config).sort()) {
      const m = /^net(\d+)$/.exec(k);
      if (!m) continue;
      const mac = (
        /^[a-z0-9-]+=([0-9A-Fa-f:]{17})/.exec(String(v))?.[1] ?? "00:00:00:00:00:00"
      ).toLowerCase();
      const ipconf = String(g.config[`ipconfig${m[1]}`] ?? "");
      const ip = /(?:^|,)ip=([^,]+)/.exec(ipconf)?.[1];
      const addrs: Record<string, unknown>[] = [];
      if (ip?.includes("/"))
        addrs.push({
          "ip-address": ip.split("/")[0],
          "ip-address-type": "ipv4",
          prefix: Number(ip.split("/")[1]),
        });
      addrs.push({ "ip-address": this.eui64(mac), "ip-address-type": "ipv6", prefix: 64 });
      result.push({
        name: `eth${m[1]}`,
        "hardware-address": mac,
        "ip-addresses": addrs,
        statistics: stats,
      });
    }
    return { result };
  }

  // ---------------------------------------------------------------- storage and backups

  storageList() {
    return this.storages.map((s) => ({
      storage: s.storage,
      type: s.type,
      content: s.content.join(","),
      active: 1,
      enabled: 1,
      shared: s.shared,
      total: s.total,
      used: 0,
      avail: s.total,
      used_fraction: 0,
    }));
  }

  storageContent(call: Call) {
    const s = this.storage(str(call.params.storage)!);
    const content = str(call.params.content);
    const vmid = str(call.params.vmid);
    const vols: Volume[] = [...s.volumes];
    for (const g of this.guests.values()) {
      for (const [k, v] of Object.entries(g.config)) {
        if (!/^(rootfs|mp\d+|scsi\d+|virtio\d+|sata\d+|ide\d+|efidisk0|tpmstate0)$/.test(k))
          continue;
        const vol = String(v).split(",")[0]!;
        if (!vol.startsWith(`${s.storage}:`)) continue;
        const size = parseSize(/size=([^,]+)/.exec(String(v))?.[1] ?? "0") ?? 4 * 1024 ** 2;
        vols.push({
          volid: vol.replace(/^[^:]+:base-\d+-disk-\d+\//, `${s.storage}:`),
          content: g.type === "lxc" ? "rootdir" : "images",
          format: "raw",
          size,
          ctime: 0,
          vmid: g.vmid,
        });
      }
    }
    return vols
      .filter(
        (v) => (content ? v.content === content : true) && (vmid ? v.vmid === Number(vmid) : true),
      )
      .map((v) => ({ ...v }));
  }

  vzdump(call: Call): string {
    const p = call.params;
    const storageId = str(p.storage) ?? "local";
    const s = this.storage(storageId);
    if (!s.content.includes("backup"))
      throw fail500(`storage '${storageId}' does not support backups`);
    this.requirePriv(call.caller, `/storage/${storageId}`, "Datastore.AllocateSpace");
    let vmids: number[];
    if (isTrue(p.all)) vmids = [...this.guests.keys()].sort((a, b) => a - b);
    else {
      const list = str(p.vmid);
      if (!list) throw paramError({ vmid: "property is missing and it is not optional" });
      vmids = splitList(list).map(Number);
    }
    const exclude = new Set(splitList(str(p.exclude) ?? "").map(Number));
    vmids = vmids.filter((v) => !exclude.has(v));
    for (const v of vmids) {
      if (!this.guests.has(v)) throw fail500(`unable to find VM ${v}`);
      this.requirePriv(call.caller, `/vms/${v}`, "VM.Backup");
    }
    const mode = str(p.mode) ?? "snapshot";
    const compress = str(p.compress) ?? "0";
    const ext = { "0": "", "1": ".lzo", gzip: ".gz", lzo: ".lzo", zstd: ".zst" }[compress] ?? "";
    const notes = str(p["notes-template"]);
    const locks = new Map(vmids.map((v) => [v, this.taskLock(this.guests.get(v)!, "backup")]));
    const releaseAll = () => {
      for (const l of locks.values()) l.release();
    };
    return this.tasks.start({
      type: "vzdump",
      id: vmids.length === 1 ? String(vmids[0]) : "",
      authid: call.caller.authid,
      rollback: releaseAll,
      run: (t) => {
        try {
          this.backupRun(t, vmids, locks, { storageId, s, mode, compress, ext, notes });
        } finally {
          releaseAll();
        }
      },
    }).upid;
  }

  private backupRun(
    t: { log(line: string): void },
    vmids: number[],
    locks: Map<number, { check(): void }>,
    o: {
      storageId: string;
      s: Storage;
      mode: string;
      compress: string;
      ext: string;
      notes: string | undefined;
    },
  ): void {
    const { storageId, s, mode, compress, ext, notes } = o;
    {
      const args = [
        `vzdump ${vmids.join(" ")}`,
        `--storage ${storageId}`,
        `--mode ${mode}`,
        ...(compress !== "0" ? [`--compress ${compress}`] : []),
        `--node ${this.node}`,
      ];
      t.log(`INFO: starting new backup job: ${args.join(" ")}`);
      let failed = 0;
      for (const vmid of vmids) {
        const g = this.guests.get(vmid)!;
        const now = new Date();
        const stamp = now
          .toISOString()
          .replace(/\.\d+Z$/, "")
          .replace(/-/g, "_")
          .replace("T", "-")
          .replace(/:/g, "_");
        t.log(`INFO: Starting Backup of VM ${vmid} (${g.type})`);
        t.log(
          `INFO: Backup started at ${now
            .toISOString()
            .replace("T", " ")
            .replace(/\.\d+Z$/, "")}`,
        );
        try {
          locks.get(vmid)!.check();
        } catch (e) {
          t.log(`ERROR: Backup of VM ${vmid} failed - ${(e as Error).message}`);
          failed++;
          continue;
        }
        t.log(`INFO: status = ${g.status}`);
        t.log(`INFO: backup mode: ${mode}`);
        const base = `vzdump-${g.type}-${vmid}-${stamp}.${g.type === "lxc" ? "tar" : "vma"}${ext}`;
        t.log(`INFO: creating vzdump archive '${s.path ?? "/mnt"}/dump/${base}'`);
        const size = 512 * 1024 ** 2;
        t.log(`INFO: archive file size: 512MB`);
        s.volumes.push({
          volid: `${storageId}:backup/${base}`,
          content: "backup",
          format: `${g.type === "lxc" ? "tar" : "vma"}${ext ? `.${ext.slice(1)}` : ""}`,
          size,
          ctime: Math.floor(now.getTime() / 1000),
          vmid,
          subtype: g.type,
          ...(notes !== undefined
            ? {
                notes: notes
                  .replace(/\{\{guestname\}\}/g, String(g.config.name ?? g.config.hostname ?? vmid))
                  .replace(/\{\{vmid\}\}/g, String(vmid))
                  .replace(/\{\{node\}\}/g, this.node),
              }
            : {}),
        });
        t.log(`INFO: Finished Backup of VM ${vmid} (00:00:01)`);
        t.log(
          `INFO: Backup finished at ${new Date()
            .toISOString()
            .replace("T", " ")
            .replace(/\.\d+Z$/, "")}`,
        );
      }
      if (failed > 0) throw new Error("job errors");
      t.log("INFO: Backup job finished successfully");
    }
  }

  // ---------------------------------------------------------------- tasks

  private task(call: Call): Task {
    const upid = str(call.params.upid)!;
    if (!UPID_RE.test(upid)) throw paramError({ upid: `unable to parse worker upid '${upid}'` });
    const t = this.tasks.tasks.get(upid);
    if (!t || t.node !== this.node) throw fail500("no such task");
    return t;
  }

  taskStatus(call: Call) {
    const t = this.task(call);
    return {
      upid: t.upid,
      node: t.node,
      pid: t.pid,
      pstart: t.pstart,
      starttime: t.starttime,
      type: t.type,
      id: t.id,
      user: t.user,
      ...(t.tokenid !== undefined ? { tokenid: t.tokenid } : {}),
      status: t.status,
      ...(t.status === "stopped" ? { exitstatus: t.exitstatus } : {}),
    };
  }

  taskLog(call: Call): { data: { n: number; t: string }[]; total: number } {
    const t = this.task(call);
    const start = Number(str(call.params.start) ?? 0);
    const limit = Number(str(call.params.limit) ?? 50);
    const lines = t.log.length > 0 ? t.log : ["no content"];
    const data = lines
      .slice(start, start + limit)
      .map((line, i) => ({ n: start + i + 1, t: line }));
    return { data, total: lines.length };
  }

  taskIndex(call: Call) {
    this.task(call);
    return [{ name: "log" }, { name: "status" }];
  }

  async taskStop(call: Call): Promise<null> {
    await this.tasks.stopTask(this.task(call));
    return null;
  }

  taskList(call: Call): { data: Record<string, unknown>[]; total: number } {
    const p = call.params;
    const vmid = str(p.vmid);
    const typefilter = str(p.typefilter);
    const source = str(p.source) ?? "archive";
    const errorsOnly = isTrue(p.errors);
    let list = [...this.tasks.tasks.values()].reverse();
    if (source === "active") list = list.filter((t) => t.status === "running");
    else if (source === "archive") list = list.filter((t) => t.status === "stopped");
    if (vmid) list = list.filter((t) => t.id === vmid);
    if (typefilter) list = list.filter((t) => t.type === typefilter);
    if (errorsOnly) list = list.filter((t) => t.exitstatus !== undefined && t.exitstatus !== "OK");
    const start = Number(str(p.start) ?? 0);
    const limit = Number(str(p.limit) ?? 50);
    const data = list.slice(start, start + limit).map((t) => ({
      upid: t.upid,
      node: t.node,
      pid: t.pid,
      pstart: t.pstart,
      starttime: t.starttime,
      type: t.type,
      id: t.id,
      user: t.tokenid !== undefined ? `${t.user}!${t.tokenid}` : t.user,
      ...(t.status === "stopped" ? { status: t.exitstatus, endtime: t.endtime } : {}),
    }));
    return { data, total: list.length };
  }
}
