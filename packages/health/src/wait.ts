import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, type Dispatcher } from "undici";
import type { Check } from "./checks.js";
import { DEFAULT_PROBE_TIMEOUT_MS, type ProbeResult, probe } from "./probe.js";

export interface WaitOptions {
  /** When every check still failing is given up on. */
  timeoutMs: number;
  /** The first wait after a failure, and the wait between passes. Default 250 ms. */
  intervalMs?: number | undefined;
  /** Waits after failures double up to this. Default 5 s. */
  maxIntervalMs?: number | undefined;
  /** Consecutive passes a check needs to count as healthy. Default 2. */
  successThreshold?: number | undefined;
  /** One request's limit (never beyond the overall timeout). Default 10 s. */
  requestTimeoutMs?: number | undefined;
  /** From dispatcherFor (TLS settings); a private Agent, closed at the end, when absent. */
  dispatcher?: Dispatcher | undefined;
  /** Stops every check early; the report then says what was seen so far. */
  signal?: AbortSignal | undefined;
  /** Called after every request. If it throws, every check stops and the error is rethrown. */
  onAttempt?: ((attempt: Attempt) => void) | undefined;
  /**
   * A "wake" event on it ends every check's current wait at once (one more request each):
   * for news that the service is probably up now, e.g. its containers just turned healthy,
   * so a check that is backing off after early failures does not sleep through it.
   */
  wake?: EventTarget | undefined;
}

/** One request of one check, as onAttempt sees it. */
export interface Attempt {
  check: Check;
  /** 1 for the check's first request. */
  number: number;
  result: ProbeResult;
  /** Consecutive passes including this one; 0 after a failure. */
  streak: number;
  /** True on the attempt that made the check healthy (its last). */
  healthy: boolean;
  /** Since waitUntilHealthy started. */
  elapsedMs: number;
}

export interface CheckReport {
  name: string;
  url: string;
  healthy: boolean;
  attempts: number;
  /** The status of the latest response, if any response came. */
  lastStatus?: number;
  /** Why the check last failed (even if a pass or two followed); absent once healthy. */
  lastError?: string;
  /** Passes in a row at the end (the threshold when healthy). */
  consecutivePasses: number;
  /** When the check turned healthy, counted from the start of the wait. */
  msToHealthy?: number;
}

export interface HealthReport {
  /** Every check healthy. */
  healthy: boolean;
  /** When the last check turned healthy; absent unless `healthy`. */
  timeToHealthyMs?: number;
  /** How long the wait took in all. */
  elapsedMs: number;
  checks: CheckReport[];
}

export const WAIT_DEFAULTS = {
  intervalMs: 250,
  maxIntervalMs: 5_000,
  successThreshold: 2,
  requestTimeoutMs: DEFAULT_PROBE_TIMEOUT_MS,
} as const;

// ±10 %: checks started together drift apart instead of hitting a service in lockstep.
const JITTER = 0.1;

interface Settings {
  timeoutMs: number;
  intervalMs: number;
  maxIntervalMs: number;
  successThreshold: number;
  requestTimeoutMs: number;
}

/**
 * Probes every check in parallel until each has passed `successThreshold` times in a row or
 * the timeout ends them all. A failure resets a check's streak and backs its next request off
 * (interval, ×2 per failure, up to maxInterval); a pass is confirmed after one interval.
 *
 * Bounded: no request outlives the timeout (each gets at most what is left of it) and no
 * check sleeps past it, so this settles within about timeoutMs whatever the services do.
 * Resolves with a report rather than throwing when checks fail.
 */
export async function waitUntilHealthy(
  checks: readonly Check[],
  options: WaitOptions,
): Promise<HealthReport> {
  const settings = validate(checks, options);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);

  const stop = new AbortController();
  const signal =
    options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  // Each check listens on it while it waits or requests: without this, an 11th check would
  // print Node's "possible EventTarget memory leak" warning into the step log.
  setMaxListeners(checks.length + 10, signal);
  let callbackFailure: { error: unknown } | undefined;
  const notify = (attempt: Attempt) => {
    if (options.onAttempt === undefined || callbackFailure !== undefined) return;
    try {
      options.onAttempt(attempt);
    } catch (error) {
      callbackFailure = { error };
      stop.abort();
    }
  };

  const ownDispatcher = options.dispatcher === undefined ? new Agent() : undefined;
  const dispatcher = options.dispatcher ?? ownDispatcher;
  let reports: CheckReport[];
  try {
    const watched = checks.map((check) =>
      watchCheck(check, { settings, elapsed, signal, dispatcher, notify, wake: options.wake }),
    );
    reports = (await Promise.all(watched)).map(ordered);
  } finally {
    await ownDispatcher?.destroy();
  }
  if (callbackFailure !== undefined) throw callbackFailure.error;

  const healthy = reports.every((report) => report.healthy);
  const timeToHealthyMs = healthy ? Math.max(...reports.map((r) => r.msToHealthy ?? 0)) : undefined;
  return {
    healthy,
    ...(timeToHealthyMs === undefined ? {} : { timeToHealthyMs }),
    elapsedMs: elapsed(),
    checks: reports,
  };
}

interface Watch {
  wake: EventTarget | undefined;
  settings: Settings;
  elapsed: () => number;
  signal: AbortSignal;
  dispatcher: Dispatcher | undefined;
  notify: (attempt: Attempt) => void;
}

async function watchCheck(check: Check, watch: Watch): Promise<CheckReport> {
  const { settings, elapsed, signal } = watch;
  const report: CheckReport = {
    name: check.name,
    url: check.url,
    healthy: false,
    attempts: 0,
    consecutivePasses: 0,
  };
  let failuresInARow = 0;
  for (;;) {
    const remaining = settings.timeoutMs - elapsed();
    if (remaining <= 0 || signal.aborted) break;

    const budget = Math.min(settings.requestTimeoutMs, remaining);
    const result = await probe(check, { dispatcher: watch.dispatcher, timeoutMs: budget, signal });
    // A request that the end of the wait cut short says nothing about the service; it only
    // counts when there is nothing else to report.
    const cutShort =
      !result.ok &&
      result.status === undefined &&
      (signal.aborted || (budget < settings.requestTimeoutMs && elapsed() >= settings.timeoutMs));
    if (cutShort && report.attempts > 0) break;
    report.attempts += 1;
    record(report, result);
    if (result.ok) {
      report.consecutivePasses += 1;
      failuresInARow = 0;
    } else {
      report.consecutivePasses = 0;
      failuresInARow += 1;
    }
    const healthy = report.consecutivePasses >= settings.successThreshold;
    if (healthy) {
      report.healthy = true;
      report.msToHealthy = elapsed();
      delete report.lastError;
    }
    watch.notify({
      check,
      number: report.attempts,
      result,
      streak: report.consecutivePasses,
      healthy,
      elapsedMs: elapsed(),
    });
    if (healthy) return report;

    const wait = Math.min(nextWait(settings, failuresInARow), settings.timeoutMs - elapsed());
    if (wait > 0 && (await pause(wait, signal, watch.wake)) === "aborted") break;
  }
  if (report.attempts === 0)
    report.lastError = "not checked: the wait ended before the first request";
  return report;
}

/** Sleeps `ms`, or less when `wake` fires; says "aborted" when `signal` ended it. */
async function pause(
  ms: number,
  signal: AbortSignal,
  wake: EventTarget | undefined,
): Promise<"slept" | "aborted"> {
  const woken = new AbortController();
  const onWake = () => woken.abort();
  wake?.addEventListener("wake", onWake, { once: true });
  try {
    await sleep(ms, undefined, { signal: AbortSignal.any([signal, woken.signal]) });
  } catch {
    if (signal.aborted) return "aborted";
  } finally {
    wake?.removeEventListener("wake", onWake);
  }
  return "slept";
}

/** The same report with its keys in reading order (it is printed as JSON). */
function ordered(report: CheckReport): CheckReport {
  const { name, url, healthy, attempts, lastStatus, lastError, consecutivePasses, msToHealthy } =
    report;
  return {
    name,
    url,
    healthy,
    attempts,
    ...(lastStatus === undefined ? {} : { lastStatus }),
    ...(lastError === undefined ? {} : { lastError }),
    consecutivePasses,
    ...(msToHealthy === undefined ? {} : { msToHealthy }),
  };
}

function record(report: CheckReport, result: ProbeResult): void {
  // Each kept until replaced: a check that flaps until the timeout still says why it failed,
  // and one whose service went away still shows the status it answered with before.
  if (result.status !== undefined) report.lastStatus = result.status;
  if (result.error !== undefined) report.lastError = result.error;
}

/** After a pass: one interval. After n failures in a row: interval × 2^(n-1), capped. */
function nextWait(settings: Settings, failuresInARow: number): number {
  const base =
    failuresInARow === 0
      ? settings.intervalMs
      : Math.min(
          settings.intervalMs * 2 ** Math.min(failuresInARow - 1, 30),
          settings.maxIntervalMs,
        );
  return Math.max(1, Math.round(base * (1 - JITTER + Math.random() * 2 * JITTER)));
}

function validate(checks: readonly Check[], options: WaitOptions): Settings {
  if (checks.length === 0) throw new RangeError("waitUntilHealthy needs at least one check");
  const settings: Settings = {
    timeoutMs: options.timeoutMs,
    intervalMs: options.intervalMs ?? WAIT_DEFAULTS.intervalMs,
    maxIntervalMs: options.maxIntervalMs ?? WAIT_DEFAULTS.maxIntervalMs,
    successThreshold: options.successThreshold ?? WAIT_DEFAULTS.successThreshold,
    requestTimeoutMs: options.requestTimeoutMs ?? WAIT_DEFAULTS.requestTimeoutMs,
  };
  const positive: Array<keyof Settings> = ["intervalMs", "maxIntervalMs", "requestTimeoutMs"];
  for (const key of positive) {
    if (!Number.isFinite(settings[key]) || settings[key] < 1) {
      throw new RangeError(`${key} must be at least 1 (got ${settings[key]})`);
    }
  }
  if (!Number.isFinite(settings.timeoutMs) || settings.timeoutMs < 0) {
    throw new RangeError(`timeoutMs must be 0 or more (got ${settings.timeoutMs})`);
  }
  if (!Number.isInteger(settings.successThreshold) || settings.successThreshold < 1) {
    throw new RangeError(
      `successThreshold must be a whole number of 1 or more (got ${settings.successThreshold})`,
    );
  }
  // An interval longer than the cap would otherwise shrink on the first failure.
  settings.maxIntervalMs = Math.max(settings.maxIntervalMs, settings.intervalMs);
  return settings;
}
