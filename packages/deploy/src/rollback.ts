import { type ComposeTool, captureRunning, detectCompose, stop } from "@smoker/compose";
import type { Remote } from "@smoker/remote";
import { backupOfRelease, backupVolumes, readManifest, restoreVolumes } from "./backups.js";
import { type Reporter, restoreRelease, type ServiceOutcome } from "./deploy.js";
import { acquireLock, type LockHolder, releaseOnSignals } from "./lock.js";
import {
  appendAudit,
  listReleases,
  newDeploymentId,
  type ReleaseRecord,
  readAudit,
  writeRelease,
} from "./releases.js";

export interface RollbackPlan {
  projectDir: string;
  projectName: string;
  /** `previous`, or the id of a recorded release. */
  to: string;
  waitTimeoutMs: number;
  lockTimeoutMs: number;
  forceUnlock: boolean;
  by: Omit<LockHolder, "started" | "token" | "version" | "pid">;
  prefer?: "v1" | "v2";
  /** Also put back the volume data of the target release (after archiving the current data). */
  restoreVolumes?: boolean;
  /** Image with tar and gzip for the archives. */
  backupImage?: string;
}

export interface RollbackResult {
  rolledBackTo: ReleaseRecord;
  /** The release that ran before, now marked rolled-back so `previous` never returns to it. */
  replaced: ReleaseRecord | undefined;
  compose: ComposeTool;
  services: ServiceOutcome[];
  durationMs: number;
}

export class RollbackError extends Error {
  override name = "RollbackError";
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * Chooses the release to go back to. The running one is the newest shipped record whose
 * images are the ones running; `previous` is the newest shipped release before it.
 */
export function chooseTarget(
  records: ReleaseRecord[],
  runningImageIds: Map<string, string>,
  to: string,
): { target: ReleaseRecord; current: ReleaseRecord | undefined } {
  const shipped = records.filter((r) => r.status === "shipped");
  const current = shipped
    .filter(
      (r) =>
        r.services.length > 0 &&
        r.services.every((s) => runningImageIds.get(s.service) === s.imageId),
    )
    .at(-1);
  if (to !== "previous") {
    const target = records.find((r) => r.id === to);
    if (!target) {
      throw new RollbackError(
        `There is no release ${to} on this host`,
        `Releases kept here: ${records.map((r) => r.id).join(", ") || "none"}.`,
      );
    }
    return { target, current };
  }
  const before = current ? shipped.filter((r) => r.createdAt < current.createdAt) : shipped;
  const target = before.filter((r) => r.id !== current?.id).at(-1);
  if (!target) {
    throw new RollbackError(
      "There is no earlier shipped release to roll back to",
      "Deploy a known good version instead, or give a deployment id from the audit log.",
    );
  }
  return { target, current };
}

/**
 * Puts back the volumes as they were when `target` was replaced: the current data is archived
 * first (so the restore can itself be undone), the stack is stopped so nothing writes, then
 * each archive is checked against its sha256 and unpacked.
 */
async function putBackVolumes(
  remote: Remote,
  plan: RollbackPlan,
  tool: ComposeTool,
  target: ReleaseRecord,
  report: Reporter,
): Promise<void> {
  const image = plan.backupImage ?? "busybox:1.36";
  const source = backupOfRelease(await readAudit(remote, plan.projectDir), target.id);
  const backups = source ? await readManifest(remote, plan.projectDir, source) : undefined;
  if (!source || !backups?.length) {
    throw new RollbackError(
      `No volume backups belong to ${target.id}: none were taken when it was replaced`,
      "Volumes are archived only by deploys with backup-volumes. Roll back without restore-volumes, or restore by hand.",
    );
  }
  const safety = newDeploymentId("pre-rollback");
  await backupVolumes(
    remote,
    {
      projectDir: plan.projectDir,
      projectName: plan.projectName,
      image,
      id: safety,
      volumes: backups.map((b) => b.volume),
    },
    report,
  );
  report.info(`Current volume data archived as ${safety} (to undo this restore)`);
  const project = { tool, dir: plan.projectDir, name: plan.projectName, files: target.files };
  await remote.run(stop(project));
  await restoreVolumes(remote, { projectDir: plan.projectDir, image, id: source, backups }, report);
}

/** Brings back a recorded release, under the deploy lock, with its files and digests. */
export async function rollback(
  remote: Remote,
  plan: RollbackPlan,
  report: Reporter,
): Promise<RollbackResult> {
  const started = Date.now();
  const tool = await report.phase("Detect Compose", () =>
    detectCompose(remote, plan.prefer ? { prefer: plan.prefer } : {}),
  );
  const lock = await report.phase("Take the deploy lock", () =>
    acquireLock(remote, {
      projectDir: plan.projectDir,
      holder: { ...plan.by, version: `rollback-to-${plan.to}` },
      waitMs: plan.lockTimeoutMs,
      staleAfterMs: 2 * plan.waitTimeoutMs + 60 * 60_000,
      forceUnlock: plan.forceUnlock,
      log: report,
    }),
  );
  const stopSignals = releaseOnSignals(lock, { log: report });
  let outcome: "success" | "failure" = "failure";
  let chosen: { target: ReleaseRecord; current: ReleaseRecord | undefined } | undefined;
  let detail: string | undefined;
  try {
    chosen = await report.phase("Choose the release", async () => {
      const [running, records] = await Promise.all([
        captureRunning(remote, plan.projectName),
        listReleases(remote, plan.projectDir),
      ]);
      return chooseTarget(records, new Map(running.map((r) => [r.service, r.imageId])), plan.to);
    });
    const { target, current } = chosen;
    report.info(
      `Rolling back ${current ? `from ${current.id} ` : ""}to ${target.id} (version ${target.version})`,
    );
    if (plan.restoreVolumes) {
      await report.phase("Restore volumes", () =>
        putBackVolumes(remote, plan, tool, target, report),
      );
    }
    const services = await report.phase(`Restore ${target.id}`, () =>
      restoreRelease(remote, plan, tool, target),
    );
    if (current && current.id !== target.id) {
      await writeRelease(remote, plan.projectDir, { ...current, status: "rolled-back" });
    }
    outcome = "success";
    return {
      rolledBackTo: target,
      replaced: current,
      compose: tool,
      services,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    detail = (error as Error).message;
    throw error;
  } finally {
    stopSignals();
    await appendAudit(remote, plan.projectDir, {
      at: new Date().toISOString(),
      action: "rollback",
      outcome,
      deployment: chosen?.target.id ?? plan.to,
      previous: chosen?.current?.id,
      version: chosen?.target.version ?? "",
      run: plan.by.run,
      actor: plan.by.actor,
      commit: plan.by.commit,
      ...(detail ? { detail } : {}),
    }).catch((e: unknown) => report.warn(`Could not write the audit log: ${(e as Error).message}`));
    await lock
      .release()
      .catch((e: unknown) =>
        report.warn(`Could not release the deploy lock: ${(e as Error).message}`),
      );
  }
}
