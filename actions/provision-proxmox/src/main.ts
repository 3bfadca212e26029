import * as core from "@actions/core";
import { ActionError, info, phase, warn } from "@smoker/action-kit";
import {
  applyGuest,
  backupGuest,
  type Change,
  type GuestSpec,
  guestStatus,
  type NodePlan,
  newestOwnSnapshot,
  ProxmoxClient,
  planGuests,
  rollbackSnapshot,
  takeSnapshot,
  waitUntilReachable,
} from "@smoker/proxmox";
import { readInputs, type Settings } from "./inputs.js";
import { CHANGE_HEADER, changeRows, planSummary, textTable, unmanagedLine } from "./report.js";

interface GuestOutput {
  vmid: number;
  name: string;
  type: string;
  status: string;
  ip: string | null;
}

export async function main(): Promise<void> {
  const settings = readInputs();
  if (settings.trust.kind === "insecure") {
    warn(
      "insecure-tls is true: the Proxmox node's certificate is NOT verified, so anything between " +
        "the runner and the node can read the API token. Pin it with tls-fingerprint instead.",
    );
  }
  const client = new ProxmoxClient({
    apiUrl: settings.apiUrl,
    tokenId: settings.tokenId,
    tokenSecret: settings.tokenSecret,
    trust: settings.trust,
    onRetry: (message) => info(`Transient failure: ${message}`),
  });
  info(`Proxmox ${client.base.host}, node ${settings.node}, mode ${settings.mode}`);
  try {
    switch (settings.mode) {
      case "plan":
      case "apply":
        await planAndApply(client, settings);
        break;
      case "snapshot":
        await snapshot(client, settings);
        break;
      case "rollback-snapshot":
        await rollback(client, settings);
        break;
      case "backup":
        await backup(client, settings);
        break;
    }
  } finally {
    await client.close();
  }
}

const task = (s: Settings) => ({ timeoutMs: s.taskTimeoutMs });

function ipOf(spec: GuestSpec): string {
  return spec.network.ip.split("/")[0]!;
}

async function planAndApply(client: ProxmoxClient, s: Settings): Promise<void> {
  const plan = await phase(`Compare ${s.specPath} with ${s.node}`, async () => {
    const p = await planGuests(client, s.node, s.guests, s.allGuests);
    const changes = p.guests.flatMap((g) => g.changes);
    if (changes.length > 0) info(textTable(CHANGE_HEADER, changeRows(changes)));
    for (const note of p.guests.flatMap((g) => g.notes)) info(note);
    const unmanaged = unmanagedLine(p.unmanaged, s.node);
    if (unmanaged !== undefined) info(unmanaged);
    info(planSummary(p));
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
      const made = await phase(`Converge ${g.spec.name} (${g.spec.type} ${g.spec.vmid})`, () =>
        applyGuest(client, s.node, g, { log: info, task: task(s) }),
      );
      changes.push(...made);
    }
    for (const g of plan.guests) {
      status.set(g.spec.vmid, await guestStatus(client, s.node, g.spec.type, g.spec.vmid));
      ips.set(g.spec.vmid, ipOf(g.spec));
    }
    if (s.waitFor !== "none") {
      await phase(`Wait for ${plan.guests.length} guest(s) to be reachable`, async () => {
        for (const g of plan.guests) {
          const ip = await waitUntilReachable(client, s.node, g.spec, {
            timeoutMs: s.waitTimeoutMs,
            ssh: s.waitFor === "ssh",
            log: info,
          });
          ips.set(g.spec.vmid, ip);
        }
      });
    }
    info(
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
  core.setOutput("guests", JSON.stringify(guests));
  core.setOutput("changes", JSON.stringify(changes));
  await writeSummary(s, plan, changes);
}

async function writeSummary(s: Settings, plan: NodePlan, changes: Change[]): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const title = s.mode === "plan" ? `Proxmox plan for ${s.node}` : `Proxmox apply on ${s.node}`;
  const verdict =
    changes.length === 0
      ? "No change: the node matches the spec."
      : s.mode === "plan"
        ? `${changes.length} change(s) would be made (nothing was changed).`
        : `${changes.length} change(s) made.`;
  try {
    const summary = core.summary.addHeading(title, 3).addRaw(verdict, true);
    if (changes.length > 0) {
      summary.addTable([
        CHANGE_HEADER.map((data) => ({ data, header: true })),
        ...changeRows(changes),
      ]);
    }
    const unmanaged = unmanagedLine(plan.unmanaged, s.node);
    if (unmanaged !== undefined) summary.addRaw(unmanaged, true);
    await summary.write();
  } catch (error) {
    warn(`Could not write the job summary: ${(error as Error).message}`);
  }
}

async function snapshot(client: ProxmoxClient, s: Settings): Promise<void> {
  const name = s.snapshot!;
  for (const g of s.guests) {
    await phase(`Snapshot ${g.name} as ${name}`, async () => {
      const result = await takeSnapshot(client, s.node, g, name, {
        keep: s.keepSnapshots,
        description: `smoker: before deploying (${name})`,
        log: info,
        task: task(s),
      });
      info(
        `${g.name}: ${result.created ? "taken" : "already there"}${result.removed.length > 0 ? `; removed ${result.removed.join(", ")}` : ""}`,
      );
    });
  }
  core.setOutput("snapshot", name);
}

async function rollback(client: ProxmoxClient, s: Settings): Promise<void> {
  const used = new Set<string>();
  for (const g of s.guests) {
    const name = s.snapshot ?? (await newestOwnSnapshot(client, s.node, g));
    if (name === undefined) {
      throw new ActionError(`${g.name} (${g.vmid}) has no pre-deploy snapshot to roll back to`, {
        hint: "Take one with mode: snapshot before deploying, or name one with snapshot.",
      });
    }
    await phase(`Roll ${g.name} back to ${name}`, () =>
      rollbackSnapshot(client, s.node, g, name, { log: info, task: task(s) }),
    );
    used.add(name);
  }
  core.setOutput("snapshot", [...used].join("\n"));
}

async function backup(client: ProxmoxClient, s: Settings): Promise<void> {
  const backups: Array<{ vmid: number; name: string; volid: string }> = [];
  for (const g of s.guests) {
    const volid = await phase(`Back up ${g.name} (${g.type} ${g.vmid})`, () =>
      backupGuest(client, s.node, g, {
        storage: s.backupStorage,
        mode: s.backupMode,
        log: info,
        task: task(s),
      }),
    );
    info(`${g.name}: ${volid}`);
    backups.push({ vmid: g.vmid, name: g.name, volid });
  }
  core.setOutput("backups", JSON.stringify(backups));
}
