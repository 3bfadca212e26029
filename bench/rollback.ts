// Benchmark 4: how long restoreRelease takes to bring a recorded release back.
//
// Each run starts from an empty project, deploys 1.0.0 then 2.0.0 with deploy() (both
// healthy), then times restoreRelease to the 1.0.0 record: its files copied back, every
// service pinned to its digest, `up`, and the watch until healthy. The images are already
// on the host, as they are on a host that ran the release before.
import { deploy, listReleases, restoreRelease } from "@smoker/deploy";
import { cmd } from "@smoker/remote";
import {
  type BenchContext,
  type BenchResult,
  benchDir,
  benchPlan,
  formatMs,
  median,
  quietReporter,
  registryImage,
  removeDir,
  removeProject,
} from "./support.js";

const PROJECT = "bench-rollback";
export const projects = [PROJECT];

const PORT = 18404;

async function version(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  return (await response.text()).trim();
}

export async function benchRollback(ctx: BenchContext): Promise<BenchResult> {
  const { remote } = ctx;
  const plan = (tag: string) =>
    benchPlan(
      PROJECT,
      tag,
      `services:
  backend:
    image: ${registryImage(ctx.lab, `backend:${tag}`)}
    ports:
      - "${PORT}:3001"
`,
      false,
    );
  for (const tag of ["1.0.0", "2.0.0"]) {
    await remote.run(cmd("docker", "pull", "-q", registryImage(ctx.lab, `backend:${tag}`)));
  }
  const url = `http://${ctx.host.ip}:${PORT}/version`;

  const restore: number[] = [];
  const deploys: number[] = [];
  for (let run = 0; run < ctx.runs; run++) {
    await removeProject(remote, PROJECT);
    await removeDir(remote, PROJECT);
    const first = await deploy(remote, plan("1.0.0"), quietReporter());
    const second = await deploy(remote, plan("2.0.0"), quietReporter());
    deploys.push(first.durationMs, second.durationMs);
    const served = await version(url);
    if (served !== "2.0.0") throw new Error(`2.0.0 was deployed but the service says ${served}`);
    const target = (await listReleases(remote, benchDir(PROJECT))).find(
      (r) => r.id === first.deploymentId,
    );
    if (target === undefined) throw new Error(`no release record ${first.deploymentId}`);

    const started = performance.now();
    await restoreRelease(
      remote,
      { projectDir: benchDir(PROJECT), projectName: PROJECT, waitTimeoutMs: 60_000 },
      second.compose,
      target,
    );
    restore.push(performance.now() - started);
    const back = await version(url);
    if (back !== "1.0.0") throw new Error(`restored 1.0.0 but the service says ${back}`);
  }
  await removeProject(remote, PROJECT);
  await removeDir(remote, PROJECT);

  return {
    title: "4. rollback: restoreRelease 2.0.0 -> 1.0.0 (files + digest pins + up + healthy)",
    rows: [
      { label: "restoreRelease to 1.0.0", samples: restore, target: "< 5 s" },
      { label: "deploy() 1.0.0 / 2.0.0 (setup, pulled)", samples: deploys },
    ],
    summary: `rollback to 1.0.0 in ${formatMs(median(restore))} (target < 5 s)`,
  };
}
