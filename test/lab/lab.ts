// Typed access to the lab that test/lab/lab.sh builds: its lab.json and its fault switches.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One lab host: a network namespace with its own engine, /opt and sshd. */
export interface LabHost {
  name: string;
  ip: string;
  port: number;
  user: string;
  /** Network namespace name (`ip netns`). */
  netns: string;
  /** The host's engine, e.g. unix:///tmp/smoker-lab/hosts/dev-cloud/docker.sock. */
  dockerHost: string;
  /** The directory that the host (its sshd and its engine) sees as /opt. */
  optDir: string;
  /** First on the PATH of the host's SSH sessions: where tests put a host's own programs. */
  binDir: string;
  /** The host's private ed25519 host key. */
  hostKeyFile: string;
  /** "IP ssh-ed25519 AAAA...", as in the lab's known_hosts. */
  knownHostsLine: string;
  /** "SHA256:...", as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

export interface Lab {
  name: string;
  dir: string;
  gateway: string;
  /** "10.N.0.1:PORT", or null for a lab built with LAB_IMAGES=0. */
  registry: string | null;
  clientKey: string;
  clientKeyPassphraseProtected: string;
  passphraseFile: string;
  knownHostsFile: string;
  hosts: LabHost[];
  /** "backend:1.0.0" -> "10.N.0.1:PORT/smoker/backend@sha256:..." */
  images: Record<string, string>;
}

export const LAB_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "lab.sh");

const NOT_UP = "the lab is not up: run `npm run lab -- up`";

/** Reads LAB_DIR/lab.json, which `lab.sh up` writes once the lab is complete. */
export function loadLab(dir = process.env.LAB_DIR ?? "/tmp/smoker-lab"): Lab {
  const file = join(dir, "lab.json");
  if (!existsSync(file)) {
    throw new Error(`${NOT_UP} (no ${file})`);
  }
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Lab;
  } catch (error) {
    throw new Error(`${NOT_UP} (${file} is unreadable: ${String(error)})`);
  }
}

/** The named host of a lab, or a clear error. */
export function labHost(lab: Lab, name: string): LabHost {
  const host = lab.hosts.find((h) => h.name === name);
  if (host === undefined) {
    throw new Error(
      `lab ${lab.name} has no host "${name}" (has: ${lab.hosts.map((h) => h.name).join(", ")})`,
    );
  }
  return host;
}

export interface LabCommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bash lab.sh ARGS...` synchronously, e.g. labCommand(["partition", "dev-cloud"]).
 * env is added to this process's environment (e.g. { LAB_DIR: "/tmp/other-lab" }).
 * A status of -1 means lab.sh could not be run or was killed.
 */
export function labCommand(args: string[], env?: Record<string, string>): LabCommandResult {
  const result = spawnSync("bash", [LAB_SCRIPT, ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const failure = result.error === undefined ? "" : `lab.sh: ${String(result.error)}\n`;
  return {
    status: result.status ?? -1,
    stdout: result.stdout ?? "",
    stderr: `${result.stderr ?? ""}${failure}`,
  };
}
