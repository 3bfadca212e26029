// Benchmark 3: how fast the watcher gives up on a crash-looping service.
//
// backend:crash exits 1 at start; with `restart: always` Docker keeps restarting it, so a
// naive "is it running?" check can see it up between two crashes. The watch starts as soon as
// `up` returns and ends when watchProject throws UnhealthyError (its log lines included).
import {
  type ComposeProject,
  detectCompose,
  UnhealthyError,
  up,
  watchProject,
} from "@smoker/compose";
import { cmd } from "@smoker/remote";
import {
  type BenchContext,
  type BenchResult,
  benchDir,
  formatMs,
  median,
  registryImage,
  removeProject,
  writeProject,
} from "./support.js";

const PROJECT = "bench-crash";
export const projects = [PROJECT];

export async function benchCrashLoop(ctx: BenchContext): Promise<BenchResult> {
  const { remote } = ctx;
  const image = registryImage(ctx.lab, "backend:crash");
  await remote.run(cmd("docker", "pull", "-q", image));
  await writeProject(remote, PROJECT, {
    "compose.yaml": `services:\n  crash:\n    image: ${image}\n    restart: always\n`,
  });
  const project: ComposeProject = {
    tool: await detectCompose(remote),
    dir: benchDir(PROJECT),
    name: PROJECT,
    files: ["compose.yaml"],
  };

  const watch: number[] = [];
  const total: number[] = [];
  const verdicts = new Map<string, number>();
  for (let run = 0; run < ctx.runs; run++) {
    await removeProject(remote, PROJECT);
    const beforeUp = performance.now();
    await remote.run(up(project));
    const started = performance.now();
    const error = await watchProject(remote, PROJECT, { timeoutMs: 30_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const ended = performance.now();
    if (!(error instanceof UnhealthyError)) {
      throw new Error(
        error === undefined
          ? "watchProject passed a crash-looping service"
          : `watchProject failed otherwise: ${String(error)}`,
      );
    }
    watch.push(ended - started);
    total.push(ended - beforeUp);
    verdicts.set(error.reason, (verdicts.get(error.reason) ?? 0) + 1);
  }
  await removeProject(remote, PROJECT);

  return {
    title: "3. time to fail on a crash loop (backend:crash, restart: always)",
    rows: [
      { label: "watchProject start -> UnhealthyError", samples: watch, target: "< 3 s" },
      { label: "up + watch -> UnhealthyError", samples: total },
    ],
    summary: `crash loop detected in ${formatMs(median(watch))} after up (target < 3 s)`,
    notes: [`Verdicts: ${[...verdicts].map(([reason, n]) => `${reason} x${n}`).join(", ")}`],
  };
}
