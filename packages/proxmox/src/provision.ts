// What provision-proxmox does once its inputs are read, shared by the action (its main.ts sets
// outputs and the job summary from the result) and the smoker CLI's `provision` command.
import { ActionError } from "@smoker/action-kit";
import { ProxmoxClient } from "./client.js";
import { applyGuest, type Change, guestStatus, type NodePlan, planGuests } from "./guests.js";
import type { ProvisionSettings } from "./inputs.js";
import { CHANGE_HEADER, changeRows, planSummary, textTable, unmanagedLine } from "./report.js";
import { backupGuest, newestOwnSnapshot, rollbackSnapshot, takeSnapshot } from "./snapshots.js";
import type { GuestSpec } from "./spec.js";
import { waitUntilReachable } from "./wait.js";

/** Where progress goes: action-kit's phase/info/warn in a runner, the terminal in the CLI. */
export interface ProvisionReporter {
  phase<T>(name: string, fn: () => Promise<T>): Promise<T>;
  info(message: string): void;
  warn(message: string): void;
  /** Tables (header row first); without it they go to info as plain text. */
  table?(rows: string[][]): void;
}

/** One guest of the spec as the `guests` output reports it. */
export interface GuestOutput {
  vmid: number;
  name: string;
  type: string;
  /** "running", "stopped", or "missing" (plan: not created yet). */
  status: string;
  /** Its address once it exists (after apply: the one it answered on), else null. */
  ip: string | null;
}

export interface BackupOutput {
  vmid: number;
  name: string;
  volid: string;
}

export type ProvisionResult =
  | {
      mode: "plan" | "apply";
      plan: NodePlan;
      /** plan: the changes apply would make; apply: the changes made. */
      changes: Change[];
      guests: GuestOutput[];
    }
  | {
      mode: "snapshot" | "rollback-snapshot";
      /** The snapshot taken, or those rolled back to (one per guest, deduplicated). */
      snapshots: string[];
    }
  | { mode: "backup"; backups: BackupOutput[] };

/** Runs the settings' mode against the node; throws on the first failure (with a hint). */
export async function provision(
  s: ProvisionSettings,
  report: ProvisionReporter,
): Promise<ProvisionResult> {
  if (s.trust.kind === "insecure") {
    report.warn(
      "insecure-tls is true: the Proxmox node's certificate is NOT verified, so anything between " +
        "the runner and the node can read the API token. Pin it with tls-fingerprint instead.",
    );
  }
  const client = new ProxmoxClient({
    apiUrl: s.apiUrl,
    tokenId: s.tokenId,
    tokenSecret: s.tokenSecret,
    trust: s.trust,
    onRetry: (message) => report.info(`Transient failure: ${message}`),
  });
  report.info(`Proxmox ${client.base.host}, node ${s.node}, mode ${s.mode}`);
  try {
    switch (s.mode) {
      case "plan":
      case "apply":
        return await planAndApply(client, s, report);
      case "snapshot":
        return await snapshot(client, s, report);
      case "rollback-snapshot":
        return await rollback(client, s, report);
      case "backup":
        return await backup(client, s, report);
    }
  } finally {
    await client.close();
  }
}

const task = (s: ProvisionSettings) => ({ timeoutMs: s.taskTimeoutMs });

function ipOf(spec: GuestSpec): string {
  return spec.network.ip.split("/")[0]!;
}

function table(report: ProvisionReporter, header: string[], rows: string[][]): void {
  if (report.table) report.table([header, ...rows]);
  else report.info(textTable(header, rows));
}

async function planAndApply(
  client: ProxmoxClient,
  s: ProvisionSettings,
  report: ProvisionReporter,
): Promise<ProvisionResult> {
  const plan = await report.phase(`Compare ${s.specPath} with ${s.node}`, async () => {
    const p = await planGuests(client, s.node, s.guests, s.allGuests);
    const changes = p.guests.flatMap((g) => g.changes);
    if (changes.length > 0) table(report, CHANGE_HEADER, changeRows(changes));
    for (const note of p.guests.flatMap((g) => g.notes)) report.info(note);
    const unmanaged = unmanagedLine(p.unmanaged, s.node);
    if (unmanaged !== undefined) report.info(unmanaged);
    report.info(planSummary(p));
    return p;
  });
  const status = new Map(plan.guests.map((g) => [g.spec.vmid, g.current?.status ?? "missing"]));
  const ips = new Map<number, string | null>(
    plan.guests.map((g) => [g.spec.vmid, g.current ? ipOf(g.spec) : null]),
  );
  let changes: Change[] = plan.guests.flatMap((g) => g.changes);
  if (s.mode === "apply") {
    changes = [];
    for (const g of plan.guests) {
      if (g.changes.length === 0) continue;
      const made = await report.phase(
        `Converge ${g.spec.name} (${g.spec.type} ${g.spec.vmid})`,
        () => applyGuest(client, s.node, g, { log: (m) => report.info(m), task: task(s) }),
      );
      changes.push(...made);
    }
    for (const g of plan.guests) {
      status.set(g.spec.vmid, await guestStatus(client, s.node, g.spec.type, g.spec.vmid));
      ips.set(g.spec.vmid, ipOf(g.spec));
    }
    if (s.waitFor !== "none") {
      await report.phase(`Wait for ${plan.guests.length} guest(s) to be reachable`, async () => {
        for (const g of plan.guests) {
          const ip = await waitUntilReachable(client, s.node, g.spec, {
            timeoutMs: s.waitTimeoutMs,
            ssh: s.waitFor === "ssh",
            log: (m) => report.info(m),
          });
          ips.set(g.spec.vmid, ip);
        }
      });
    }
    report.info(
      changes.length === 0
        ? "Nothing to change: the node matches the spec"
        : `Made ${changes.length} change(s)`,
    );
  }
  const guests: GuestOutput[] = plan.guests.map((g) => ({
    vmid: g.spec.vmid,
    name: g.spec.name,
    type: g.spec.type,
    status: status.get(g.spec.vmid) ?? "unknown",
    ip: ips.get(g.spec.vmid) ?? null,
  }));
  return { mode: s.mode === "apply" ? "apply" : "plan", plan, changes, guests };
}

async function snapshot(
  client: ProxmoxClient,
  s: ProvisionSettings,
  report: ProvisionReporter,
): Promise<ProvisionResult> {
  const name = s.snapshot!;
  for (const g of s.guests) {
    await report.phase(`Snapshot ${g.name} as ${name}`, async () => {
      const result = await takeSnapshot(client, s.node, g, name, {
        keep: s.keepSnapshots,
        description: `smoker: before deploying (${name})`,
        log: (m) => report.info(m),
        task: task(s),
      });
      report.info(
        `${g.name}: ${result.created ? "taken" : "already there"}${result.removed.length > 0 ? `; removed ${result.removed.join(", ")}` : ""}`,
      );
    });
  }
  return { mode: "snapshot", snapshots: [name] };
}

async function rollback(
  client: ProxmoxClient,
  s: ProvisionSettings,
  report: ProvisionReporter,
): Promise<ProvisionResult> {
  const used = new Set<string>();
  for (const g of s.guests) {
    const name = s.snapshot ?? (await newestOwnSnapshot(client, s.node, g));
    if (name === undefined) {
      throw new ActionError(`${g.name} (${g.vmid}) has no pre-deploy snapshot to roll back to`, {
        hint: "Take one with mode: snapshot before deploying, or name one with snapshot.",
      });
    }
    await report.phase(`Roll ${g.name} back to ${name}`, () =>
      rollbackSnapshot(client, s.node, g, name, { log: (m) => report.info(m), task: task(s) }),
    );
    used.add(name);
  }
  return { mode: "rollback-snapshot", snapshots: [...used] };
}

async function backup(
  client: ProxmoxClient,
  s: ProvisionSettings,
  report: ProvisionReporter,
): Promise<ProvisionResult> {
  const backups: BackupOutput[] = [];
  for (const g of s.guests) {
    const volid = await report.phase(`Back up ${g.name} (${g.type} ${g.vmid})`, () =>
      backupGuest(client, s.node, g, {
        storage: s.backupStorage,
        mode: s.backupMode,
        log: (m) => report.info(m),
        task: task(s),
      }),
    );
    report.info(`${g.name}: ${volid}`);
    backups.push({ vmid: g.vmid, name: g.name, volid });
  }
  return { mode: "backup", backups };
}
