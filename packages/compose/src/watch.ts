import { cmd, redirect } from "@smoker/remote";
import { type CommandRunner, checkProjectName, checkServiceName } from "./commands.js";
import {
  type ContainerState,
  inspectContainers,
  listContainerIds,
  sortContainers,
} from "./containers.js";
import { UnhealthyError, type UnhealthyReason } from "./errors.js";

/** What the watch compares against: the project as it was when the watch began. */
export interface Baseline {
  project: string;
  /** Local clock (ms) when the watch began. */
  at: number;
  /** The services judged. */
  services: readonly string[];
  /** The first inspection; restart counts are compared with it. */
  containers: readonly ContainerState[];
}

/** One poll's inspection, with what earlier polls saw that a single inspection cannot say. */
export interface Snapshot {
  /** Local clock (ms) when this inspection returned. */
  at: number;
  containers: readonly ContainerState[];
  /**
   * Local time each container was first seen running, keyed by runKey (id + StartedAt, so a
   * restart starts a new run). Measured by this clock, not the host's, which may be skewed.
   */
  runningSince: ReadonlyMap<string, number>;
}

export interface JudgeOptions {
  timeoutMs: number;
  /** A running container without a healthcheck counts as up once it has run this long. */
  settleMs: number;
  /** Services that run to completion (a migration): exit code 0 means done, not failed. */
  oneShot?: readonly string[];
}

export interface Failure {
  reason: UnhealthyReason;
  service: string;
  /** The container judged; absent when the service has none. */
  container?: ContainerState;
  /** One sentence: what is wrong, with the container's name. */
  detail: string;
}

export type Verdict = "wait" | "ok" | Failure;

export const runKey = (c: ContainerState) => `${c.id}@${c.startedAt.getTime()}`;

/** The baseline of a watch: `services`, or else every service that has a container now. */
export function baselineOf(
  project: string,
  containers: readonly ContainerState[],
  at: number,
  services?: readonly string[],
): Baseline {
  const own = containers.filter((c) => !c.oneOff);
  const judged = services ?? [...new Set(own.map((c) => c.service))].sort();
  return { project, at, services: judged, containers: own };
}

/** The next snapshot: carries forward when each still-running container was first seen running. */
export function observe(
  previous: Snapshot | undefined,
  containers: readonly ContainerState[],
  at: number,
): Snapshot {
  const runningSince = new Map<string, number>();
  for (const c of containers) {
    if (c.state !== "running") continue;
    const key = runKey(c);
    runningSince.set(key, previous?.runningSince.get(key) ?? at);
  }
  return { at, containers: containers.filter((c) => !c.oneOff), runningSince };
}

/**
 * Up: running and healthy, or running without a healthcheck for settleMs. A one-shot service
 * is up once it has exited with code 0, and not before.
 */
export function isReady(c: ContainerState, snapshot: Snapshot, options: JudgeOptions): boolean {
  if (options.oneShot?.includes(c.service)) return completed(c, options);
  if (c.state !== "running") return false;
  if (c.health !== undefined) return c.health === "healthy";
  const since = snapshot.runningSince.get(runKey(c));
  return since !== undefined && snapshot.at - since >= options.settleMs;
}

const completed = (c: ContainerState, options: Pick<JudgeOptions, "oneShot">) =>
  c.state === "exited" && c.exitCode === 0 && options.oneShot?.includes(c.service) === true;

function exited(c: ContainerState): string {
  if (c.oomKilled) return `was killed for lack of memory (OOMKilled, exit code ${c.exitCode})`;
  return `exited with code ${c.exitCode}`;
}

/** A failure this container shows on its own, whatever the clock says. */
function fault(c: ContainerState, baseline: Baseline, options: JudgeOptions): Failure | undefined {
  if (completed(c, options)) return undefined;
  const where = `(container ${c.name})`;
  const failure = (reason: UnhealthyReason, what: string): Failure => ({
    reason,
    service: c.service,
    container: c,
    detail: `Service ${c.service} ${what} ${where}`,
  });
  switch (c.state) {
    case "exited":
    case "dead":
      return failure("exited", c.state === "dead" ? "is dead" : exited(c));
    case "created":
      // The engine could not start it (a port in use, a missing bind source...).
      return c.error === undefined ? undefined : failure("exited", `could not start: ${c.error}`);
    case "removing":
      return failure("missing", "is having its container removed");
    case "restarting":
      return failure(
        "restarting",
        `is crash-looping: it ${exited(c)} and Docker is restarting it (restart ${c.restartCount})`,
      );
    default:
      break;
  }
  const before = baseline.containers.find((b) => b.id === c.id)?.restartCount ?? 0;
  if (c.restartCount > before) {
    return failure(
      "restarting",
      `restarted ${c.restartCount - before}x during the watch (last exit code ${c.exitCode})`,
    );
  }
  if (c.state === "running" && c.health === "unhealthy") {
    return failure("unhealthy", "is unhealthy: its healthcheck fails");
  }
  return undefined;
}

function pendingWhy(c: ContainerState): string {
  if (c.state !== "running") return c.state;
  return c.health === undefined ? "running, not yet settled" : `health: ${c.health}`;
}

/**
 * The watch's decision for one snapshot, as a pure function: a failure as soon as any judged
 * container exited, restarted, turned unhealthy or vanished; "ok" when all are up; a timeout
 * naming the services still starting once timeoutMs has passed since the baseline; else "wait".
 */
export function judge(
  baseline: Baseline,
  current: Snapshot,
  now: number,
  options: JudgeOptions,
): Verdict {
  if (baseline.services.length === 0) {
    return {
      reason: "missing",
      service: "",
      detail: `Project ${baseline.project} has no containers`,
    };
  }
  const judged = sortContainers(
    current.containers.filter((c) => !c.oneOff && baseline.services.includes(c.service)),
  );
  for (const c of judged) {
    const failure = fault(c, baseline, options);
    if (failure !== undefined) return failure;
  }
  for (const service of baseline.services) {
    if (!judged.some((c) => c.service === service)) {
      return {
        reason: "missing",
        service,
        detail: `Service ${service} has no container in project ${baseline.project}`,
      };
    }
  }
  const pending = judged.filter((c) => !isReady(c, current, options));
  if (pending.length === 0) return "ok";
  if (now - baseline.at >= options.timeoutMs) {
    const first = pending[0]!;
    return {
      reason: "timeout",
      service: first.service,
      container: first,
      detail: `Still starting after ${seconds(options.timeoutMs)}: ${pending
        .map((c) => `${c.service} (${c.name}, ${pendingWhy(c)})`)
        .join(", ")}`,
    };
  }
  return "wait";
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

export interface WatchOptions {
  /** The services to watch; default: every service with a container when the watch begins. */
  services?: readonly string[];
  timeoutMs: number;
  /** A running container without a healthcheck counts as up after this long (default 2000). */
  settleMs?: number;
  /** Services that run to completion (migrations, seeders): exit code 0 counts as done. */
  oneShot?: readonly string[];
  /** First interval between polls (default 250), doubling up to maxPollMs (default 2000). */
  pollMs?: number;
  maxPollMs?: number;
  /**
   * Once every service is up, go on watching until they have all stayed up this long
   * (default 0): a service that crashes a few seconds after turning healthy fails the watch.
   */
  stableMs?: number;
  /** Called each time every service turns up (with stableMs, before the watch goes on). */
  onAllUp?: (states: readonly ContainerState[]) => void;
  /** Called after each poll with the watched containers. */
  onProgress?: (states: readonly ContainerState[]) => void;
  /** How many log lines a failure carries (default 20). */
  logLines?: number;
  /** For tests. */
  clock?: { now(): number; sleep(ms: number): Promise<void> };
}

export interface WatchResult {
  /** One entry per watched container. */
  services: { service: string; container: string; msToHealthy: number }[];
  /** How long the watch took. */
  ms: number;
  /** The last inspection: every container of the project (for digests without another look). */
  containers: ContainerState[];
}

const realClock = {
  now: () => performance.now(),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/** `docker logs --tail N ID 2>&1`: the end of a container's output, both streams. */
export function containerLogs(id: string, lines: number) {
  return redirect(cmd("docker", "logs", "--tail", String(lines), id), { stderr: "stdout" });
}

/**
 * Watches a project's containers through `docker inspect` until every watched service is up,
 * and fails fast (UnhealthyError) when one exits, restarts, turns unhealthy or disappears.
 * Works the same under Compose v1 and v2, and does not rely on Compose's exit code. Each poll
 * is one `docker inspect` of ids listed once, listed again only when the set changed.
 */
export async function watchProject(
  remote: CommandRunner,
  projectName: string,
  options: WatchOptions,
): Promise<WatchResult> {
  checkProjectName(projectName);
  options.services?.forEach(checkServiceName);
  const clock = options.clock ?? realClock;
  const settleMs = options.settleMs ?? 2_000;
  const judgeOptions: JudgeOptions = {
    timeoutMs: options.timeoutMs,
    settleMs,
    ...(options.oneShot ? { oneShot: options.oneShot } : {}),
  };
  const maxPollMs = Math.max(options.pollMs ?? 250, options.maxPollMs ?? 2_000);
  let delay = options.pollMs ?? 250;
  const start = clock.now();
  // A hung engine must not outlast the watch by much.
  const inspectTimeout = () => Math.max(10_000, start + options.timeoutMs - clock.now());

  let ids = await listContainerIds(remote, projectName);
  let wanted = options.services;
  const look = async (): Promise<ContainerState[]> => {
    let inspection = await inspectContainers(remote, ids, { timeoutMs: inspectTimeout() });
    const lacking = wanted?.some((s) => !inspection.containers.some((c) => c.service === s));
    if (inspection.gone || lacking) {
      ids = await listContainerIds(remote, projectName);
      inspection = await inspectContainers(remote, ids, { timeoutMs: inspectTimeout() });
    }
    const own = inspection.containers.filter((c) => !c.oneOff);
    ids = own.map((c) => c.id);
    return own;
  };

  let containers = await look();
  const baseline = baselineOf(projectName, containers, start, options.services);
  wanted = baseline.services;
  let snapshot = observe(undefined, containers, clock.now());
  const readyAt = new Map<string, number>();
  const stableMs = options.stableMs ?? 0;
  // When the latest run of looks began in which every service was up.
  let allUpSince: number | undefined;

  for (;;) {
    const watched = sortContainers(containers.filter((c) => baseline.services.includes(c.service)));
    options.onProgress?.(watched);
    for (const c of watched) {
      if (!readyAt.has(c.id) && isReady(c, snapshot, judgeOptions)) readyAt.set(c.id, snapshot.at);
    }
    const verdict = judge(baseline, snapshot, clock.now(), judgeOptions);
    if (verdict !== "ok") allUpSince = undefined;
    else if (allUpSince === undefined) {
      allUpSince = snapshot.at;
      options.onAllUp?.(watched);
    }
    if (verdict === "ok" && snapshot.at - allUpSince! >= stableMs) {
      return {
        services: watched.map((c) => ({
          service: c.service,
          container: c.name,
          msToHealthy: Math.round((readyAt.get(c.id) ?? snapshot.at) - start),
        })),
        ms: Math.round(clock.now() - start),
        containers,
      };
    }
    if (verdict !== "wait" && verdict !== "ok") {
      throw await unhealthy(remote, verdict, options.logLines ?? 20);
    }
    const until = allUpSince === undefined ? start + options.timeoutMs : allUpSince + stableMs;
    await clock.sleep(Math.min(delay, Math.max(0, until - clock.now())));
    delay = Math.min(delay * 2, maxPollMs);
    containers = await look();
    snapshot = observe(snapshot, containers, clock.now());
  }
}

async function unhealthy(
  remote: CommandRunner,
  failure: Failure,
  lines: number,
): Promise<UnhealthyError> {
  const c = failure.container;
  let logs = "";
  if (c !== undefined && lines > 0) {
    try {
      const out = await remote.tryRun(containerLogs(c.id, lines), { timeoutMs: 10_000 });
      logs = out.code === 0 ? out.stdout : `(docker logs failed: ${out.stdout.trim()})`;
    } catch (error) {
      // The verdict matters more than its logs: report it whatever happened to them.
      logs = `(could not read the logs: ${error instanceof Error ? error.message : String(error)})`;
    }
  }
  return new UnhealthyError({
    service: failure.service,
    reason: failure.reason,
    detail: failure.detail,
    ...(c === undefined ? {} : { container: c.name }),
    logs,
  });
}
