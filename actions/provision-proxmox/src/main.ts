import * as core from "@actions/core";
import { info, phase, warn } from "@smoker/action-kit";
import {
  CHANGE_HEADER,
  type Change,
  changeRows,
  type NodePlan,
  type ProvisionReporter,
  provision,
  readProvisionInputs,
  unmanagedLine,
} from "@smoker/proxmox";

const reporter: ProvisionReporter = { phase, info, warn };

export async function main(): Promise<void> {
  const settings = readProvisionInputs();
  const result = await provision(settings, reporter);
  switch (result.mode) {
    case "plan":
    case "apply":
      core.setOutput("guests", JSON.stringify(result.guests));
      core.setOutput("changes", JSON.stringify(result.changes));
      await writeSummary(result.mode, settings.node, result.plan, result.changes);
      break;
    case "snapshot":
    case "rollback-snapshot":
      core.setOutput("snapshot", result.snapshots.join("\n"));
      break;
    case "backup":
      core.setOutput("backups", JSON.stringify(result.backups));
      break;
  }
}

async function writeSummary(
  mode: "plan" | "apply",
  node: string,
  plan: NodePlan,
  changes: Change[],
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const title = mode === "plan" ? `Proxmox plan for ${node}` : `Proxmox apply on ${node}`;
  const verdict =
    changes.length === 0
      ? "No change: the node matches the spec."
      : mode === "plan"
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
    const unmanaged = unmanagedLine(plan.unmanaged, node);
    if (unmanaged !== undefined) summary.addRaw(unmanaged, true);
    await summary.write();
  } catch (error) {
    warn(`Could not write the job summary: ${(error as Error).message}`);
  }
}
