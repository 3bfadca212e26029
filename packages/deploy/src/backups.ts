import { and, cmd, type Remote, type RemoteLog, redirect, type Script } from "@smoker/remote";
import { smokerPaths } from "./releases.js";

/**
 * Volume backups before a deploy changes anything: each named volume is archived by a
 * throwaway container (read-only mount, no network) into `.smoker/backups/<deployment>/`,
 * then listed back by the host's tar to prove the archive reads, and checksummed.
 */
export interface VolumeBackup {
  volume: string;
  dockerVolume: string;
  file: string;
  sha256: string;
  bytes: number;
  entries: number;
}

export function backupDir(projectDir: string, id: string): string {
  return `${smokerPaths(projectDir).root}/backups/${id}`;
}

/** Compose names a project's volume `<project>_<name>` unless the file gives it a `name:`. */
export function dockerVolumeName(projectName: string, volume: string): string {
  return `${projectName}_${volume}`;
}

/** A throwaway container of `image`, without network, with `volumes` mounted, running `argv`. */
function throwaway(image: string, volumes: string[], ...argv: string[]): Script {
  return cmd(
    "docker",
    "run",
    "--rm",
    "--network",
    "none",
    ...volumes.flatMap((v) => ["-v", v]),
    image,
    ...argv,
  );
}

export function archiveCommand(
  image: string,
  dockerVolume: string,
  dir: string,
  file: string,
): Script {
  return throwaway(
    image,
    [`${dockerVolume}:/volume:ro`, `${dir}:/backup`],
    "tar",
    "-czf",
    `/backup/${file}`,
    "-C",
    "/volume",
    ".",
  );
}

/** Lists the archive into `<file>.list` (fails if it does not read), then counts, hashes, sizes. */
export function verifyCommand(path: string): Script {
  return and(
    redirect(cmd("tar", "-tzf", path), { stdout: `${path}.list` }),
    cmd("wc", "-l", `${path}.list`),
    cmd("sha256sum", "--", path),
    cmd("stat", "-c", "%s", path),
  );
}

export function parseVerify(stdout: string): { entries: number; sha256: string; bytes: number } {
  const [count, sum, size] = stdout.trim().split("\n");
  const entries = Number(count?.trim().split(/\s+/)[0]);
  const sha256 = sum?.split(/\s+/)[0] ?? "";
  const bytes = Number(size);
  if (!Number.isInteger(entries) || !/^[0-9a-f]{64}$/.test(sha256) || !Number.isInteger(bytes)) {
    throw new Error(`unexpected verification output: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  return { entries, sha256, bytes };
}

export class BackupError extends Error {
  override name = "BackupError";
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export async function backupVolumes(
  remote: Remote,
  options: {
    projectDir: string;
    projectName: string;
    volumes: string[];
    image: string;
    id: string;
  },
  log: RemoteLog,
): Promise<VolumeBackup[]> {
  const dir = backupDir(options.projectDir, options.id);
  const done: VolumeBackup[] = [];
  for (const volume of options.volumes) {
    const dockerVolume = dockerVolumeName(options.projectName, volume);
    const exists = await remote.tryRun(
      cmd("docker", "volume", "inspect", "--format", "{{.Name}}", dockerVolume),
    );
    if (exists.code !== 0) {
      log.info(`Volume ${dockerVolume} does not exist yet (first deploy?): nothing to back up`);
      continue;
    }
    await remote.run(cmd("mkdir", "-p", "--", dir));
    const file = `${volume}.tar.gz`;
    const archived = await remote.tryRun(archiveCommand(options.image, dockerVolume, dir, file));
    if (archived.code !== 0) {
      throw new BackupError(
        `Backing up volume ${dockerVolume} failed; nothing was changed: ${archived.stderr.trim().split("\n").slice(-3).join(" ")}`,
        `The archive is made by a throwaway container of backup-image (${options.image}), which must have tar and gzip and be pullable on the host.`,
      );
    }
    const verified = parseVerify((await remote.run(verifyCommand(`${dir}/${file}`))).stdout);
    done.push({ volume, dockerVolume, file, ...verified });
    log.info(
      `${dockerVolume}: ${verified.entries} entries, ${verified.bytes} bytes, sha256 ${verified.sha256.slice(0, 12)}`,
    );
  }
  if (done.length > 0)
    await remote.writeFile(`${dir}/manifest.json`, `${JSON.stringify(done, null, 2)}\n`, 0o600);
  return done;
}

const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/;

function dateOf(id: string): Date | undefined {
  const m = STAMP.exec(id);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${week}`;
}

export const RETENTION = { daily: 7, weekly: 4, monthly: 12 } as const;

/**
 * Which backups to delete: the newest backup of each of the last 7 days, 4 ISO weeks and 12
 * months that have one are kept (a backup may count for several); names that are not
 * deployment ids are never touched.
 */
export function backupsToPrune(ids: string[], retention: typeof RETENTION = RETENTION): string[] {
  const dated = ids
    .map((id) => ({ id, at: dateOf(id) }))
    .filter((b): b is { id: string; at: Date } => b.at !== undefined)
    .sort((a, b) => b.at.getTime() - a.at.getTime());
  const keep = new Set<string>();
  const buckets: [number, (d: Date) => string][] = [
    [retention.daily, (d) => d.toISOString().slice(0, 10)],
    [retention.weekly, isoWeek],
    [retention.monthly, (d) => d.toISOString().slice(0, 7)],
  ];
  for (const [count, key] of buckets) {
    const seen = new Set<string>();
    for (const b of dated) {
      const k = key(b.at);
      if (seen.has(k)) continue;
      if (seen.size >= count) break;
      seen.add(k);
      keep.add(b.id);
    }
  }
  return dated.filter((b) => !keep.has(b.id)).map((b) => b.id);
}

export async function pruneBackups(
  remote: Remote,
  projectDir: string,
  log: RemoteLog,
): Promise<void> {
  const root = `${smokerPaths(projectDir).root}/backups`;
  const listed = await remote.tryRun(cmd("ls", "-1", "--", root));
  if (listed.code !== 0) return;
  const prune = backupsToPrune(listed.stdout.split("\n").filter(Boolean));
  if (prune.length === 0) return;
  await remote.run(cmd("rm", "-rf", "--", ...prune.map((id) => `${root}/${id}`)));
  log.info(`Pruned ${prune.length} old backup(s) (keeping 7 daily, 4 weekly, 12 monthly)`);
}

/**
 * Empties a volume and unpacks an archive into it, in a throwaway container. The script is a
 * constant; the archive's path reaches it as an argument, never as shell text.
 */
export function restoreCommand(
  image: string,
  dockerVolume: string,
  dir: string,
  file: string,
): Script {
  return throwaway(
    image,
    [`${dockerVolume}:/volume`, `${dir}:/backup:ro`],
    "sh",
    "-c",
    'cd /volume && rm -rf -- * .[!.]* ..?* && tar -xzf "$1" -C /volume',
    "restore",
    `/backup/${file}`,
  );
}

/** The volume backups a release's data lives in: those taken when the next deploy replaced it. */
export function backupOfRelease(
  audit: { action: string; deployment: string; previous?: string | undefined }[],
  releaseId: string,
): string | undefined {
  return audit.filter((a) => a.action === "deploy" && a.previous === releaseId).at(-1)?.deployment;
}

export async function readManifest(
  remote: Remote,
  projectDir: string,
  id: string,
): Promise<VolumeBackup[] | undefined> {
  const out = await remote.tryRun(cmd("cat", "--", `${backupDir(projectDir, id)}/manifest.json`));
  return out.code === 0 ? (JSON.parse(out.stdout) as VolumeBackup[]) : undefined;
}

/** Checks each archive against its recorded sha256, then restores it into its volume. */
export async function restoreVolumes(
  remote: Remote,
  options: { projectDir: string; image: string; id: string; backups: VolumeBackup[] },
  log: RemoteLog,
): Promise<void> {
  const dir = backupDir(options.projectDir, options.id);
  for (const b of options.backups) {
    const sum = (await remote.run(cmd("sha256sum", "--", `${dir}/${b.file}`))).stdout.split(
      /\s+/,
    )[0];
    if (sum !== b.sha256) {
      throw new BackupError(
        `The archive of ${b.dockerVolume} in ${dir} does not match its recorded sha256; not restoring it`,
        "The backup was changed or damaged on the host. Restore by hand from another backup.",
      );
    }
  }
  for (const b of options.backups) {
    await remote.run(restoreCommand(options.image, b.dockerVolume, dir, b.file));
    log.info(`${b.dockerVolume} restored from ${options.id}/${b.file} (${b.entries} entries)`);
  }
}
