import { cmd, type Remote, type Script } from "@smoker/remote";
import { FUNNEL_PORTS } from "./desired.js";
import { parseServeConfig, type ServeConfig } from "./serve-config.js";

/** Tailscale on the host cannot do what was asked; `hint` says what to do. */
export class TailscaleError extends Error {
  override name = "TailscaleError";
  readonly hint: string;
  readonly reason: "missing" | "not-logged-in" | "funnel-not-allowed" | "failed";

  constructor(reason: TailscaleError["reason"], message: string, hint: string) {
    super(message);
    this.reason = reason;
    this.hint = hint;
  }
}

/** What `tailscale status --json` says about this node (ipnstate.Status). */
export interface NodeStatus {
  backendState: string;
  /** <host>.<tailnet>.ts.net, without the trailing dot. */
  dnsName: string;
  /** Node capabilities: the keys of Self.CapMap (and Self.Capabilities on older clients). */
  capabilities: string[];
}

// tailcfg.CapabilityHTTPS, tailcfg.NodeAttrFunnel, tailcfg.CapabilityFunnelPorts.
const CAP_HTTPS = "https";
const CAP_FUNNEL = "funnel";
const CAP_FUNNEL_PORTS = "https://tailscale.com/cap/funnel-ports";

const INSTALL_HINT =
  "Install Tailscale on the host (https://tailscale.com/download/linux, e.g. `curl -fsSL https://tailscale.com/install.sh | sh`), run `tailscale up`, then run this again.";
const LOGIN_HINT =
  "Log the host in: run `tailscale up` on it (or `tailscale up --auth-key=...` with a key from the admin console), then run this again.";
const FUNNEL_HINT =
  'Allow Funnel for this node: in the tailnet policy file (admin console > Access controls) add a nodeAttrs entry with "attr": ["funnel"] whose target includes this node, make sure HTTPS certificates are enabled (admin console > DNS), then run this again.';

/** Runs a tailscale command; exit 127 (the shell found no `tailscale`) is a clear error. */
async function tailscale(remote: Remote, script: Script) {
  const result = await remote.tryRun(script);
  if (result.code === 127) {
    throw new TailscaleError(
      "missing",
      `tailscale is not installed on ${remote.where} (the shell says: ${lastLine(result.stderr) || "command not found"})`,
      INSTALL_HINT,
    );
  }
  return result;
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)?.trim() ?? "";
}

/** Reads and checks the node: installed, logged in. */
export async function readNodeStatus(remote: Remote): Promise<NodeStatus> {
  const result = await tailscale(remote, cmd("tailscale", "status", "--json"));
  let parsed: {
    BackendState?: string;
    Self?: {
      DNSName?: string;
      CapMap?: Record<string, unknown> | null;
      Capabilities?: string[] | null;
    };
  };
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    const said = lastLine(result.stderr) || lastLine(result.stdout);
    if (/failed to connect to tailscaled|tailscaled.sock/.test(said)) {
      throw new TailscaleError(
        "not-logged-in",
        `tailscaled is not running on ${remote.where}: ${said}`,
        "Start it (`systemctl enable --now tailscaled`), run `tailscale up`, then run this again.",
      );
    }
    throw new TailscaleError(
      "failed",
      `\`tailscale status --json\` on ${remote.where} exited ${result.code} without JSON: ${said}`,
      "Check that `tailscale status` works on the host.",
    );
  }
  const backendState = parsed.BackendState ?? "";
  if (backendState !== "Running") {
    const why =
      backendState === "NeedsLogin"
        ? "is logged out"
        : backendState === "Stopped"
          ? "is stopped (tailscale down)"
          : backendState === "NeedsMachineAuth"
            ? "waits for an admin to approve the machine"
            : `is in state ${backendState || "unknown"}`;
    throw new TailscaleError("not-logged-in", `Tailscale on ${remote.where} ${why}`, LOGIN_HINT);
  }
  const self = parsed.Self ?? {};
  const capabilities = [
    ...new Set([...Object.keys(self.CapMap ?? {}), ...(self.Capabilities ?? [])]),
  ];
  return { backendState, dnsName: (self.DNSName ?? "").replace(/\.$/, ""), capabilities };
}

/** The funnel ports this node may use, from its funnel-ports capability. */
export function allowedFunnelPorts(status: NodeStatus): number[] {
  const attr = status.capabilities.find((c) => c.startsWith(`${CAP_FUNNEL_PORTS}?`));
  if (attr === undefined) return [];
  const list = new URL(attr).searchParams.get("ports") ?? "";
  const ports: number[] = [];
  for (const part of list.split(",").filter(Boolean)) {
    const [first, last] = part.split("-").map(Number);
    if (first === undefined || Number.isNaN(first)) continue;
    for (const p of FUNNEL_PORTS) {
      if (last === undefined ? p === first : p >= first && p <= last) ports.push(p);
    }
  }
  return ports;
}

/** Fails (before any change) when the node may not funnel on `ports`. */
export function checkFunnelAllowed(status: NodeStatus, ports: readonly number[], where: string) {
  if (ports.length === 0) return;
  const caps = new Set(status.capabilities);
  if (!caps.has(CAP_HTTPS)) {
    throw new TailscaleError(
      "funnel-not-allowed",
      `Funnel is not available on ${where}: HTTPS certificates are not enabled for the tailnet`,
      "Enable HTTPS certificates (admin console > DNS > HTTPS Certificates), then run this again.",
    );
  }
  if (!caps.has(CAP_FUNNEL)) {
    throw new TailscaleError(
      "funnel-not-allowed",
      `Funnel is not allowed on ${where}: the node does not have the "funnel" node attribute`,
      FUNNEL_HINT,
    );
  }
  const allowed = allowedFunnelPorts(status);
  const refused = ports.filter((p) => !allowed.includes(p));
  if (refused.length > 0) {
    throw new TailscaleError(
      "funnel-not-allowed",
      `Funnel is not allowed on port ${refused.join(", ")} of ${where} (allowed: ${allowed.join(", ") || "none"})`,
      FUNNEL_HINT,
    );
  }
}

/** `tailscale serve status --json`, parsed. */
export async function readServeConfig(remote: Remote): Promise<ServeConfig> {
  const result = await tailscale(remote, cmd("tailscale", "serve", "status", "--json"));
  if (result.code !== 0) {
    throw new TailscaleError(
      "failed",
      `\`tailscale serve status --json\` failed on ${remote.where}: ${lastLine(result.stderr)}`,
      "Check that `tailscale serve status` works on the host.",
    );
  }
  return parseServeConfig(result.stdout);
}

/** Runs one mutating CLI call, turning the CLI's refusals into errors that say what to do. */
export async function runChange(remote: Remote, script: Script, what: string): Promise<void> {
  const result = await tailscale(remote, script);
  if (result.code === 0) return;
  const said = (result.stderr || result.stdout).trim();
  if (/Logged out|not logged in|NeedsLogin/i.test(said)) {
    throw new TailscaleError(
      "not-logged-in",
      `Tailscale on ${remote.where} is logged out`,
      LOGIN_HINT,
    );
  }
  if (/node attribute not set|not allowed for funnel|Funnel not available/.test(said)) {
    throw new TailscaleError(
      "funnel-not-allowed",
      `${what} refused: ${lastLine(said)}`,
      FUNNEL_HINT,
    );
  }
  throw new TailscaleError(
    "failed",
    `${what} failed (exit ${result.code}): ${said.split("\n").slice(0, 3).join(" ")}`,
    "See the message above; the serve config may be half applied: run this again to finish.",
  );
}
