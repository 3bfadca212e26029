/**
 * The nightly story on the lab, through the smoker CLI's own code: deploy 1.0.0 to dev-cloud,
 * gate on its health, deploy a broken build under the same tag (crash loop) and watch it roll
 * back to 1.0.0's digest, then redeploy 1.0.0 and see that nothing is recreated. Each deploy
 * is announced to a local Discord webhook server and edited to its outcome, and what Discord
 * would show is printed. Exits 0 only when every step behaved as expected.
 *
 * The stack is a small twin of infra/stacks/cloud: a database with its named volume
 * (mongo-data, archived before each deploy), the backend under the moved nightly tag, and the
 * frontend, each with its healthcheck (the lab images carry theirs).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "@smoker/cli";
import { listReleases } from "@smoker/deploy";
import { cmd, connect, type Remote } from "@smoker/remote";
import { render, startDiscordSimulator } from "../discord/server.js";
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
  `services:
  mongo:
    image: ${lab.images["db:1.0.0"]}
    restart: unless-stopped
    volumes:
      - mongo-data:/data
  backend:
    image: ${repo}:${tag}
    restart: unless-stopped
    depends_on:
      - mongo
    ports:
      - "${port}:3001"
  frontend:
    image: ${lab.registry}/smoker/frontend:1.0.0
    restart: unless-stopped
    ports:
      - "${port + 1}:80"
volumes:
  mongo-data:
`,
);

// Discord, as the workflows use it: a "started" notice, edited to the outcome.
const discord = await startDiscordSimulator({
  onMessage: (message, event) => {
    console.log(`\n  Discord, message ${event}:`);
    console.log(render(message).replace(/^/gm, "    | "));
  },
});
const webhook = discord.addWebhook({ name: "smoker deploys" });
writeFileSync(join(dir, "discord-webhook"), webhook.url, { mode: 0o600 });

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

const notice = (...args: string[]) =>
  main(
    [
      "notify",
      "--webhook-url-file",
      "discord-webhook",
      "--api-base-url",
      discord.apiBase,
      "--environment",
      "dev",
      ...args,
    ],
    // Its own progress lines are not the story; what Discord shows is printed instead.
    { ...io, out: () => {} },
  );

/** A deploy as deploy-stack runs it: announce, deploy, edit the notice to the outcome. */
async function deploy(version: string): Promise<number> {
  let id = "";
  await notice("--status", "started", "--version", version, "--title", `${project} to dev-cloud`);
  id = [...discord.messages.keys()].at(-1) ?? "";
  const code = await smoker(
    "deploy",
    "--compose-files",
    `${project}/docker-compose.yml`,
    "--version",
    version,
    "--backup-volumes",
    "mongo-data",
    // An image with tar and gzip from the lab's registry (no public registry is reachable).
    "--backup-image",
    lab.images["tools:1"]!,
  );
  await notice(
    "--message-id",
    id,
    "--status",
    code === 0 ? "success" : "rolled-back",
    "--version",
    version,
    "--title",
    `${project} to dev-cloud`,
    "--details",
    code === 0
      ? "healthy"
      : "the new release did not turn healthy: previous release restored by digest",
  );
  return code;
}

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

/** The backend container and the digest it runs. */
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
        "--filter",
        "label=com.docker.compose.service=backend",
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

  await step(
    "Discord notices",
    "one message per deploy, edited from started to its outcome",
    async () => {
      const messages = [...discord.messages.values()];
      const colours = messages.map((m) => (m.embeds[0] as { color?: number } | undefined)?.color);
      const edited = messages.every((m) => m.edited_timestamp !== null);
      return {
        ok: messages.length === 4 && edited && new Set(colours).size === 2,
        note: `${messages.length} messages, ${edited ? "all" : "not all"} edited to their outcome`,
      };
    },
  );

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
  await discord.close();
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
