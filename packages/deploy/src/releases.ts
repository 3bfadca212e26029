import { randomBytes } from "node:crypto";
import { and, cmd, type Remote, redirect, type Script } from "@smoker/remote";

/**
 * What a host keeps about its deploys, under `<projectDir>/.smoker/`:
 *   releases/<id>.json   one record per release (one line of JSON), newest last by createdAt
 *   releases/<id>/       that release's compose files and .env (0600), to roll back to it whole
 *   audit.log            one JSON line per deploy and per rollback, never pruned
 * A release is pinned by image DIGEST, so a tag moved since then cannot change what a rollback
 * brings back.
 */
export interface ReleaseService {
  service: string;
  container: string;
  imageRef: string;
  imageId: string;
  /** `repo@sha256:...`, or undefined for an image that came from no registry. */
  digest: string | undefined;
}

export type ReleaseStatus = "shipped" | "failed" | "rolled-back";

export interface ReleaseRecord {
  id: string;
  project: string;
  version: string;
  status: ReleaseStatus;
  createdAt: string;
  compose: "v2" | "v1";
  /** Compose files of the release, relative to the project dir, in `-f` order. */
  files: string[];
  services: ReleaseService[];
  by: { run: string; actor: string; commit: string; runner: string };
}

export interface AuditEntry {
  at: string;
  action: "deploy" | "rollback";
  outcome: "success" | "failure" | "rolled-back" | "cancelled";
  deployment: string;
  previous: string | undefined;
  version: string;
  run: string;
  actor: string;
  commit: string;
  detail?: string;
}

export function smokerPaths(projectDir: string) {
  const root = `${projectDir.replace(/\/+$/, "")}/.smoker`;
  return {
    root,
    releases: `${root}/releases`,
    record: (id: string) => `${root}/releases/${id}.json`,
    files: (id: string) => `${root}/releases/${id}`,
    audit: `${root}/audit.log`,
  };
}

const ID = /^[0-9]{8}T[0-9]{6}Z-[A-Za-z0-9_.-]{1,64}-[0-9a-f]{6}$/;

/** `20261130T231500Z-1.2.3-a1b2c3`: sorts by time, names the version, unique. */
export function newDeploymentId(version: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const safe = version.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 64) || "unversioned";
  return `${stamp}-${safe}-${randomBytes(3).toString("hex")}`;
}

export function isDeploymentId(value: string): boolean {
  return ID.test(value);
}

/** Prints every record, one JSON line each (records are written as single lines). */
export function listCommand(projectDir: string): Script {
  const p = smokerPaths(projectDir);
  return redirect(
    cmd(
      "find",
      p.releases,
      "-maxdepth",
      "1",
      "-type",
      "f",
      "-name",
      "*.json",
      "-exec",
      "cat",
      "--",
      "{}",
      "+",
    ),
    { stderr: "/dev/null" },
  );
}

export function parseRecords(stdout: string): ReleaseRecord[] {
  const records: ReleaseRecord[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as ReleaseRecord;
      if (typeof r.id === "string" && isDeploymentId(r.id) && Array.isArray(r.services))
        records.push(r);
    } catch {
      // A record cut short (disk full mid-write) is skipped, not fatal: the others still count.
    }
  }
  return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

export async function listReleases(remote: Remote, projectDir: string): Promise<ReleaseRecord[]> {
  return parseRecords((await remote.tryRun(listCommand(projectDir))).stdout);
}

/** The release to roll back to: the newest shipped one other than `except`. */
export function previousRelease(
  records: ReleaseRecord[],
  except?: string,
): ReleaseRecord | undefined {
  return records.filter((r) => r.status === "shipped" && r.id !== except).at(-1);
}

export async function writeRelease(
  remote: Remote,
  projectDir: string,
  record: ReleaseRecord,
): Promise<void> {
  const p = smokerPaths(projectDir);
  await remote.run(cmd("mkdir", "-p", "--", p.releases));
  await remote.writeFile(p.record(record.id), `${JSON.stringify(record)}\n`, 0o600);
}

/** Appends one line to the audit log (stdin, so nothing of it is on a command line). */
export function auditCommand(projectDir: string): Script {
  const p = smokerPaths(projectDir);
  return and(
    cmd("mkdir", "-p", "--", p.root),
    redirect(cmd("cat"), { stdout: p.audit, append: true }),
  );
}

export async function appendAudit(
  remote: Remote,
  projectDir: string,
  entry: AuditEntry,
): Promise<void> {
  await remote.run(auditCommand(projectDir), { stdin: `${JSON.stringify(entry)}\n` });
}

export async function readAudit(remote: Remote, projectDir: string): Promise<AuditEntry[]> {
  const out = await remote.tryRun(cmd("cat", "--", smokerPaths(projectDir).audit));
  return out.stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AuditEntry);
}

/** Which records to delete so that the newest `keep` remain (never `protect`). */
export function releasesToPrune(
  records: ReleaseRecord[],
  keep: number,
  protect: string[] = [],
): ReleaseRecord[] {
  const excess = records.length - keep;
  if (excess <= 0) return [];
  return records.filter((r) => !protect.includes(r.id)).slice(0, excess);
}

export function pruneCommand(projectDir: string, ids: string[]): Script {
  const p = smokerPaths(projectDir);
  return cmd("rm", "-rf", "--", ...ids.flatMap((id) => [p.record(id), p.files(id)]));
}
