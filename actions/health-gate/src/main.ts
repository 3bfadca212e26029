import * as core from "@actions/core";
import { ActionError, debug, info, phase, warn } from "@smoker/action-kit";
import { watchProject } from "@smoker/compose";
import { dispatcherFor, type HealthReport, waitUntilHealthy } from "@smoker/health";
import { connect, type Remote } from "@smoker/remote";
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
  const remote = settings.watch
    ? await phase(`Connect to ${settings.watch.connection.host}`, () =>
        connect(settings.watch!.connection),
      )
    : undefined;
  try {
    await phase("Check health", () => checkHealth(settings, dispatcher, remote));
  } finally {
    remote?.close();
    await dispatcher.destroy();
  }
}

/**
 * Watches the stack's containers until they are all up (and, with stable-for, have stayed up
 * that long), failing at once when one exits, restarts or turns unhealthy: a crash loop fails
 * the gate in seconds, not at the timeout.
 */
async function watchContainers(
  remote: Remote,
  watch: NonNullable<GateSettings["watch"]>,
  timeoutMs: number,
  stop: AbortController,
  wake: EventTarget,
) {
  const project = watch.projectName;
  try {
    const watched = await watchProject(remote, project, {
      timeoutMs,
      // A steady 250 ms poll (one `docker inspect` over the open connection) rather than the
      // default back-off to 2 s: the checks are woken when it sees the stack up, so its lag
      // is the gate's (bench/: 195 ms after Docker's healthy, 482 ms on HTTP alone).
      maxPollMs: 250,
      stableMs: watch.stableMs,
      onAllUp: (states) => {
        info(`Containers of ${project} up: ${states.map((c) => c.service).join(", ")}`);
        if (watch.stableMs > 0) info(`Watching that they stay up for ${duration(watch.stableMs)}`);
        // The services are most likely answering now: checks backing off probe again at once.
        wake.dispatchEvent(new Event("wake"));
      },
    });
    if (watch.stableMs > 0) {
      const names = watched.services.map((s) => s.service).join(", ");
      info(`Containers of ${project} stayed up for ${duration(watch.stableMs)}: ${names}`);
    }
  } catch (error) {
    stop.abort();
    throw error;
  }
}

async function checkHealth(
  settings: GateSettings,
  dispatcher: ReturnType<typeof dispatcherFor>,
  remote: Remote | undefined,
): Promise<void> {
  const { checks, successThreshold } = settings;
  const passes = successThreshold === 1 ? "1 pass" : `${successThreshold} passes in a row`;
  const names = checks.map((c) => c.name).join(", ");
  info(
    `Waiting up to ${duration(settings.timeoutMs)} for ${plural(checks.length, "check")} (${passes} each): ${names}`,
  );
  const stop = new AbortController();
  const wake = new EventTarget();
  const watching = remote
    ? watchContainers(remote, settings.watch!, settings.timeoutMs, stop, wake)
    : undefined;
  const checking = waitUntilHealthy(checks, {
    timeoutMs: settings.timeoutMs,
    intervalMs: settings.intervalMs,
    successThreshold,
    dispatcher,
    signal: stop.signal,
    wake,
    onAttempt: attemptLogger(info, debug),
  });
  // A failing container ends the gate at once; the HTTP checks are stopped then.
  const [checked, watched] = await Promise.allSettled([checking, watching]);
  if (checked.status === "rejected") throw checked.reason;
  if (watched.status === "rejected") {
    // The checks may have passed before a container fell over: the gate did not.
    const { timeToHealthyMs: _, ...report } = checked.value;
    setOutputs({ ...report, healthy: false });
    throw watched.reason;
  }
  const report = checked.value;
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
