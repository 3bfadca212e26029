import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ActionResult, runBundled } from "@smoker/action-kit/testing";
import { cmd, type Remote } from "@smoker/remote";
import type { LabHost } from "../lab/lab.js";
import { lab } from "../remote/support.js";

export const ROOT = new URL("../..", import.meta.url).pathname;

/** Runs a bundled action from dist/ under node 24, the way a runner does. */
export function runAction(
  name: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  onSpawn?: (child: ChildProcess) => void,
) {
  return runBundled(join(ROOT, "dist", name, "index.js"), {
    inputs,
    env,
    timeoutMs: 240_000,
    ...(onSpawn ? { onSpawn } : {}),
    ...(process.env.SMOKER_NODE24 ? { node: process.env.SMOKER_NODE24 } : {}),
  });
}

/** A workspace with one stack folder holding `files`. */
export function workspace(stack: string, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "smoker-ws-"));
  mkdirSync(join(root, stack));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, stack, name), text);
  return root;
}

export function connectionInputs(h: LabHost): Record<string, string> {
  return {
    host: h.ip,
    port: String(h.port),
    username: h.user,
    "private-key": readFileSync(lab().clientKey, "utf8"),
    "host-fingerprint": h.fingerprint,
    "connect-timeout": "5s",
  };
}

export function image(name: string): string {
  return `${lab().registry}/smoker/${name}`;
}

/** Points `repo:to` at what `repo:from` is, in the lab registry (pushed from a host's engine). */
export async function retag(remote: Remote, repo: string, from: string, to: string): Promise<void> {
  await remote.run(cmd("docker", "pull", "-q", `${image(repo)}:${from}`));
  await remote.run(cmd("docker", "tag", `${image(repo)}:${from}`, `${image(repo)}:${to}`));
  await remote.run(cmd("docker", "push", `${image(repo)}:${to}`));
}

/** The service's container id and image id on the host. */
export async function containers(
  remote: Remote,
  project: string,
): Promise<Record<string, { id: string; image: string }>> {
  const out = await remote.run(
    cmd(
      "docker",
      "ps",
      "-a",
      "--filter",
      `label=com.docker.compose.project=${project}`,
      "--format",
      '{{.Label "com.docker.compose.service"}} {{.ID}}',
    ),
  );
  const result: Record<string, { id: string; image: string }> = {};
  for (const line of out.stdout.trim().split("\n").filter(Boolean)) {
    const [service, id] = line.split(" ") as [string, string];
    const img = await remote.run(cmd("docker", "inspect", "--format", "{{.Image}}", id));
    result[service] = { id, image: img.stdout.trim() };
  }
  return result;
}

/** Repo digest of an image id on the host. */
export async function digestOf(remote: Remote, imageId: string): Promise<string> {
  const out = await remote.run(
    cmd("docker", "image", "inspect", "--format", "{{json .RepoDigests}}", imageId),
  );
  return (JSON.parse(out.stdout) as string[])[0] ?? "";
}

export async function httpText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  return (await response.text()).trim();
}

type Images = Record<string, { image: string; digest: string | null }>;

/** The action's outputs, with `images` parsed. */
export function outputsOf(
  result: ActionResult,
): Record<string, string | undefined> & { images: Images } {
  const images: Images = result.outputs.images ? JSON.parse(result.outputs.images) : {};
  return Object.assign({}, result.outputs, { images });
}

/** Removes everything a test project left on a host: containers, volumes, networks, /opt dir. */
export async function removeProject(remote: Remote, project: string): Promise<void> {
  const label = `label=com.docker.compose.project=${project}`;
  for (const [kind, list] of [
    ["container", ["docker", "ps", "-aq", "--filter", label]],
    ["volume", ["docker", "volume", "ls", "-q", "--filter", label]],
    ["network", ["docker", "network", "ls", "-q", "--filter", label]],
  ] as const) {
    const [program, ...args] = list;
    const ids = (await remote.tryRun(cmd(program, ...args))).stdout.split("\n").filter(Boolean);
    if (ids.length > 0)
      await remote.tryRun(
        cmd("docker", kind, "rm", ...(kind === "container" ? ["-f"] : []), ...ids),
      );
  }
  await remote.tryRun(cmd("rm", "-rf", `/opt/${project}`));
}
