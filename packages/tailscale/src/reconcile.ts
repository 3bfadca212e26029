import { type Remote, render } from "@smoker/remote";
import type { DesiredEntry } from "./desired.js";
import {
  checkFunnelAllowed,
  type NodeStatus,
  readNodeStatus,
  readServeConfig,
  runChange,
  TailscaleError,
} from "./node.js";
import {
  commandFor,
  describeCurrent,
  describeStep,
  type Plan,
  planChanges,
  urlOf,
} from "./plan.js";
import { currentEntries, type ServeConfig } from "./serve-config.js";

export interface Reporter {
  phase<T>(name: string, fn: () => Promise<T>): Promise<T>;
  info(message: string): void;
  warn(message: string): void;
}

export interface ReconcileResult {
  changed: boolean;
  node: NodeStatus;
  /** The plan that was applied (empty steps: nothing to do). */
  plan: Plan;
  /** The commands run, as the remote shell saw them. */
  commands: string[];
  /** `tailscale serve status --json` after the run. */
  serveConfig: ServeConfig;
  /** The URLs of the desired entries, funnel (public) or not. */
  urls: { url: string; funnel: boolean; port: number; path: string }[];
}

/**
 * Makes the node serve what `desired` says: reads its state, plans the difference, applies
 * only that, and reads the state back to prove it holds. A node already right is not touched.
 */
export async function reconcile(
  remote: Remote,
  desired: readonly DesiredEntry[],
  options: { resetOthers: boolean },
  report: Reporter,
): Promise<ReconcileResult> {
  const { node, plan } = await report.phase("Read serve config", async () => {
    const node = await readNodeStatus(remote);
    const funnelPorts = [...new Set(desired.filter((d) => d.funnel).map((d) => d.port))];
    checkFunnelAllowed(node, funnelPorts, `${node.dnsName} (${remote.where})`);
    const before = currentEntries(await readServeConfig(remote), node.dnsName);
    report.info(
      `${node.dnsName} serves ${before.length === 0 ? "nothing" : before.map((c) => describeCurrent(c, node.dnsName)).join("; ")}`,
    );
    const plan = planChanges(desired, before, options);
    for (const extra of plan.extras) {
      report.warn(
        `Not in the config, left alone: ${describeCurrent(extra, node.dnsName)} (reset-others: true turns it off)`,
      );
    }
    return { node, plan };
  });

  const commands: string[] = [];
  if (plan.steps.length === 0) {
    report.info(`Nothing to change: ${node.dnsName} already serves the config`);
  } else {
    await report.phase(`Apply ${plan.steps.length} change(s)`, async () => {
      for (const step of plan.steps) {
        const script = commandFor(step);
        report.info(`${describeStep(step, node.dnsName)}: ${render(script)}`);
        commands.push(render(script));
        await runChange(remote, script, describeStep(step, node.dnsName));
      }
    });
  }

  const serveConfig = await report.phase("Confirm serve config", async () => {
    const sc = await readServeConfig(remote);
    const after = planChanges(desired, currentEntries(sc, node.dnsName), options);
    if (after.steps.length > 0) {
      throw new TailscaleError(
        "failed",
        `${node.dnsName} still differs from the config after applying it: ${after.steps.map((s) => describeStep(s, node.dnsName)).join("; ")}`,
        "Something else changed the serve config meanwhile, or the CLI ignored a change: check `tailscale serve status` on the host and run this again.",
      );
    }
    report.info(`${node.dnsName} serves the config (${desired.length} entries)`);
    return sc;
  });

  return {
    changed: plan.steps.length > 0,
    node,
    plan,
    commands,
    serveConfig,
    urls: desired.map((d) => ({
      url: urlOf(node.dnsName, d),
      funnel: d.funnel,
      port: d.port,
      path: d.path,
    })),
  };
}
