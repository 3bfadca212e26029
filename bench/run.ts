// Runs the benchmarks against the lab's prod-cloud host and prints a table per benchmark, then
// one summary line each. Figures only: nothing here passes or fails on a timing.
//
//   npx tsx bench/run.ts [--runs N] [--only deploy,gate,crash,rollback]
import { parseArgs } from "node:util";
import type { Remote } from "@smoker/remote";
import { benchCrashLoop, projects as crashProjects } from "./crash-loop.js";
import { benchDeployVsBare, projects as deployProjects } from "./deploy-vs-bare.js";
import { benchHealthGate, projects as gateProjects } from "./health-gate.js";
import { benchRollback, projects as rollbackProjects } from "./rollback.js";
import {
  type BenchContext,
  type BenchResult,
  benchLab,
  connectTo,
  removeDir,
  removeProject,
  table,
} from "./support.js";

const BENCHES = {
  deploy: { run: benchDeployVsBare, projects: deployProjects },
  gate: { run: benchHealthGate, projects: gateProjects },
  crash: { run: benchCrashLoop, projects: crashProjects },
  rollback: { run: benchRollback, projects: rollbackProjects },
} as const;
type BenchName = keyof typeof BENCHES;
const NAMES = Object.keys(BENCHES) as BenchName[];
const MAX_RUNS = 50;

const USAGE = `usage: tsx bench/run.ts [--runs N] [--only ${NAMES.join(",")}]
  --runs N   runs per benchmark, medians reported (default 5, at most ${MAX_RUNS})
  --only     a comma-separated subset of: ${NAMES.join(", ")}`;

function options(): { runs: number; only: BenchName[] } {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "5" },
      only: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > MAX_RUNS) {
    throw new Error(
      `--runs must be a whole number from 1 to ${MAX_RUNS} (got ${values.runs})\n${USAGE}`,
    );
  }
  const only = values.only === undefined ? NAMES : values.only.split(",").map((s) => s.trim());
  const unknown = only.filter((n) => !NAMES.includes(n as BenchName));
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(", ")}\n${USAGE}`);
  return { runs, only: only as BenchName[] };
}

/** Containers, networks, volumes and /opt directories of the benchmarks' own projects. */
async function cleanUp(remote: Remote, names: readonly BenchName[]): Promise<void> {
  for (const name of names) {
    for (const project of BENCHES[name].projects) {
      await removeProject(remote, project);
      await removeDir(remote, project);
    }
  }
}

async function main(): Promise<void> {
  const { runs, only } = options();
  const { lab, host } = benchLab();
  const started = performance.now();
  const remote = await connectTo(lab, host);
  const ctx: BenchContext = { lab, host, runs, remote };

  // Ctrl-C: leave the host as it was found, then stop.
  process.once("SIGINT", () => {
    console.error("\ninterrupted: cleaning up the benchmark projects...");
    void connectTo(lab, host)
      .then((r) => cleanUp(r, only).finally(() => r.close()))
      .catch((e: unknown) => console.error(`cleanup failed: ${String(e)}`))
      .finally(() => process.exit(130));
  });

  console.log(`benchmarks on ${host.name} (${host.ip}), ${runs} run(s) each: ${only.join(", ")}\n`);
  const results: BenchResult[] = [];
  const failures: string[] = [];
  try {
    // Leftovers of an interrupted run would skew the first figures.
    await cleanUp(remote, only);
    for (const name of only) {
      const benchStarted = performance.now();
      try {
        const result = await BENCHES[name].run(ctx);
        results.push(result);
        console.log(table(result));
        for (const note of result.notes ?? []) console.log(`  ${note}`);
        console.log(`  (${((performance.now() - benchStarted) / 1000).toFixed(0)} s)\n`);
      } catch (error) {
        failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        console.log(`${name}: FAILED to measure: ${String(error)}\n`);
      } finally {
        await cleanUp(remote, [name]);
      }
    }
  } finally {
    remote.close();
  }

  console.log("Summary");
  for (const r of results) console.log(`  ${r.summary}`);
  for (const f of failures) console.log(`  not measured: ${f.split("\n")[0]}`);
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
  process.exitCode = failures.length > 0 ? 1 : 0;
}

await main().catch((error: unknown) => {
  const hint = (error as { hint?: unknown }).hint;
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  if (typeof hint === "string") console.error(`hint: ${hint}`);
  console.error("(is the lab up, and is no fault switch such as `refuse prod-cloud` in effect?)");
  process.exitCode = 1;
});
