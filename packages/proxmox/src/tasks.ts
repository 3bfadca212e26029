import { setTimeout as sleep } from "node:timers/promises";
import { apiPath, type ProxmoxClient } from "./client.js";
import { ProxmoxTaskError } from "./errors.js";

// UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>: (pve-common PVE/UPID.pm).
const UPID =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

export interface Upid {
  upid: string;
  node: string;
  type: string;
  id: string;
}

/** The parts of a UPID, or undefined when `text` is not one. */
export function parseUpid(text: unknown): Upid | undefined {
  if (typeof text !== "string") return undefined;
  const match = UPID.exec(text);
  if (!match) return undefined;
  return { upid: text, node: match[1]!, type: match[6]!, id: match[7]! };
}

/** `OK` and `WARNINGS: n` are successes (pve-manager Tasks.pm); anything else is the error. */
export function taskSucceeded(exitstatus: string): boolean {
  return exitstatus === "OK" || /^WARNINGS: \d+$/.test(exitstatus);
}

export interface WaitOptions {
  /** Give up after this long (the task keeps running on the node). Default 30 min. */
  timeoutMs?: number;
  /** First wait between polls; it grows by half each poll up to maxPollMs. */
  pollMs?: number;
  maxPollMs?: number;
  /** Lines of the log to show when the task fails. */
  tailLines?: number;
}

export interface TaskResult {
  upid: string;
  exitstatus: string;
}

/**
 * Polls `/nodes/{node}/tasks/{upid}/status` with backoff until the task has stopped. Returns
 * when it ended OK (or with warnings); throws ProxmoxTaskError with the log's tail otherwise.
 */
export async function waitForTask(
  client: ProxmoxClient,
  upidText: unknown,
  what: string,
  options: WaitOptions = {},
): Promise<TaskResult> {
  const upid = parseUpid(upidText);
  if (upid === undefined) {
    throw new Error(`${what}: Proxmox answered ${JSON.stringify(upidText)}, not a task id (UPID)`);
  }
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const deadline = Date.now() + timeoutMs;
  let pollMs = options.pollMs ?? 200;
  const maxPollMs = options.maxPollMs ?? 3_000;
  for (;;) {
    const status = (await client.get(
      apiPath("nodes", upid.node, "tasks", upid.upid, "status"),
    )) as { status?: string; exitstatus?: string } | null;
    if (status?.status === "stopped") {
      const exitstatus = status.exitstatus ?? "unexpected status";
      if (taskSucceeded(exitstatus)) return { upid: upid.upid, exitstatus };
      const tail = await taskLogTail(client, upid, options.tailLines ?? 20);
      throw new ProxmoxTaskError(what, upid.upid, exitstatus, tail);
    }
    if (Date.now() + pollMs > deadline) {
      throw new Error(
        `${what}: task ${upid.upid} still running after ${Math.round(timeoutMs / 1000)} s; it goes on on the node (see its Tasks list)`,
      );
    }
    await sleep(pollMs);
    pollMs = Math.min(Math.round(pollMs * 1.5), maxPollMs);
  }
}

/** The last `lines` lines of a task's log (two requests when the log is long). */
export async function taskLogTail(
  client: ProxmoxClient,
  upid: Upid,
  lines: number,
): Promise<string[]> {
  const path = apiPath("nodes", upid.node, "tasks", upid.upid, "log");
  try {
    const first = await client.request("GET", path, { start: 0, limit: 500 });
    let entries = Array.isArray(first.data)
      ? (first.data as Array<{ n?: number; t?: string }>)
      : [];
    if (first.total !== undefined && first.total > entries.length) {
      const start = Math.max(0, first.total - lines);
      const last = await client.request("GET", path, { start, limit: lines });
      entries = Array.isArray(last.data) ? (last.data as typeof entries) : entries;
    }
    return entries.slice(-lines).map((entry) => String(entry.t ?? ""));
  } catch (error) {
    return [`(could not read the task log: ${(error as Error).message})`];
  }
}
