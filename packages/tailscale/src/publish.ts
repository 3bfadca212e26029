import { ActionError } from "@smoker/action-kit";
import type { HealthReport } from "@smoker/health";
import { connect } from "@smoker/remote";
import type { FunnelSettings, FunnelVerifySettings } from "./inputs.js";
import { type ReconcileResult, type Reporter, reconcile } from "./reconcile.js";
import { describe, verifyUrls } from "./verify.js";

/** The public URLs did not all answer; `health` says how each one did. */
export class FunnelVerifyError extends ActionError {
  readonly health: HealthReport;

  constructor(message: string, health: HealthReport, hint: string) {
    super(message, { hint });
    this.name = "FunnelVerifyError";
    this.health = health;
  }
}

/**
 * funnel-config's first half, shared by the action and `smoker funnel`: connects to the host,
 * makes its serve config match `settings.desired`, and closes the connection.
 */
export async function applyFunnelConfig(
  settings: FunnelSettings,
  report: Reporter,
): Promise<ReconcileResult> {
  const remote = await report.phase(`Connect to ${settings.connection.host}`, () =>
    connect(settings.connection),
  );
  let result: ReconcileResult;
  try {
    result = await reconcile(
      remote,
      settings.desired,
      { resetOthers: settings.resetOthers },
      report,
    );
  } finally {
    remote.close();
  }
  report.info(
    result.changed
      ? `Changed: ${result.commands.length} command(s) run`
      : "Unchanged: the node already served this config; no change was made",
  );
  return result;
}

/**
 * funnel-config's second half: probes each public (funnel) URL of `result` until it answers
 * through the funnel to its target. Throws FunnelVerifyError naming the URLs that did not; resolves
 * to undefined when there is nothing public to probe.
 */
export async function verifyPublicUrls(
  result: ReconcileResult,
  verify: FunnelVerifySettings,
  report: Reporter,
): Promise<HealthReport | undefined> {
  const publicUrls = result.urls.filter((u) => u.funnel).map((u) => u.url);
  if (publicUrls.length === 0) {
    report.info("verify: no funnel entries, so no public URL to probe");
    return undefined;
  }
  return report.phase("Verify public URLs", async () => {
    if (verify.address !== undefined) {
      report.info(`Connecting to ${verify.address} for ${publicUrls.join(", ")} (verify-address)`);
    }
    const health = await verifyUrls(publicUrls, {
      ...verify,
      onAttempt: (line) => report.info(line),
    });
    if (!health.healthy) {
      const failing = health.checks
        .filter((c) => !c.healthy)
        .map((c) => `${c.url}: ${describe(c.lastStatus, c.lastError)}`);
      throw new FunnelVerifyError(
        `Not answering through funnel: ${failing.join("; ")}`,
        health,
        "The serve config is applied, but the app behind it did not answer: check that it listens on its target port on the host (a 502 means serve could not reach it).",
      );
    }
    report.info(`All ${publicUrls.length} public URL(s) answer`);
    return health;
  });
}
