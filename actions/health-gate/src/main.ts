import * as core from "@actions/core";
import { ActionError, debug, info, phase, warn } from "@smoker/action-kit";
import { dispatcherFor, type HealthReport, waitUntilHealthy } from "@smoker/health";
import { type GateSettings, readInputs } from "./inputs.js";
import {
  attemptLogger,
  duration,
  failureHint,
  failureLines,
  plural,
  summaryRows,
} from "./report.js";

export async function main(): Promise<void> {
  const settings = readInputs();
  if (settings.insecureTls) {
    warn(
      "insecure-tls is true: TLS certificates are NOT verified, so anything between the runner " +
        "and these hosts can answer for them. Pass the CA as ca-certificate instead.",
    );
  }
  const dispatcher = dispatcherFor({
    caCertificate: settings.caCertificate,
    insecureTls: settings.insecureTls,
  });
  try {
    await phase("Check health", () => checkHealth(settings, dispatcher));
  } finally {
    await dispatcher.destroy();
  }
}

async function checkHealth(
  settings: GateSettings,
  dispatcher: ReturnType<typeof dispatcherFor>,
): Promise<void> {
  const { checks, successThreshold } = settings;
  const passes = successThreshold === 1 ? "1 pass" : `${successThreshold} passes in a row`;
  const names = checks.map((c) => c.name).join(", ");
  info(
    `Waiting up to ${duration(settings.timeoutMs)} for ${plural(checks.length, "check")} (${passes} each): ${names}`,
  );
  const report = await waitUntilHealthy(checks, {
    timeoutMs: settings.timeoutMs,
    intervalMs: settings.intervalMs,
    successThreshold,
    dispatcher,
    onAttempt: attemptLogger(info, debug),
  });
  setOutputs(report);
  await writeSummary(report, settings);
  if (!report.healthy) {
    const failing = failureLines(report);
    const within = `not healthy within ${duration(settings.timeoutMs)}`;
    throw new ActionError(
      `${failing.length} of ${plural(checks.length, "check")} ${within}: ${failing.join("; ")}`,
      { hint: failureHint(report) },
    );
  }
  info(`All healthy after ${duration(report.timeToHealthyMs ?? 0)}`);
}

function setOutputs(report: HealthReport): void {
  core.setOutput("healthy", report.healthy ? "true" : "false");
  core.setOutput("report", JSON.stringify(report));
  core.setOutput(
    "time-to-healthy-ms",
    report.timeToHealthyMs === undefined ? "" : String(report.timeToHealthyMs),
  );
}

async function writeSummary(report: HealthReport, settings: GateSettings): Promise<void> {
  // Outside a runner there is no summary file; the log already says everything.
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const [header = [], ...rows] = summaryRows(report);
  const verdict = report.healthy
    ? `✅ Healthy after ${duration(report.timeToHealthyMs ?? 0)}`
    : `❌ Not healthy within ${duration(settings.timeoutMs)}`;
  try {
    await core.summary
      .addHeading("Health gate", 3)
      .addRaw(verdict, true)
      .addTable([header.map((data) => ({ data, header: true })), ...rows])
      .write();
  } catch (error) {
    // A summary that cannot be written must not hide the gate's own result.
    warn(`Could not write the job summary: ${(error as Error).message}`);
  }
}
