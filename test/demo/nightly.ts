/**
 * The nightly story on the lab, through the smoker CLI's own code: deploy 1.0.0 to dev-cloud,
 * gate on its health, deploy a broken build under the same tag (crash loop) and watch it roll
 * back to 1.0.0's digest, then redeploy 1.0.0 and see that nothing is recreated. Exits 0 only
 * when every step behaved as expected.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "@smoker/cli";
import { listReleases } from "@smoker/deploy";
import { cmd, connect, type Remote } from "@smoker/remote";
import { loadLab } from "../lab/lab.js";

const lab = loadLab();
const dev = lab.hosts.find((h) => h.name === "dev-cloud")!;
const project = "nightly-demo";
const port = 18200;
const tag = "nightly-demo";
const repo = `${lab.registry}/smoker/backend`;

const dir = mkdtempSync(join(tmpdir(), "smoker-demo-"));
mkdirSync(join(dir, project));
writeFileSync(
  join(dir, "smoker.json"),
  JSON.stringify({
    targets: {
      dev: { host: dev.ip, "host-fingerprint": dev.fingerprint, "private-key-file": lab.clientKey },
    },
  }),
);
writeFileSync(
  join(dir, project, "docker-compose.yml"),
  `services:\n  backend:\n    image: ${repo}:${tag}\n    ports:\n      - "${port}:3001"\n    restart: unless-stopped\n`,
);

const timeline: { step: string; expected: string; ok: boolean; seconds: number; note: string }[] =
  [];
const io = {
  out: (t: string) => process.stdout.write(t.replace(/^/gm, "    ")),
  err: (t: string) => process.stdout.write(t.replace(/^/gm, "    ")),
  tty: false,
  cwd: dir,
  env: { ...process.env, GITHUB_ACTOR: "nightly-demo" },
};
const smoker = (...args: string[]) =>
  main([args[0]!, "--config", "smoker.json", "--target", "dev", ...args.slice(1)], io);

const deploy = (version: string) =>
  smoker("deploy", "--compose-files", `${project}/docker-compose.yml`, "--version", version);

async function step(
  name: string,
  expected: string,
  fn: () => Promise<{ ok: boolean; note: string }>,
) {
  console.log(`\n● ${name}\n  expected: ${expected}`);
  const started = Date.now();
  let result: { ok: boolean; note: string };
  try {
    result = await fn();
  } catch (error) {
    result = { ok: false, note: (error as Error).message };
  }
  const seconds = (Date.now() - started) / 1000;
  timeline.push({ step: name, expected, ...result, seconds });
  console.log(
    `  ${result.ok ? "as expected" : "NOT AS EXPECTED"}: ${result.note} (${seconds.toFixed(1)} s)`,
  );
}

async function version(): Promise<string> {
  const r = await fetch(`http://${dev.ip}:${port}/version`, { signal: AbortSignal.timeout(3_000) });
  return (await r.text()).trim();
}

async function running(remote: Remote): Promise<{ id: string; digest: string }> {
  const id = (
    await remote.run(
      cmd(
        "docker",
        "ps",
        "-q",
        "--no-trunc",
        "--filter",
        `label=com.docker.compose.project=${project}`,
      ),
    )
  ).stdout.trim();
  const image = (
    await remote.run(cmd("docker", "inspect", "--format", "{{.Image}}", id))
  ).stdout.trim();
  const digests = (
    await remote.run(cmd("docker", "image", "inspect", "--format", "{{json .RepoDigests}}", image))
  ).stdout;
  return { id, digest: (JSON.parse(digests) as string[])[0] ?? "" };
}

async function retag(remote: Remote, from: string): Promise<void> {
  await remote.run(cmd("docker", "pull", "-q", `${repo}:${from}`));
  await remote.run(cmd("docker", "tag", `${repo}:${from}`, `${repo}:${tag}`));
  await remote.run(cmd("docker", "push", `${repo}:${tag}`));
}

const remote = await connect({
  host: dev.ip,
  privateKey: readFileSync(lab.clientKey, "utf8"),
  hostKeys: { fingerprints: [dev.fingerprint] },
});
const good = lab.images["backend:1.0.0"]!;
try {
  // A clean start: the demo's own project only.
  const leftovers = (
    await remote.run(
      cmd("docker", "ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`),
    )
  ).stdout
    .split("\n")
    .filter(Boolean);
  if (leftovers.length > 0) await remote.run(cmd("docker", "rm", "-f", ...leftovers));

  await remote.tryRun(cmd("rm", "-rf", `/opt/${project}`));
  await retag(remote, "1.0.0");

  await step(
    "Nightly deploy of 1.0.0 to dev-cloud",
    "healthy, running 1.0.0's digest",
    async () => {
      const code = await deploy("1.0.0");
      const now = await running(remote);
      return {
        ok: code === 0 && now.digest === good && (await version()) === "1.0.0",
        note: `exit ${code}, ${now.digest.slice(-19)}`,
      };
    },
  );

  await step("Health gate", "http /health passes twice in a row", async () => {
    const code = await smoker(
      "health",
      "--urls",
      `http://${dev.ip}:${port}/health`,
      "--timeout",
      "30s",
    );
    return { ok: code === 0, note: `exit ${code}` };
  });

  await step(
    "Nightly deploy of a broken build, pushed under the same tag",
    "fails fast, rolled back to 1.0.0 by DIGEST",
    async () => {
      await retag(remote, "crash");
      const code = await deploy("2.0.0-broken");
      const now = await running(remote);
      const v = await version();
      return {
        ok: code === 1 && now.digest === good && v === "1.0.0",
        note: `exit ${code}, serving ${v} at ${now.digest.slice(-19)} although the tag now points to the crash image`,
      };
    },
  );

  await step("Redeploy of 1.0.0", "nothing recreated (same container id)", async () => {
    await retag(remote, "1.0.0");
    await deploy("1.0.0");
    const before = await running(remote);
    const code = await deploy("1.0.0");
    const after = await running(remote);
    return {
      ok: code === 0 && after.id === before.id,
      note: `exit ${code}, container ${after.id.slice(0, 12)} kept`,
    };
  });

  await step("Releases on the host", "the broken build is recorded as failed", async () => {
    const code = await smoker("releases", "--project-name", project);
    const failed = (await listReleases(remote, `/opt/${project}`)).filter(
      (r) => r.status === "failed",
    );
    return {
      ok: code === 0 && failed.some((r) => r.version === "2.0.0-broken"),
      note: `${failed.length} failed release(s) recorded`,
    };
  });
} finally {
  remote.close();
}

console.log("\nTimeline");
for (const t of timeline) {
  console.log(`  ${t.ok ? "✓" : "✗"} ${t.seconds.toFixed(1).padStart(5)} s  ${t.step}: ${t.note}`);
}
const failed = timeline.filter((t) => !t.ok).length;
console.log(
  failed ? `\n${failed} step(s) did not behave as expected` : "\nEvery step behaved as expected",
);
process.exitCode = failed ? 1 : 0;
