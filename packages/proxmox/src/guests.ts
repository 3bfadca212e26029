import { apiPath, type ProxmoxClient } from "./client.js";
import {
  decodeSshKeys,
  encodeSshKeys,
  normaliseTags,
  type ParamValue,
  parsePropertyString,
  propertyOf,
  sizeToMiB,
  updatePropertyString,
} from "./encode.js";
import { ProxmoxApiError } from "./errors.js";
import type { GuestSpec, GuestType } from "./spec.js";
import { type WaitOptions, waitForTask } from "./tasks.js";

/** A guest as the node lists it. */
export interface NodeGuest {
  vmid: number;
  name: string;
  type: GuestType;
  status: string;
  template: boolean;
}

export type ChangeAction = "create" | "clone" | "config" | "resize" | "start";

/** One difference between the spec and the node, and what apply does about it. */
export interface Change {
  guest: string;
  vmid: number;
  action: ChangeAction;
  /** The config key or disk, for config and resize. */
  key?: string;
  from?: string;
  to?: string;
}

export interface GuestPlan {
  spec: GuestSpec;
  /** The guest as the node has it now, if it exists. */
  current: NodeGuest | undefined;
  changes: Change[];
  /** Config parameters to PUT (empty when nothing drifted). */
  config: Record<string, ParamValue>;
  resize: { disk: string; size: string } | undefined;
  start: boolean;
  /** Things apply will not do, said once (a disk larger than the spec is never shrunk). */
  notes: string[];
}

export interface NodePlan {
  node: string;
  guests: GuestPlan[];
  /** Guests on the node the spec does not name (templates left out): reported, never touched. */
  unmanaged: NodeGuest[];
}

type Config = Record<string, unknown>;

const guestPath = (node: string, type: GuestType, vmid: number, ...rest: string[]) =>
  apiPath("nodes", node, type, vmid, ...rest);

/** Every guest on the node, qemu and lxc. */
export async function listGuests(client: ProxmoxClient, node: string): Promise<NodeGuest[]> {
  const result: NodeGuest[] = [];
  for (const type of ["qemu", "lxc"] as const) {
    const items = (await client.get(apiPath("nodes", node, type))) as Config[] | null;
    for (const item of items ?? []) {
      result.push({
        vmid: Number(item.vmid),
        name: String(item.name ?? ""),
        type,
        status: String(item.status ?? "unknown"),
        template: item.template === true || item.template === 1 || item.template === "1",
      });
    }
  }
  return result.sort((a, b) => a.vmid - b.vmid);
}

export async function guestConfig(
  client: ProxmoxClient,
  node: string,
  type: GuestType,
  vmid: number,
): Promise<Config> {
  return ((await client.get(guestPath(node, type, vmid, "config"))) as Config | null) ?? {};
}

const text = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : String(value);

const flag = (value: unknown): boolean => value === 1 || value === "1" || value === true;

/** qemu memory is `1024` or, in PVE 9's property form, `current=1024`. */
function memoryOf(value: unknown, fallback: number): number {
  const t = text(value);
  if (t === undefined) return fallback;
  const n = Number(propertyOf(t, "current") ?? t);
  return Number.isFinite(n) ? n : fallback;
}

/** The qemu disk to grow: the boot disk, else the first data disk that is not a CD-ROM. */
export function qemuRootDisk(config: Config): string | undefined {
  const isDisk = (key: string) => {
    const value = text(config[key]);
    return value !== undefined && !/media=cdrom|cloudinit/.test(value) && /size=/.test(value);
  };
  const order = propertyOf(text(config.boot), "order")?.split(";") ?? [];
  const bootdisk = text(config.bootdisk);
  for (const key of [...order, ...(bootdisk ? [bootdisk] : [])]) if (isDisk(key)) return key;
  const candidates = Object.keys(config)
    .filter((key) => /^(scsi|virtio|sata|ide)\d+$/.test(key) && isDisk(key))
    .sort();
  return candidates[0];
}

function diskOf(type: GuestType, config: Config): { disk: string; gib: number } | undefined {
  const disk = type === "lxc" ? "rootfs" : qemuRootDisk(config);
  if (disk === undefined) return undefined;
  const mib = sizeToMiB(propertyOf(text(config[disk]), "size"));
  return mib === undefined ? undefined : { disk, gib: mib / 1024 };
}

function wantedLxcNet(spec: GuestSpec, current: string | undefined): string {
  const { bridge, ip, gateway, vlan } = spec.network;
  const base = current ?? "name=eth0";
  return updatePropertyString(base, {
    name: propertyOf(base, "name") ?? "eth0",
    bridge,
    ip,
    gw: gateway,
    tag: vlan === undefined ? undefined : String(vlan),
  });
}

function wantedQemuNet(spec: GuestSpec, current: string | undefined): string {
  const base = current ?? "virtio";
  return updatePropertyString(base, {
    bridge: spec.network.bridge,
    tag: spec.network.vlan === undefined ? undefined : String(spec.network.vlan),
  });
}

function sameNet(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const norm = (s: string) =>
    parsePropertyString(s)
      .map(([k, v]) => `${k.toLowerCase()}=${v.toLowerCase()}`)
      .sort()
      .join(",");
  return norm(a) === norm(b);
}

/** Config drift of an existing (or about to be cloned) guest: key -> [from, to, value to PUT]. */
export function configDrift(
  spec: GuestSpec,
  config: Config,
): Array<{ key: string; from: string; to: string; value: ParamValue }> {
  const drift: Array<{ key: string; from: string; to: string; value: ParamValue }> = [];
  const add = (key: string, from: string | undefined, to: string, value: ParamValue = to) => {
    if (from !== to) drift.push({ key, from: from ?? "-", to, value });
  };
  const nameKey = spec.type === "lxc" ? "hostname" : "name";
  add(nameKey, text(config[nameKey]), spec.name);
  add("cores", text(config.cores), String(spec.cores), spec.cores);
  add(
    "memory",
    String(memoryOf(config.memory, 512)),
    String(spec.memory),
    spec.type === "lxc" ? spec.memory : String(spec.memory),
  );
  const netNow = text(config.net0);
  const netWanted = spec.type === "lxc" ? wantedLxcNet(spec, netNow) : wantedQemuNet(spec, netNow);
  if (!sameNet(netNow, netWanted)) add("net0", netNow, netWanted);
  if (spec.type === "qemu") {
    const ipNow = text(config.ipconfig0);
    const ipWanted = updatePropertyString(ipNow ?? "", {
      ip: spec.network.ip,
      gw: spec.network.gateway,
    });
    if (!sameNet(ipNow, ipWanted)) add("ipconfig0", ipNow, ipWanted);
    if (spec.sshKeys.length > 0) {
      const keysNow = decodeSshKeys(text(config.sshkeys) ?? "");
      if (keysNow.join("\n") !== spec.sshKeys.join("\n")) {
        drift.push({
          key: "sshkeys",
          from: keysNow.length === 0 ? "-" : `${keysNow.length} key(s)`,
          to: `${spec.sshKeys.length} key(s)`,
          value: encodeSshKeys(spec.sshKeys),
        });
      }
    }
    // The guest agent reports the guest's address; without it apply could not wait for it.
    const agent = text(config.agent);
    const agentOn =
      agent !== undefined && (agent.split(",")[0] === "1" || propertyOf(agent, "enabled") === "1");
    if (!agentOn) add("agent", agent, "1", "1");
  }
  const tagsNow = normaliseTags(text(config.tags)).join(";");
  const tagsWanted = normaliseTags(spec.tags).join(";");
  if (tagsNow !== tagsWanted) add("tags", tagsNow === "" ? undefined : tagsNow, tagsWanted);
  add("onboot", flag(config.onboot) ? "1" : "0", spec.startOnBoot ? "1" : "0", spec.startOnBoot);
  return drift;
}

function planFromConfig(spec: GuestSpec, config: Config, running: boolean, plan: GuestPlan): void {
  const change = (c: Omit<Change, "guest" | "vmid">) =>
    plan.changes.push({ guest: spec.name, vmid: spec.vmid, ...c });
  for (const d of configDrift(spec, config)) {
    change({ action: "config", key: d.key, from: d.from, to: d.to });
    plan.config[d.key] = d.value;
  }
  const disk = diskOf(spec.type, config);
  if (disk === undefined) {
    plan.notes.push(`${spec.name}: no root disk with a size found in its config; disk left alone`);
  } else if (disk.gib < spec.diskGiB) {
    plan.resize = { disk: disk.disk, size: `${spec.diskGiB}G` };
    change({ action: "resize", key: disk.disk, from: `${disk.gib}G`, to: `${spec.diskGiB}G` });
  } else if (disk.gib > spec.diskGiB) {
    plan.notes.push(
      `${spec.name}: ${disk.disk} is ${disk.gib}G, more than the spec's ${spec.diskGiB}G; disks are never shrunk`,
    );
  }
  if (!running) {
    plan.start = true;
    change({ action: "start", from: "stopped", to: "running" });
  }
}

/** Parameters of POST /nodes/{node}/lxc for a guest made from an OS template. */
export function lxcCreateParams(spec: GuestSpec): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = {
    vmid: spec.vmid,
    ostemplate: spec.ostemplate!,
    hostname: spec.name,
    cores: spec.cores,
    memory: spec.memory,
    rootfs: `${spec.storage ?? "local-lvm"}:${spec.diskGiB}`,
    net0: wantedLxcNet(spec, undefined),
    onboot: spec.startOnBoot,
    unprivileged: spec.unprivileged,
    start: false,
  };
  if (spec.tags.length > 0) params.tags = normaliseTags(spec.tags).join(";");
  if (spec.sshKeys.length > 0) params["ssh-public-keys"] = spec.sshKeys.join("\n");
  return params;
}

/** Parameters of POST .../{template}/clone. */
export function cloneParams(spec: GuestSpec): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = { newid: spec.vmid };
  params[spec.type === "lxc" ? "hostname" : "name"] = spec.name;
  if (spec.fullClone) {
    params.full = true;
    if (spec.storage !== undefined) params.storage = spec.storage;
  }
  return params;
}

/** Reads the node and works out, read-only, what apply would change. */
export async function planGuests(
  client: ProxmoxClient,
  node: string,
  specs: readonly GuestSpec[],
  /** Every guest the spec names (when only some are planned): the rest are unmanaged. */
  named: readonly GuestSpec[] = specs,
): Promise<NodePlan> {
  const onNode = await listGuests(client, node);
  const byId = new Map(onNode.map((g) => [g.vmid, g]));
  const guests: GuestPlan[] = [];
  for (const spec of specs) {
    const current = byId.get(spec.vmid);
    const plan: GuestPlan = {
      spec,
      current,
      changes: [],
      config: {},
      resize: undefined,
      start: false,
      notes: [],
    };
    guests.push(plan);
    if (current !== undefined) {
      if (current.type !== spec.type) {
        throw new Error(
          `vmid ${spec.vmid} on ${node} is a ${current.type} guest (${current.name}), but the spec makes ${spec.name} a ${spec.type} guest: fix the vmid in the spec`,
        );
      }
      if (current.template) {
        throw new Error(
          `vmid ${spec.vmid} on ${node} is a template, not a guest: give ${spec.name} another vmid`,
        );
      }
      const config = await guestConfig(client, node, spec.type, spec.vmid);
      planFromConfig(spec, config, current.status === "running", plan);
      continue;
    }
    if (spec.template !== undefined) {
      const template = byId.get(spec.template);
      if (template === undefined || template.type !== spec.type) {
        throw new Error(
          `${spec.name} is cloned from ${spec.type} template ${spec.template}, which ${node} does not have`,
        );
      }
      plan.changes.push({
        guest: spec.name,
        vmid: spec.vmid,
        action: "clone",
        from: String(spec.template),
        to: String(spec.vmid),
      });
      // A clone starts as a copy of its template: the rest is the template's drift.
      const config = await guestConfig(client, node, spec.type, spec.template);
      const nameKey = spec.type === "lxc" ? "hostname" : "name";
      planFromConfig(spec, { ...config, [nameKey]: spec.name }, false, plan);
    } else {
      plan.changes.push({
        guest: spec.name,
        vmid: spec.vmid,
        action: "create",
        from: spec.ostemplate!,
        to: String(spec.vmid),
      });
      plan.changes.push({
        guest: spec.name,
        vmid: spec.vmid,
        action: "start",
        from: "stopped",
        to: "running",
      });
      plan.start = true;
    }
  }
  const ids = new Set(named.map((s) => s.vmid));
  const templates = new Set(named.flatMap((s) => (s.template === undefined ? [] : [s.template])));
  const unmanaged = onNode.filter(
    (g) => !ids.has(g.vmid) && !(g.template || templates.has(g.vmid)),
  );
  return { node, guests, unmanaged };
}

export interface ApplyHooks {
  log: (message: string) => void;
  task?: WaitOptions;
}

/**
 * Converges one guest: creates or clones it if missing, then re-reads it and applies the
 * config drift, grows its disk and starts it. Returns the changes made.
 */
export async function applyGuest(
  client: ProxmoxClient,
  node: string,
  plan: GuestPlan,
  hooks: ApplyHooks,
): Promise<Change[]> {
  const { spec } = plan;
  const made: Change[] = [];
  if (plan.current === undefined) {
    if (spec.template !== undefined) {
      hooks.log(`${spec.name}: cloning ${spec.type} template ${spec.template} to ${spec.vmid}`);
      const upid = await client.post(
        guestPath(node, spec.type, spec.template, "clone"),
        cloneParams(spec),
      );
      await waitForTask(
        client,
        upid,
        `Clone ${spec.template} to ${spec.vmid} (${spec.name})`,
        hooks.task,
      );
      made.push(plan.changes[0]!);
    } else {
      hooks.log(`${spec.name}: creating lxc ${spec.vmid} from ${spec.ostemplate}`);
      const upid = await client.post(apiPath("nodes", node, "lxc"), lxcCreateParams(spec));
      await waitForTask(client, upid, `Create ${spec.vmid} (${spec.name})`, hooks.task);
      made.push(plan.changes[0]!);
    }
  }
  // What the node has now decides the rest, so a second apply finds nothing left to do.
  const config = await guestConfig(client, node, spec.type, spec.vmid);
  const status = await guestStatus(client, node, spec.type, spec.vmid);
  const now: GuestPlan = {
    ...plan,
    changes: [],
    config: {},
    resize: undefined,
    start: false,
    notes: [],
  };
  planFromConfig(spec, config, status === "running", now);
  if (Object.keys(now.config).length > 0) {
    hooks.log(`${spec.name}: setting ${Object.keys(now.config).join(", ")}`);
    const result = await client.put(guestPath(node, spec.type, spec.vmid, "config"), now.config);
    // PUT config is synchronous (null); a UPID would mean a task to wait for.
    if (typeof result === "string")
      await waitForTask(client, result, `Configure ${spec.name}`, hooks.task);
  }
  if (now.resize !== undefined) {
    hooks.log(`${spec.name}: growing ${now.resize.disk} to ${now.resize.size}`);
    const upid = await client.put(guestPath(node, spec.type, spec.vmid, "resize"), now.resize);
    if (typeof upid === "string")
      await waitForTask(client, upid, `Grow ${spec.name}'s disk`, hooks.task);
  }
  if (now.start) {
    hooks.log(`${spec.name}: starting`);
    const upid = await client.post(guestPath(node, spec.type, spec.vmid, "status", "start"));
    await waitForTask(client, upid, `Start ${spec.name}`, hooks.task);
  }
  for (const note of now.notes) hooks.log(note);
  made.push(...now.changes);
  return made;
}

export async function guestStatus(
  client: ProxmoxClient,
  node: string,
  type: GuestType,
  vmid: number,
): Promise<string> {
  const current = (await client.get(
    guestPath(node, type, vmid, "status", "current"),
  )) as Config | null;
  return String(current?.status ?? "unknown");
}

/** IPv4 addresses (without prefix) a running guest reports, loopback left out. */
export async function guestAddresses(
  client: ProxmoxClient,
  node: string,
  type: GuestType,
  vmid: number,
): Promise<string[]> {
  const found: string[] = [];
  const keep = (address: unknown) => {
    const ip = String(address ?? "").split("/")[0] ?? "";
    if (/^\d+\.\d+\.\d+\.\d+$/.test(ip) && !ip.startsWith("127.")) found.push(ip);
  };
  try {
    if (type === "lxc") {
      const interfaces = (await client.get(guestPath(node, type, vmid, "interfaces"))) as
        | Config[]
        | null;
      for (const iface of interfaces ?? []) {
        if (iface.name === "lo") continue;
        if (iface.inet !== undefined) keep(iface.inet);
        for (const a of (iface["ip-addresses"] as Config[] | undefined) ?? []) {
          if (a["ip-address-type"] === "inet") keep(a["ip-address"]);
        }
      }
    } else {
      const answer = (await client.get(
        guestPath(node, type, vmid, "agent", "network-get-interfaces"),
      )) as { result?: Config[] } | null;
      for (const iface of answer?.result ?? []) {
        if (iface.name === "lo") continue;
        for (const a of (iface["ip-addresses"] as Config[] | undefined) ?? []) {
          if (a["ip-address-type"] === "ipv4") keep(a["ip-address"]);
        }
      }
    }
  } catch (error) {
    // The agent answers 500 until it runs in the booting guest; that is "no address yet".
    if (error instanceof ProxmoxApiError && error.status === 500) return [];
    throw error;
  }
  return [...new Set(found)];
}
