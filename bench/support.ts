// What every benchmark shares: the lab host, connections, a silent reporter, project cleanup,
// and the figures (medians and tables). Benchmarks print; they never assert a timing.
import { readFileSync } from "node:fs";
import type { DeployPlan, Reporter } from "@smoker/deploy";
import { and, type ConnectOptions, cmd, connect, type Remote } from "@smoker/remote";
import { type Lab, type LabHost, labHost, loadLab } from "../test/lab/lab.js";

/** The one lab host benchmarks use: the integration tests use the others. */
export const BENCH_HOST = "prod-cloud";

/** Every project (and /opt directory) a benchmark makes starts with this. */
export const PREFIX = "bench-";

export interface BenchContext {
  lab: Lab;
  host: LabHost;
  runs: number;
  /** A connection for setup and cleanup, never inside a timed section. */
  remote: Remote;
}

/** One measured quantity: its samples in ms (or a ratio, with unit "x"). */
export interface Row {
  label: string;
  samples: number[];
  unit?: "ms" | "x";
  target?: string;
}

export interface BenchResult {
  title: string;
  rows: Row[];
  /** The one line that says how it went, e.g. `deploy-compose 4.05 s vs bare 3.64 s = 1.11x`. */
  summary: string;
  notes?: string[];
}

export function benchLab(): { lab: Lab; host: LabHost } {
  const lab = loadLab();
  if (lab.registry === null) throw new Error("the lab has no registry (built with LAB_IMAGES=0)");
  return { lab, host: labHost(lab, BENCH_HOST) };
}

/** Pinned to the host's known_hosts line: the same trust the bare `ssh` baseline gets. */
export function connectOptions(lab: Lab, host: LabHost): ConnectOptions {
  return {
    host: host.ip,
    port: host.port,
    username: host.user,
    privateKey: readFileSync(lab.clientKey, "utf8"),
    hostKeys: { knownHosts: `${host.knownHostsLine}\n` },
    connectTimeoutMs: 10_000,
  };
}

export function connectTo(lab: Lab, host: LabHost): Promise<Remote> {
  return connect(connectOptions(lab, host));
}

export function registryImage(lab: Lab, nameAndTag: string): string {
  return `${lab.registry}/smoker/${nameAndTag}`;
}

/** A reporter that prints nothing and keeps how long each phase took (for a breakdown). */
export function quietReporter(): Reporter & { phases: Map<string, number> } {
  const phases = new Map<string, number>();
  return {
    phases,
    async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const started = performance.now();
      try {
        return await fn();
      } finally {
        phases.set(name, (phases.get(name) ?? 0) + (performance.now() - started));
      }
    },
    info() {},
    warn() {},
    debug() {},
  };
}

/**
 * A deploy of one compose file as the deploy-compose action would run it with its defaults:
 * pull, wait for health, no pre-deploy command, no volume backups. DeployPlan is still
 * growing; this is the one place the benchmarks build one.
 */
export function benchPlan(
  project: string,
  version: string,
  composeFile: string,
  rollbackOnFailure: boolean,
): DeployPlan {
  return {
    projectDir: benchDir(project),
    projectName: project,
    files: [{ name: "docker-compose.yml", content: Buffer.from(composeFile) }],
    env: undefined,
    version,
    services: undefined,
    pull: true,
    preDeploy: undefined,
    backupVolumes: [],
    backupImage: "",
    waitTimeoutMs: 60_000,
    rollbackOnFailure,
    lockTimeoutMs: 30_000,
    forceUnlock: false,
    keepReleases: 5,
    // Recorded in the lock, the release records and the audit log.
    by: { run: "bench", actor: "bench", commit: "0000000", runner: "bench" },
  };
}

function lines(text: string): string[] {
  return text.split("\n").filter(Boolean);
}

/**
 * Removes what a Compose project left on the host: its containers (running or restarting),
 * then its networks and volumes, found by Compose's project label. Idempotent.
 */
export async function removeProject(remote: Remote, project: string): Promise<void> {
  if (!project.startsWith(PREFIX)) throw new Error(`not a benchmark project: ${project}`);
  const label = `label=com.docker.compose.project=${project}`;
  const ids = lines((await remote.run(cmd("docker", "ps", "-aq", "--filter", label))).stdout);
  if (ids.length > 0) await remote.run(cmd("docker", "rm", "-f", "-v", ...ids));
  const networks = lines(
    (await remote.run(cmd("docker", "network", "ls", "-q", "--filter", label))).stdout,
  );
  if (networks.length > 0) await remote.run(cmd("docker", "network", "rm", ...networks));
  const volumes = lines(
    (await remote.run(cmd("docker", "volume", "ls", "-q", "--filter", label))).stdout,
  );
  if (volumes.length > 0) await remote.run(cmd("docker", "volume", "rm", ...volumes));
}

/** `/opt/bench-...`, refusing anything else so a slip cannot remove another project's files. */
export function benchDir(project: string): string {
  if (!/^bench-[a-z0-9-]+$/.test(project)) throw new Error(`not a benchmark project: ${project}`);
  return `/opt/${project}`;
}

export async function removeDir(remote: Remote, project: string): Promise<void> {
  await remote.run(cmd("rm", "-rf", "--", benchDir(project)));
}

/** Writes `files` into a fresh /opt/bench-... directory. */
export async function writeProject(
  remote: Remote,
  project: string,
  files: Record<string, string>,
): Promise<void> {
  const dir = benchDir(project);
  await remote.run(and(cmd("rm", "-rf", "--", dir), cmd("mkdir", "-p", "--", dir)));
  for (const [name, text] of Object.entries(files)) {
    await remote.writeFile(`${dir}/${name}`, text, 0o644);
  }
}

/** The image id a reference resolves to on the host, or undefined when it is not pulled. */
export async function imageId(remote: Remote, ref: string): Promise<string | undefined> {
  const out = await remote.tryRun(cmd("docker", "image", "inspect", "--format", "{{.Id}}", ref));
  return out.code === 0 ? out.stdout.trim() : undefined;
}

// ---------------------------------------------------------------------------------------------
// Figures

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  return Math.abs(ms) < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatValue(value: number, unit: Row["unit"] = "ms"): string {
  if (!Number.isFinite(value)) return "n/a";
  return unit === "x" ? `${value.toFixed(2)}x` : formatMs(value);
}

/** A plain table: label, median, min, max, target, n. */
export function table(result: BenchResult): string {
  const header = ["", "median", "min", "max", "target", "n"];
  const body = result.rows.map((r) => [
    r.label,
    formatValue(median(r.samples), r.unit),
    formatValue(Math.min(...r.samples), r.unit),
    formatValue(Math.max(...r.samples), r.unit),
    r.target ?? "",
    String(r.samples.length),
  ]);
  const all = [header, ...body];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const render = (row: string[]) =>
    row
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ")
      .trimEnd();
  const rule = "-".repeat(widths.reduce((a, b) => a + b + 2, -2));
  return [result.title, rule, render(header), ...body.map(render), rule].join("\n");
}

/** Bounded sleep for settling between runs. */
export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
