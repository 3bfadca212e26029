/**
 * The ServeConfig JSON that `tailscale serve status --json` prints (ipn/serve.go): TCP ports
 * and their kind, Web handlers keyed by "host:port" then mount point, and AllowFunnel keyed by
 * "host:port". A node that was never configured prints `null`.
 */
export interface TCPPortHandler {
  HTTPS?: boolean;
  HTTP?: boolean;
  TCPForward?: string;
  TerminateTLS?: string;
}

export interface HTTPHandler {
  Path?: string;
  Proxy?: string;
  Text?: string;
}

export interface ServeConfig {
  TCP?: Record<string, TCPPortHandler>;
  Web?: Record<string, { Handlers?: Record<string, HTTPHandler> }>;
  AllowFunnel?: Record<string, boolean>;
  [other: string]: unknown;
}

/** One thing the node serves, flattened from a ServeConfig. */
export interface CurrentEntry {
  port: number;
  kind: "https" | "http" | "tcp" | "tls-terminated-tcp";
  /** Mount point; "" for TCP forwarders. */
  path: string;
  /** What it serves: the Proxy URL, `text:...`, a file path, or the TCP forward address. */
  target: string;
  /** True when the handler is a Proxy (the only kind a config entry can ask for). */
  proxy: boolean;
  funnel: boolean;
}

export function parseServeConfig(json: string): ServeConfig {
  const value: unknown = JSON.parse(json);
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new Error("tailscale serve status --json did not print a ServeConfig object");
  }
  return value as ServeConfig;
}

/** Every handler served on `dnsName` (the node itself, not services), sorted by port and path. */
export function currentEntries(sc: ServeConfig, dnsName: string): CurrentEntry[] {
  const out: CurrentEntry[] = [];
  for (const [portText, h] of Object.entries(sc.TCP ?? {})) {
    const port = Number(portText);
    const hp = `${dnsName}:${port}`;
    const funnel = sc.AllowFunnel?.[hp] === true;
    if (h.HTTPS || h.HTTP) {
      for (const [path, handler] of Object.entries(sc.Web?.[hp]?.Handlers ?? {})) {
        const target =
          handler.Proxy ??
          (handler.Text !== undefined ? `text:${handler.Text}` : (handler.Path ?? ""));
        out.push({
          port,
          kind: h.HTTPS ? "https" : "http",
          path,
          target,
          proxy: handler.Proxy !== undefined,
          funnel,
        });
      }
    } else if (h.TCPForward) {
      out.push({
        port,
        kind: h.TerminateTLS ? "tls-terminated-tcp" : "tcp",
        path: "",
        target: h.TCPForward,
        proxy: false,
        funnel,
      });
    }
  }
  return out.sort((a, b) => a.port - b.port || a.path.localeCompare(b.path));
}
