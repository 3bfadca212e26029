// Benchmark 1: a whole deploy-compose deploy against the least a careful person would type.
//
// Both start from the same state before every run: neither project has containers or a
// network, and the image is not on the host (removed by id). The pair runs in ABAB order
// (bare, ours, bare, ours...) so that drift on the shared machine hits both alike.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deploy } from "@smoker/deploy";
import { cmd, connect } from "@smoker/remote";
import {
  type BenchContext,
  type BenchResult,
  benchDir,
  benchPlan,
  connectOptions,
  formatMs,
  imageId,
  median,
  quietReporter,
  type Row,
  registryImage,
  removeDir,
  removeProject,
  writeProject,
} from "./support.js";

const BARE = "bench-bare";
const OURS = "bench-deploy";
export const projects = [BARE, OURS];

const IMAGE = "frontend:1.0.0";
const stack = (image: string, port: number) =>
  `services:\n  web:\n    image: ${image}\n    ports:\n      - "${port}:80"\n`;

/**
 * The baseline, run with the real OpenSSH client. This is the one place in the suite where a
 * remote command is a hand-written string rather than built with cmd()/and(): the baseline
 * is, by definition, what someone types after `ssh`. The string is constant (no value is
 * interpolated into it). `-F /dev/null` keeps a user's ssh_config (a ControlMaster, say) from
 * reusing a connection, so the baseline pays for its handshake as deploy-compose does;
 * BatchMode only stops it from ever waiting on a prompt.
 */
const BARE_COMMAND = `cd ${benchDir(BARE)} && docker compose pull && docker compose up -d --wait`;

function bareSsh(ctx: BenchContext, knownHosts: string): Promise<number> {
  const { host, lab } = ctx;
  const args = [
    "-F",
    "/dev/null",
    "-i",
    lab.clientKey,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "BatchMode=yes",
    "-p",
    String(host.port),
    `${host.user}@${host.ip}`,
    BARE_COMMAND,
  ];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("ssh", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      if (code === 0) return resolve(ms);
      reject(new Error(`bare ssh deploy failed (${signal ?? `exit ${code}`}):\n${stderr.trim()}`));
    });
  });
}

/** Neither project running, the image gone from the host: the start of every timed run. */
async function unpulled(ctx: BenchContext, ref: string): Promise<void> {
  const { remote } = ctx;
  await removeProject(remote, BARE);
  await removeProject(remote, OURS);
  await removeDir(remote, OURS);
  const id = await imageId(remote, ref);
  if (id !== undefined) {
    const out = await remote.tryRun(cmd("docker", "image", "rm", id));
    if (out.code !== 0) {
      throw new Error(`could not remove ${ref} (${id}) from the host: ${out.stderr.trim()}`);
    }
  }
}

export async function benchDeployVsBare(ctx: BenchContext): Promise<BenchResult> {
  const ref = registryImage(ctx.lab, IMAGE);
  const plan = benchPlan(OURS, "1.0.0", stack(ref, 18402), true);

  const temp = mkdtempSync(join(tmpdir(), "smoker-bench-"));
  const knownHosts = join(temp, "known_hosts");
  writeFileSync(knownHosts, `${ctx.host.knownHostsLine}\n`);
  await writeProject(ctx.remote, BARE, { "compose.yaml": stack(ref, 18401) });

  const bare: number[] = [];
  const ours: number[] = [];
  const counts: number[] = [];
  const phases = new Map<string, number[]>();
  const keep = (name: string, ms: number) => phases.set(name, [...(phases.get(name) ?? []), ms]);
  try {
    for (let run = 0; run < ctx.runs; run++) {
      await unpulled(ctx, ref);
      bare.push(await bareSsh(ctx, knownHosts));

      await unpulled(ctx, ref);
      const reporter = quietReporter();
      let commands = 0;
      const prompt = `${ctx.host.ip}:${ctx.host.port}$ `;
      const options = {
        ...connectOptions(ctx.lab, ctx.host),
        // Remote logs each command it runs at debug level, as `host:port$ command`.
        log: {
          info() {},
          warn() {},
          debug: (m: string) => {
            if (m.startsWith(prompt)) commands++;
          },
        },
      };
      const started = performance.now();
      const remote = await connect(options);
      keep("Connect", performance.now() - started);
      try {
        const result = await deploy(remote, plan, reporter);
        if (result.rolledBack) throw new Error("the benchmark deploy rolled back");
      } finally {
        remote.close();
      }
      const total = performance.now() - started;
      ours.push(total);
      counts.push(commands);
      let inPhases = phases.get("Connect")!.at(-1)!;
      for (const [name, ms] of reporter.phases) {
        keep(name, ms);
        inPhases += ms;
      }
      keep("Release record, audit, unlock", total - inPhases);
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }

  const ratio = median(ours) / median(bare);
  const rows: Row[] = [
    { label: "bare ssh: compose pull + up -d --wait", samples: bare },
    { label: "deploy-compose: connect .. healthy", samples: ours },
    ...[...phases].map(([name, samples]) => ({ label: `  ${name}`, samples })),
    {
      label: "ours/bare, per ABAB pair",
      samples: ours.map((o, i) => o / bare[i]!),
      unit: "x",
      target: "<= 1.3x",
    },
  ];
  return {
    title: `1. deploy-compose vs bare ssh deploy (${IMAGE}, not pulled, ${ctx.host.name})`,
    rows,
    summary: `deploy-compose ${formatMs(median(ours))} vs bare ${formatMs(median(bare))} = ${ratio.toFixed(2)}x (target <= 1.3x)`,
    notes: [
      "The indented rows split deploy-compose's time into its phases.",
      `deploy-compose ran ${median(counts)} remote commands per deploy (median; SFTP writes not counted); the bare deploy runs 1.`,
    ],
  };
}
