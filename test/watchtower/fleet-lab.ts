// The fleet lab: six device hosts of their own (test/lab/lab.sh with LAB_HOSTS pi-1..pi-6), the
// Watchtower stand-in image, and the device stack each device runs. Used by the integration
// tests and bench/fleet.ts; each brings the lab up once and down at the end.
//
// Why the stand-in is an image: the action's setup writes a compose service for Watchtower, and
// the test should run exactly that service: its command line, its 0600 env_file with the token,
// its socket mount and its port published on the device's address. So the stand-in
// (standin/watchtower.mjs) is packed with node and its few shared libraries into a lab image on
// lab/busybox:1 and pushed to the lab registry; `watchtower-image` names it, and what the
// action wrote is what runs. (No Go toolchain, and Watchtower's own image cannot be pulled.)
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cmd, connect, type Remote } from "@smoker/remote";
import { type Lab, type LabHost, labCommand, loadLab } from "../lab/lab.js";

export const FLEET_ENV = {
  LAB_DIR: "/tmp/lab-fleet",
  LAB_NAME: "fleet",
  LAB_NET: "241",
  LAB_HOSTS: "pi-1 pi-2 pi-3 pi-4 pi-5 pi-6",
} as const;

export const PROJECT = "smoker";
export const APP_PORT = 3001;
const HERE = dirname(fileURLToPath(import.meta.url));
const DOCKER = "/usr/bin/docker";

export interface Fleet {
  lab: Lab;
  hosts: LabHost[];
  /** REGISTRY/smoker/watchtower:lab */
  watchtowerImage: string;
  /** REGISTRY/smoker/backend:app: the tag the devices follow. */
  appImage: string;
}

export function fleetLab(): Lab {
  return loadLab(FLEET_ENV.LAB_DIR);
}

function builder(lab: Lab, ...args: string[]): string {
  return execFileSync(DOCKER, ["-H", `unix://${lab.dir}/builder/docker.sock`, ...args], {
    encoding: "utf8",
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Points backend:app at what backend:<tag> is, in the lab registry; returns its digest. */
export function pushApp(fleet: Pick<Fleet, "lab" | "appImage">, tag: string): string {
  const source = `${fleet.lab.registry}/smoker/backend:${tag}`;
  builder(fleet.lab, "tag", source, fleet.appImage);
  const out = builder(fleet.lab, "push", fleet.appImage);
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out)?.[1];
  if (!digest) throw new Error(`no digest in the push output: ${out}`);
  return digest;
}

/** The stand-in image: node, the libraries it links, and standin/watchtower.mjs. */
function buildStandIn(lab: Lab, ref: string): void {
  const context = mkdtempSync(join(tmpdir(), "smoker-wt-"));
  try {
    const root = join(context, "root");
    const libs = execFileSync("ldd", [process.execPath], { encoding: "utf8" })
      .split("\n")
      .map((l) => /(\/\S+) \(0x/.exec(l)?.[1] ?? /^\s*(\/\S+) \(0x/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined);
    for (const file of [process.execPath, ...libs]) {
      const target = join(root, file.startsWith("/usr/bin") ? "usr/bin/node" : file);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(file, target);
    }
    copyFileSync(join(HERE, "standin", "watchtower.mjs"), join(root, "watchtower.mjs"));
    writeFileSync(
      join(context, "Dockerfile"),
      'FROM lab/busybox:1\nCOPY root/ /\nENTRYPOINT ["/usr/bin/node", "/watchtower.mjs"]\n',
    );
    builder(lab, "build", "-q", "-t", ref, context);
    builder(lab, "push", ref);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

export const deviceCompose = (appImage: string) => `services:
  device-service:
    image: ${appImage}
    restart: unless-stopped
    ports: ["${APP_PORT}:3001"]
`;

export function fleetConnect(lab: Lab, host: LabHost): Promise<Remote> {
  return connect({
    host: host.ip,
    port: host.port,
    username: host.user,
    privateKey: readFileSync(lab.clientKey, "utf8"),
    hostKeys: { knownHosts: readFileSync(lab.knownHostsFile, "utf8") },
    connectTimeoutMs: 5_000,
  });
}

/** The device stack on one device: its compose file in /opt/smoker, up on backend:app. */
async function deployDeviceStack(fleet: Fleet, host: LabHost): Promise<void> {
  const remote = await fleetConnect(fleet.lab, host);
  try {
    await remote.run(cmd("mkdir", "-p", `/opt/${PROJECT}`));
    await remote.writeFile(
      `/opt/${PROJECT}/docker-compose.yml`,
      deviceCompose(fleet.appImage),
      0o644,
    );
    await remote.run(
      cmd(
        "docker",
        "compose",
        "-p",
        PROJECT,
        "-f",
        `/opt/${PROJECT}/docker-compose.yml`,
        "up",
        "-d",
      ),
    );
  } finally {
    remote.close();
  }
}

/** Brings the fleet lab up (once per test file), builds the stand-in, deploys the stacks. */
export async function upFleet(): Promise<Fleet> {
  const up = labCommand(["up"], { ...FLEET_ENV });
  if (up.status !== 0) {
    // One more try: a loaded machine can be slow to bring the registry up.
    const again = labCommand(["up"], { ...FLEET_ENV });
    if (again.status !== 0) throw new Error(`fleet lab up failed:\n${up.stdout}\n${again.stderr}`);
  }
  const lab = fleetLab();
  const fleet: Fleet = {
    lab,
    hosts: lab.hosts,
    watchtowerImage: `${lab.registry}/smoker/watchtower:lab`,
    appImage: `${lab.registry}/smoker/backend:app`,
  };
  buildStandIn(lab, fleet.watchtowerImage);
  pushApp(fleet, "1.0.0");
  await Promise.all(fleet.hosts.map((h) => deployDeviceStack(fleet, h)));
  return fleet;
}

export function downFleet(): void {
  labCommand(["down"], { ...FLEET_ENV });
}

export function fault(command: "partition" | "heal", host: string): void {
  const result = labCommand([command, host], { ...FLEET_ENV });
  if (result.status !== 0) throw new Error(`lab.sh ${command} ${host}: ${result.stderr}`);
}

/** Caps a device at `cores` of CPU (or "off"), as a real device has a CPU of its own. */
export function capCpu(host: string, cores: string): void {
  const result = labCommand(["cpu", host, cores], { ...FLEET_ENV });
  if (result.status !== 0) throw new Error(`lab.sh cpu ${host} ${cores}: ${result.stderr}`);
}

/** docker on a device, from this machine (the device's engine socket), for assertions. */
export function onDevice(host: LabHost, ...args: string[]): string {
  const result = spawnSync(DOCKER, ["-H", host.dockerHost, ...args], { encoding: "utf8" });
  if (result.status !== 0)
    throw new Error(`docker ${args.join(" ")} on ${host.name}: ${result.stderr}`);
  return result.stdout;
}

/** The digest (sha256:...) the device service runs, and its container id. */
export function running(host: LabHost): { id: string; digest: string } {
  const id = onDevice(
    host,
    "ps",
    "-q",
    "--no-trunc",
    "--filter",
    `label=com.docker.compose.project=${PROJECT}`,
    "--filter",
    "label=com.docker.compose.service=device-service",
  ).trim();
  const image = onDevice(host, "inspect", "--format", "{{.Image}}", id).trim();
  const digests = JSON.parse(
    onDevice(host, "image", "inspect", "--format", "{{json .RepoDigests}}", image),
  ) as string[];
  return { id, digest: digests.map((d) => d.split("@")[1]!).join(",") };
}

/** The action's connection inputs for the fleet: one key, per-device keys in known-hosts. */
export function fleetInputs(lab: Lab): Record<string, string> {
  return {
    "private-key": readFileSync(lab.clientKey, "utf8"),
    "known-hosts": readFileSync(lab.knownHostsFile, "utf8"),
    "project-name": PROJECT,
  };
}
