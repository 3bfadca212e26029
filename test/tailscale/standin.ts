// Installs the tailscale stand-in (standin/tailscale.mjs + tailscaled.mjs) into a lab host's own
// bin dir, with its state next to it (<binDir>/../tailscale), and takes it away again.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { selfSignedCertificate } from "@smoker/action-kit/testing";

const HERE = join(dirname(fileURLToPath(import.meta.url)), "standin");

export const TAILNET_SUFFIX = "tail4e2b9.ts.net";
/** The node attributes a funnel-enabled node gets (tailcfg caps, ports as Tailscale grants). */
export const FUNNEL_CAPS = [
  "https",
  "funnel",
  "https://tailscale.com/cap/funnel-ports?ports=443,8443,10000",
];

export interface NodeState {
  backendState: "Running" | "NeedsLogin" | "Stopped" | "NoState";
  hostName: string;
  dnsName: string;
  capabilities: string[];
  authURL?: string;
}

export interface Standin {
  stateDir: string;
  dnsName: string;
  /** PEM of the node's self-signed certificate for dnsName. */
  certificate: string;
}

export function stateDirOf(binDir: string): string {
  return join(dirname(binDir), "tailscale");
}

/** Installs the stand-in for host `name` (logged in, funnel allowed unless told otherwise). */
export async function installStandin(
  binDir: string,
  name: string,
  node: Partial<NodeState> = {},
): Promise<Standin> {
  const stateDir = stateDirOf(binDir);
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(binDir, { recursive: true });
  copyFileSync(join(HERE, "tailscale.mjs"), join(binDir, "tailscale"));
  chmodSync(join(binDir, "tailscale"), 0o755);
  copyFileSync(join(HERE, "tailscaled.mjs"), join(stateDir, "tailscaled.mjs"));
  const dnsName = `${name}.${TAILNET_SUFFIX}`;
  const state: NodeState = {
    backendState: "Running",
    hostName: name,
    dnsName: `${dnsName}.`,
    capabilities: FUNNEL_CAPS,
    ...node,
  };
  writeFileSync(join(stateDir, "node.json"), JSON.stringify(state));
  if (!existsSync(join(stateDir, "cert.pem"))) {
    const made = await selfSignedCertificate({
      subject: `/CN=${dnsName}`,
      altNames: `DNS:${dnsName}`,
    });
    writeFileSync(join(stateDir, "key.pem"), made.key, { mode: 0o600 });
    writeFileSync(join(stateDir, "cert.pem"), made.cert);
  }
  return { stateDir, dnsName, certificate: readFileSync(join(stateDir, "cert.pem"), "utf8") };
}

/** Changes the node's login state or capabilities, as the control plane would. */
export function setNode(binDir: string, patch: Partial<NodeState>): void {
  const file = join(stateDirOf(binDir), "node.json");
  const state = JSON.parse(readFileSync(file, "utf8")) as NodeState;
  writeFileSync(file, JSON.stringify({ ...state, ...patch }));
}

/** Every argv the stand-in was called with since install (or the last clearInvocations). */
export function invocations(binDir: string): string[][] {
  const file = join(stateDirOf(binDir), "invocations.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { argv: string[] }).argv);
}

export function clearInvocations(binDir: string): void {
  rmSync(join(stateDirOf(binDir), "invocations.log"), { force: true });
}

/** True for a call that can change the serve config (anything but status/version). */
export function isMutation(argv: string[]): boolean {
  if (argv[0] === "status" || argv[0] === "version") return false;
  const positional = argv.slice(1).filter((a) => !a.startsWith("-"));
  return !(positional[0] === "status");
}

/** Stops the stand-in's daemon (by its recorded pid) and removes the stand-in and its state. */
export function removeStandin(binDir: string): void {
  const stateDir = stateDirOf(binDir);
  const pidFile = join(stateDir, "tailscaled.pid");
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      if (pid > 0) process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  rmSync(join(binDir, "tailscale"), { force: true });
  rmSync(stateDir, { recursive: true, force: true });
}
