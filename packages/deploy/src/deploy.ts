import {
  type ComposeProject,
  type ComposeTool,
  captureRunning,
  configServices,
  describeRunning,
  detectCompose,
  pinnedOverride,
  pull,
  type RunningService,
  recreateStale,
  UnhealthyError,
  up,
  watchProject,
} from "@smoker/compose";
import { and, cmd, inDir, type Remote, type RemoteLog, redirect, seq } from "@smoker/remote";
import { backupVolumes, pruneBackups } from "./backups.js";
import { acquireLock, type LockHolder, releaseOnSignals } from "./lock.js";
import {
  type AuditEntry,
  appendAudit,
  auditCommand,
  listReleases,
  newDeploymentId,
  previousRelease,
  pruneCommand,
  type ReleaseRecord,
  type ReleaseService,
  releasesToPrune,
  smokerPaths,
  writeRelease,
} from "./releases.js";

/** How a caller (the action, the CLI) shows progress: phases with a result line, and log lines. */
export interface Reporter extends RemoteLog {
  phase<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export interface DeployPlan {
  projectDir: string;
  projectName: string;
  /** Compose files by the name they get in the project directory, in -f order. */
  files: { name: string; content: Buffer }[];
  /** Written as the project's .env (0600). Undefined keeps the .env already on the host. */
  env: Map<string, string> | undefined;
  version: string;
  services: string[] | undefined;
  pull: boolean;
  preDeploy: string | undefined;
  /** Named volumes (as in the compose file) archived before the change. */
  backupVolumes: string[];
  /** Image with tar and gzip that makes the archives. */
  backupImage: string;
  waitTimeoutMs: number;
  /** Once healthy, how long every service must stay up before the release counts (default 0). */
  stableMs?: number | undefined;
  rollbackOnFailure: boolean;
  lockTimeoutMs: number;
  forceUnlock: boolean;
  keepReleases: number;
  by: Omit<LockHolder, "started" | "token" | "version" | "pid">;
  /** Force a Compose flavour (tests, hosts with a broken v2). */
  prefer?: "v1" | "v2";
}

export interface ServiceOutcome {
  service: string;
  image: string;
  digest: string | undefined;
  state: string;
  msToHealthy: number | undefined;
}

export interface DeployResult {
  deploymentId: string;
  previousDeploymentId: string | undefined;
  compose: ComposeTool;
  /** What runs on the host now (the new release, or the previous one after a rollback). */
  services: ServiceOutcome[];
  rolledBack: boolean;
  durationMs: number;
}

/** The deploy failed; `result` says what the host runs now (rolled back or not). */
export class DeployError extends Error {
  override name = "DeployError";
  constructor(
    message: string,
    readonly hint: string | undefined,
    readonly result: DeployResult | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * One deploy, in order, stopping at the first failure. Nothing in the project directory changes
 * before `up`: files are staged in the new release's folder, validated and pulled from there.
 */
export async function deploy(
  remote: Remote,
  plan: DeployPlan,
  report: Reporter,
): Promise<DeployResult> {
  const started = Date.now();
  const paths = smokerPaths(plan.projectDir);
  const id = newDeploymentId(plan.version);
  const staging = paths.files(id);

  // Independent, so concurrent over the one connection (SSH multiplexes channels).
  // Independent, so concurrent over the one connection (SSH multiplexes channels). The staging
  // folder is this release's own (a new id), so making it needs no lock.
  const [tool, lock] = await report.phase("Detect Compose and take the deploy lock", async () => {
    const [detected, made, locked] = await Promise.allSettled([
      detectCompose(remote, plan.prefer ? { prefer: plan.prefer } : {}),
      remote.run(cmd("mkdir", "-p", "--", staging)),
      acquireLock(remote, {
        projectDir: plan.projectDir,
        holder: { ...plan.by, version: plan.version },
        waitMs: plan.lockTimeoutMs,
        staleAfterMs: longestDeployMs(plan),
        forceUnlock: plan.forceUnlock,
        log: report,
      }),
    ]);
    if (
      detected.status === "fulfilled" &&
      made.status === "fulfilled" &&
      locked.status === "fulfilled"
    ) {
      return [detected.value, locked.value] as const;
    }
    // One failed: undo what the others did before failing.
    if (locked.status === "fulfilled") await locked.value.release().catch(() => undefined);
    await remote.tryRun(cmd("rm", "-rf", "--", staging)).catch(() => undefined);
    const failed = [detected, made, locked].find(
      (r) => r.status === "rejected",
    ) as PromiseRejectedResult;
    throw failed.reason;
  });
  report.info(`Compose ${tool.kind} ${tool.version} on ${remote.where}`);
  let previous: ReleaseRecord | undefined;
  let outcome: AuditEntry["outcome"] = "failure";
  let detail: string | undefined;
  const audit = (o: AuditEntry["outcome"], d?: string): AuditEntry => ({
    at: new Date().toISOString(),
    action: "deploy",
    outcome: o,
    deployment: id,
    previous: previous?.id,
    version: plan.version,
    run: plan.by.run,
    actor: plan.by.actor,
    commit: plan.by.commit,
    ...(d ? { detail: d } : {}),
  });

  const stopSignals = releaseOnSignals(lock, {
    log: report,
    onSignal: async (signal) => {
      await appendAudit(remote, plan.projectDir, audit("cancelled", `${signal} during the deploy`));
    },
  });
  const staged: ComposeProject = {
    tool,
    dir: staging,
    name: plan.projectName,
    files: plan.files.map((f) => f.name),
    env: { VERSION: plan.version },
  };
  const live: ComposeProject = { ...staged, dir: plan.projectDir };
  let installed = false;
  try {
    await report.phase("Upload and validate", async () => {
      await Promise.all([
        ...plan.files.map((f) => remote.writeFile(`${staging}/${f.name}`, f.content, 0o644)),
        ...(plan.env ? [remote.writeFile(`${staging}/.env`, envFile(plan.env), 0o600)] : []),
      ]);
      // Without an env input the .env in effect belongs to the release too (a rollback restores
      // it): copied in the same round trip as the check, which reads it.
      const keepEnv = seq(
        redirect(cmd("cp", "-p", "--", `${plan.projectDir}/.env`, `${staging}/.env`), {
          stderr: "/dev/null",
        }),
        cmd("true"),
      );
      const out = await remote.tryRun(
        plan.env ? configServices(staged) : and(keepEnv, configServices(staged)),
      );
      if (out.code !== 0) {
        throw new DeployError(
          `The compose files are not valid: ${describeComposeError(out.stderr, staging)}`,
          "Run `docker compose config` on these files locally to see the problem.",
          undefined,
        );
      }
      const known = out.stdout.split("\n").filter(Boolean);
      const unknown = (plan.services ?? []).filter((s) => !known.includes(s));
      if (unknown.length) {
        throw new DeployError(
          `services lists ${unknown.join(", ")}, not in the compose files (${known.join(", ")})`,
          undefined,
          undefined,
        );
      }
    });

    const recorded = await report.phase("Record the running release", () =>
      recordRunning(remote, plan, tool),
    );
    previous = recorded.previous;
    report.info(previous ? `Replacing release ${previous.id}` : "No release is running yet");

    if (plan.preDeploy) {
      await report.phase("Pre-deploy command", async () => {
        const where =
          (await remote.tryRun(cmd("test", "-d", plan.projectDir))).code === 0
            ? plan.projectDir
            : staging;
        await remote.run(inDir(where, cmd("sh", "-c", plan.preDeploy!)));
      });
    }

    if (plan.backupVolumes.length > 0) {
      await report.phase("Back up volumes", async () => {
        const options = {
          projectDir: plan.projectDir,
          projectName: plan.projectName,
          image: plan.backupImage,
          id,
        };
        await backupVolumes(remote, { ...options, volumes: plan.backupVolumes }, report);
        await pruneBackups(remote, plan.projectDir, report);
      });
    }

    if (plan.pull) {
      await report.phase("Pull images", async () => {
        const out = await remote.tryRun(pull(staged, plan.services));
        if (out.code !== 0) {
          throw new DeployError(
            `Pulling the images failed; nothing was changed on the host: ${lastLines(out.stderr, 8)}`,
            "Check that the image tags exist and the registry is reachable from the host.",
            undefined,
          );
        }
      });
    }

    await report.phase("Start the new release", async () => {
      // From here on the project directory may have changed, so a failure rolls back.
      installed = true;
      const files = plan.files.map((f) => f.name);
      await remote.run(
        and(
          installCommand(staging, plan.projectDir, files),
          up(live, { services: plan.services, removeOrphans: !plan.services }),
        ),
      );
      const recreated = await recreateStale(remote, live, plan.services);
      if (recreated.length > 0) {
        report.info(
          `Recreated ${recreated.join(", ")}: still on another image than the tag names (recreated outside Compose, e.g. by Watchtower, which keeps Compose's labels)`,
        );
      }
    });

    const watched = await report.phase("Wait until healthy", () =>
      watchProject(remote, plan.projectName, {
        ...(plan.services ? { services: plan.services } : {}),
        timeoutMs: plan.waitTimeoutMs,
        // A deploy is watched closely: an inspect costs little, a late "healthy" costs the user.
        maxPollMs: 250,
        stableMs: plan.stableMs ?? 0,
      }),
    );
    const running = await describeRunning(remote, watched.containers);
    const shipped = releaseRecord(id, plan, tool, running, "shipped");
    await Promise.all([
      writeRelease(remote, plan.projectDir, shipped),
      pruneReleases(
        remote,
        plan,
        [...recorded.records, shipped],
        [id, ...(previous ? [previous.id] : [])],
        report,
      ),
    ]);
    outcome = "success";
    return {
      deploymentId: id,
      previousDeploymentId: previous?.id,
      compose: tool,
      services: outcomes(running, watched.services),
      rolledBack: false,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    detail = (error as Error).message;
    if (!installed) {
      // Nothing changed in the project directory: drop the staged files.
      await remote.tryRun(cmd("rm", "-rf", "--", staging));
      if (error instanceof DeployError) throw error;
      throw new DeployError(
        `The deploy failed before anything changed on the host: ${detail}`,
        undefined,
        undefined,
        {
          cause: error,
        },
      );
    }
    const running = await captureRunning(remote, plan.projectName).catch(() => []);
    await writeRelease(
      remote,
      plan.projectDir,
      releaseRecord(id, plan, tool, running, "failed"),
    ).catch(() => {});
    if (!plan.rollbackOnFailure || !previous) {
      const why = !previous
        ? "there is no previous release to roll back to"
        : "rollback-on-failure is false";
      throw new DeployError(
        `Release ${plan.version} failed and is left as it is (${why}): ${detail}`,
        "Fix the release and deploy again, or run the rollback action with a deployment id.",
        undefined,
        { cause: error },
      );
    }
    const back = previous;
    const restored = await report.phase(`Roll back to ${back.id}`, () =>
      restoreRelease(remote, plan, tool, back),
    );
    outcome = "rolled-back";
    throw new DeployError(
      `Release ${plan.version} failed (${detail}). The host runs the previous release ${back.id} again, by digest.`,
      unhealthyHint(error),
      {
        deploymentId: id,
        previousDeploymentId: back.id,
        compose: tool,
        services: restored,
        rolledBack: true,
        durationMs: Date.now() - started,
      },
      { cause: error },
    );
  } finally {
    stopSignals();
    // The audit line and the lock's release in one round trip, the line written first.
    const entry = audit(outcome, outcome === "success" ? undefined : detail);
    await lock
      .release({ script: auditCommand(plan.projectDir), stdin: `${JSON.stringify(entry)}\n` })
      .catch((e: unknown) =>
        report.warn(`Could not write the audit log and release the lock: ${(e as Error).message}`),
      );
  }
}

/** Brings a recorded release back: its own files, every service pinned to its digest. */
export async function restoreRelease(
  remote: Remote,
  plan: Pick<DeployPlan, "projectDir" | "projectName" | "waitTimeoutMs">,
  tool: ComposeTool,
  release: ReleaseRecord,
): Promise<ServiceOutcome[]> {
  const paths = smokerPaths(plan.projectDir);
  const folder = paths.files(release.id);
  const hasFiles = (await remote.tryRun(cmd("test", "-d", folder))).code === 0;
  if (hasFiles) await remote.run(installCommand(folder, plan.projectDir, release.files));
  const pins = release.services.filter(
    (s): s is ReleaseService & { digest: string } => s.digest !== undefined,
  );
  const files = [...release.files];
  if (pins.length > 0) {
    const override = `${paths.root}/rollback-pins.yml`;
    await remote.writeFile(override, pinnedOverride(pins), 0o644);
    files.push(override);
  }
  const project: ComposeProject = {
    tool,
    dir: plan.projectDir,
    name: plan.projectName,
    files,
    env: { VERSION: release.version },
  };
  await remote.run(up(project, { removeOrphans: true }));
  const watched = await watchProject(remote, plan.projectName, { timeoutMs: plan.waitTimeoutMs });
  return outcomes(await describeRunning(remote, watched.containers), watched.services);
}

/**
 * The release being replaced: the newest shipped record when what runs matches it, otherwise
 * a record made now from what runs (a host deployed by hand, or by an older tool), with the
 * project's current files copied beside it.
 */
async function recordRunning(
  remote: Remote,
  plan: DeployPlan,
  tool: ComposeTool,
): Promise<{ previous: ReleaseRecord | undefined; records: ReleaseRecord[] }> {
  const [running, records] = await Promise.all([
    captureRunning(remote, plan.projectName),
    listReleases(remote, plan.projectDir),
  ]);
  if (running.length === 0) return { previous: undefined, records };
  const latest = previousRelease(records);
  const same =
    latest &&
    running.every((r) =>
      latest.services.some((s) => s.service === r.service && s.imageId === r.imageId),
    );
  if (same) return { previous: latest, records };
  const files = (await remote.tryRun(inDir(plan.projectDir, cmd("ls", "-1A")))).stdout
    .split("\n")
    .filter((f) => /\.(ya?ml)$/.test(f));
  const adopted = releaseRecord(
    newDeploymentId("running"),
    { ...plan, version: "running" },
    tool,
    running,
    "shipped",
  );
  adopted.files = plan.files.map((f) => f.name).filter((f) => files.includes(f));
  const folder = smokerPaths(plan.projectDir).files(adopted.id);
  await remote.run(cmd("mkdir", "-p", "--", folder));
  await remote
    .run(
      seq(
        ...[...adopted.files, ".env"].map((f) =>
          cmd("cp", "-p", "--", `${plan.projectDir}/${f}`, `${folder}/${f}`),
        ),
      ),
    )
    .catch(() => undefined);
  await writeRelease(remote, plan.projectDir, adopted);
  return { previous: adopted, records: [...records, adopted] };
}

/** Copies a release's files into the project directory (compose files, and .env when it has one). */
function installCommand(from: string, projectDir: string, files: string[]) {
  return and(
    cmd("mkdir", "-p", "--", projectDir),
    cmd("cp", "-p", "--", ...files.map((f) => `${from}/${f}`), `${projectDir}/`),
    // .env is optional: copied when the release has one.
    seq(
      redirect(cmd("cp", "-p", "--", `${from}/.env`, `${projectDir}/.env`), {
        stderr: "/dev/null",
      }),
      cmd("true"),
    ),
  );
}

/** Deletes the oldest records (and their files) beyond keep-releases; never `protect`. */
async function pruneReleases(
  remote: Remote,
  plan: DeployPlan,
  records: ReleaseRecord[],
  protect: string[],
  report: Reporter,
): Promise<void> {
  const prune = releasesToPrune(records, plan.keepReleases, protect);
  if (prune.length === 0) return;
  await remote.run(
    pruneCommand(
      plan.projectDir,
      prune.map((r) => r.id),
    ),
  );
  report.info(`Pruned ${prune.length} old release record(s); keeping ${plan.keepReleases}`);
}

function releaseRecord(
  id: string,
  plan: DeployPlan,
  tool: ComposeTool,
  running: RunningService[],
  status: ReleaseRecord["status"],
): ReleaseRecord {
  return {
    id,
    project: plan.projectName,
    version: plan.version,
    status,
    createdAt: new Date().toISOString(),
    compose: tool.kind,
    files: plan.files.map((f) => f.name),
    services: running.map((r) => ({
      service: r.service,
      container: r.container,
      imageRef: r.imageRef,
      imageId: r.imageId,
      digest: r.digest,
    })),
    by: { run: plan.by.run, actor: plan.by.actor, commit: plan.by.commit, runner: plan.by.runner },
  };
}

function outcomes(
  running: RunningService[],
  watched: { service: string; msToHealthy: number }[],
): ServiceOutcome[] {
  return running.map((r) => ({
    service: r.service,
    image: r.imageRef,
    digest: r.digest,
    state: "healthy",
    msToHealthy: watched.find((w) => w.service === r.service)?.msToHealthy,
  }));
}

/** The longest a deploy can hold the lock; an older lock belongs to a dead run. */
export function longestDeployMs(plan: Pick<DeployPlan, "waitTimeoutMs" | "stableMs">): number {
  // Two health waits (deploy and rollback), plus pulls and the rest, generously.
  return 2 * plan.waitTimeoutMs + (plan.stableMs ?? 0) + 60 * 60_000;
}

export function envFile(env: Map<string, string>): string {
  return [...env].map(([k, v]) => `${k}=${v}\n`).join("");
}

function describeComposeError(stderr: string, staging: string): string {
  return lastLines(stderr.replaceAll(`${staging}/`, ""), 8);
}

function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join("\n");
}

function unhealthyHint(error: unknown): string {
  if (error instanceof UnhealthyError) {
    return `Service ${error.service} ${error.reason}. Its last log lines are above; fix the image and deploy again.`;
  }
  return "See the error above; fix the release and deploy again.";
}
