import { apiPath, type ProxmoxClient } from "./client.js";
import { guestStatus } from "./guests.js";
import type { GuestType } from "./spec.js";
import { parseUpid, taskLogTail, type WaitOptions, waitForTask } from "./tasks.js";

export const SNAPSHOT_PREFIX = "pre-deploy-";
const MAX_SNAPSHOT_NAME = 40;

/**
 * `pre-deploy-<version>` as Proxmox allows snapshot names (pve-common JSONSchema.pm,
 * pve-configid: a letter first, then [a-z0-9_-], at most 40 characters; dots are not allowed).
 */
export function snapshotName(version: string): string {
  const cleaned = version
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
  if (cleaned === "")
    throw new Error(`version ${JSON.stringify(version)} has nothing to name a snapshot after`);
  return `${SNAPSHOT_PREFIX}${cleaned}`.slice(0, MAX_SNAPSHOT_NAME).replace(/-+$/, "");
}

export interface Snapshot {
  name: string;
  snaptime: number;
  description: string;
}

export interface GuestRef {
  name: string;
  vmid: number;
  type: GuestType;
}

const snapshotPath = (node: string, g: GuestRef, ...rest: string[]) =>
  apiPath("nodes", node, g.type, g.vmid, "snapshot", ...rest);

/** The guest's snapshots, newest first, without the `current` pseudo-entry. */
export async function listSnapshots(
  client: ProxmoxClient,
  node: string,
  g: GuestRef,
): Promise<Snapshot[]> {
  const items =
    ((await client.get(snapshotPath(node, g))) as Array<Record<string, unknown>> | null) ?? [];
  const parents = new Map(
    items.map((s) => [String(s.name), s.parent === undefined ? undefined : String(s.parent)]),
  );
  // snaptime is in whole seconds, so snapshots taken within one second tie; a snapshot's
  // parent is the one taken before it, so the longer its chain of parents, the newer it is.
  const depth = (name: string): number => {
    let n = 0;
    const seen = new Set<string>();
    for (let p = parents.get(name); p !== undefined && !seen.has(p); p = parents.get(p)) {
      seen.add(p);
      n++;
    }
    return n;
  };
  return items
    .filter((s) => s.name !== "current")
    .map((s) => ({
      name: String(s.name),
      snaptime: Number(s.snaptime ?? 0),
      description: String(s.description ?? ""),
      depth: depth(String(s.name)),
    }))
    .sort((a, b) => b.snaptime - a.snaptime || b.depth - a.depth)
    .map(({ depth: _, ...snapshot }) => snapshot);
}

export interface SnapshotResult {
  created: boolean;
  /** Our snapshots removed to keep `keep`. */
  removed: string[];
}

/**
 * Takes snapshot `name` (unless the guest already has it), then removes the oldest of OUR
 * snapshots (`pre-deploy-*`) beyond `keep`. Snapshots with other names are never touched.
 */
export async function takeSnapshot(
  client: ProxmoxClient,
  node: string,
  g: GuestRef,
  name: string,
  options: { keep: number; description: string; log: (m: string) => void; task?: WaitOptions },
): Promise<SnapshotResult> {
  const before = await listSnapshots(client, node, g);
  let created = false;
  if (before.some((s) => s.name === name)) {
    options.log(`${g.name}: snapshot ${name} exists already; kept as it is`);
  } else {
    options.log(`${g.name}: taking snapshot ${name}`);
    const upid = await client.post(snapshotPath(node, g), {
      snapname: name,
      description: options.description,
    });
    await waitForTask(client, upid, `Snapshot ${g.name} as ${name}`, options.task);
    created = true;
  }
  const ours = (await listSnapshots(client, node, g)).filter((s) =>
    s.name.startsWith(SNAPSHOT_PREFIX),
  );
  const removed: string[] = [];
  for (const old of ours.slice(options.keep)) {
    if (old.name === name) continue;
    options.log(`${g.name}: removing old snapshot ${old.name}`);
    const upid = await client.delete(snapshotPath(node, g, old.name));
    await waitForTask(client, upid, `Remove snapshot ${old.name} of ${g.name}`, options.task);
    removed.push(old.name);
  }
  return { created, removed };
}

/** Our newest snapshot of the guest, if any. */
export async function newestOwnSnapshot(
  client: ProxmoxClient,
  node: string,
  g: GuestRef,
): Promise<string | undefined> {
  return (await listSnapshots(client, node, g)).find((s) => s.name.startsWith(SNAPSHOT_PREFIX))
    ?.name;
}

/**
 * Rolls the guest back to snapshot `name`; a guest that was running before is running after
 * (a rollback to a snapshot without RAM leaves it stopped).
 */
export async function rollbackSnapshot(
  client: ProxmoxClient,
  node: string,
  g: GuestRef,
  name: string,
  options: { log: (m: string) => void; task?: WaitOptions },
): Promise<void> {
  const snapshots = await listSnapshots(client, node, g);
  if (!snapshots.some((s) => s.name === name)) {
    const names = snapshots.map((s) => s.name).join(", ") || "none";
    throw Object.assign(
      new Error(`${g.name} (${g.vmid}) has no snapshot ${name} (it has: ${names})`),
      {
        hint: "Pass the snapshot (or version) of a snapshot the guest has.",
      },
    );
  }
  const wasRunning = (await guestStatus(client, node, g.type, g.vmid)) === "running";
  options.log(`${g.name}: rolling back to ${name}`);
  const upid = await client.post(snapshotPath(node, g, name, "rollback"));
  await waitForTask(client, upid, `Roll ${g.name} back to ${name}`, options.task);
  if (wasRunning && (await guestStatus(client, node, g.type, g.vmid)) !== "running") {
    options.log(`${g.name}: starting again`);
    const start = await client.post(apiPath("nodes", node, g.type, g.vmid, "status", "start"));
    await waitForTask(client, start, `Start ${g.name}`, options.task);
  }
}

/**
 * vzdump of one guest to `storage`; returns the backup's volume id, read from the storage's
 * backup list (newest for the guest since the task began), else from the task log.
 */
export async function backupGuest(
  client: ProxmoxClient,
  node: string,
  g: GuestRef,
  options: {
    storage: string;
    mode: "snapshot" | "suspend" | "stop";
    log: (m: string) => void;
    task?: WaitOptions;
  },
): Promise<string> {
  const startedS = Math.floor(Date.now() / 1000) - 5;
  options.log(`${g.name}: backing up to ${options.storage} (${options.mode} mode)`);
  const upidText = await client.post(apiPath("nodes", node, "vzdump"), {
    vmid: String(g.vmid),
    storage: options.storage,
    mode: options.mode,
    compress: "zstd",
  });
  await waitForTask(client, upidText, `Back up ${g.name}`, {
    timeoutMs: 6 * 3600_000,
    ...options.task,
  });
  const content =
    ((await client.get(apiPath("nodes", node, "storage", options.storage, "content"), {
      content: "backup",
      vmid: g.vmid,
    })) as Array<Record<string, unknown>> | null) ?? [];
  const newest = content
    .filter(
      (c) =>
        Number(c.vmid) === g.vmid &&
        Number(c.ctime ?? 0) >= startedS &&
        typeof c.volid === "string",
    )
    .sort((a, b) => Number(b.ctime) - Number(a.ctime))[0];
  if (newest !== undefined) return String(newest.volid);
  const upid = parseUpid(upidText)!;
  for (const line of (await taskLogTail(client, upid, 200)).reverse()) {
    const match = /creating (?:vzdump )?archive '([^']+)'/.exec(line);
    if (match) return `${options.storage}:backup/${match[1]!.split("/").pop()}`;
  }
  throw new Error(`Backup of ${g.name} finished, but no backup of it shows on ${options.storage}`);
}
