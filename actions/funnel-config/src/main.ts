import * as core from "@actions/core";
import { ActionError, debug, info, phase, warn } from "@smoker/action-kit";
import { connect } from "@smoker/remote";
import { type ReconcileResult, reconcile } from "@smoker/tailscale";
import { readInputs } from "./inputs.js";
import { describe, verifyUrls } from "./verify.js";

const log = { info, warn, debug };

export async function main(): Promise<void> {
  const settings = readInputs(undefined, log);
  const remote = await phase(`Connect to ${settings.connection.host}`, () =>
    connect(settings.connection),
  );
  let result: ReconcileResult;
  try {
    result = await reconcile(
      remote,
      settings.desired,
      { resetOthers: settings.resetOthers },
      { phase, info, warn },
    );
  } finally {
    remote.close();
  }
  core.setOutput("changed", String(result.changed));
  core.setOutput("urls", JSON.stringify(result.urls));
  core.setOutput("serve-config", JSON.stringify(result.serveConfig));
  info(
    result.changed
      ? `Changed: ${result.commands.length} command(s) run`
      : "Unchanged: the node already served this config; no change was made",
  );

  const verify = settings.verify;
  const publicUrls = result.urls.filter((u) => u.funnel).map((u) => u.url);
  if (verify === undefined) return;
  if (publicUrls.length === 0) {
    info("verify: no funnel entries, so no public URL to probe");
    return;
  }
  await phase("Verify public URLs", async () => {
    if (verify.address !== undefined) {
      info(`Connecting to ${verify.address} for ${publicUrls.join(", ")} (verify-address)`);
    }
    const report = await verifyUrls(publicUrls, { ...verify, onAttempt: info });
    if (!report.healthy) {
      const failing = report.checks
        .filter((c) => !c.healthy)
        .map((c) => `${c.url}: ${describe(c.lastStatus, c.lastError)}`);
      throw new ActionError(`Not answering through funnel: ${failing.join("; ")}`, {
        hint: "The serve config is applied, but the app behind it did not answer: check that it listens on its target port on the host (a 502 means serve could not reach it).",
      });
    }
    info(`All ${publicUrls.length} public URL(s) answer`);
  });
}
