import { posix } from "node:path";
import { parse } from "yaml";

/** Funnel's public ports (https://tailscale.com/kb/1223/funnel: "443, 8443 and 10000"). */
export const FUNNEL_PORTS: readonly number[] = [443, 8443, 10000];

/** One entry of the desired configuration: an HTTPS handler on the node's name. */
export interface DesiredEntry {
  /** The HTTPS port on <host>.<tailnet>.ts.net. */
  port: number;
  /** Mount point, cleaned as the CLI cleans --set-path ("/", "/api", "/files/"). */
  path: string;
  /** The target as written in the config (passed to the CLI unchanged). */
  target: string;
  /** The Proxy value the CLI stores for that target (ipn.ExpandProxyTargetValue). */
  proxy: string;
  /** Reachable from the internet (funnel) or only within the tailnet (serve). */
  funnel: boolean;
}

/** The config broke a rule; `entry` is 1-based, absent when the whole list is wrong. */
export class ConfigError extends Error {
  readonly entry: number | undefined;
  readonly rule: string;

  constructor(entry: number | undefined, rule: string) {
    super(entry === undefined ? rule : `entry ${entry}: ${rule}`);
    this.name = "ConfigError";
    this.entry = entry;
    this.rule = rule;
  }
}

const KEYS = new Set(["port", "path", "target", "funnel"]);

/**
 * The mount point as the CLI's cleanURLPath leaves it: a leading "/" added, and refused when
 * cleaning would change it ("/a/../b", "//x"). A trailing "/" is kept (it mounts a subtree).
 */
export function cleanPath(path: string): string | undefined {
  if (path === "") return "/";
  const p = path.startsWith("/") ? path : `/${path}`;
  const clean = posix.normalize(p).replace(/\/+$/, "") || "/";
  return p === clean || p === `${clean}/` ? p : undefined;
}

/**
 * The Proxy value `tailscale serve` stores for a target, following ipn.ExpandProxyTargetValue:
 * a bare port means http://127.0.0.1:PORT, `host:port` gets http://, a URL keeps its scheme
 * (http, https or https+insecure) and path; only localhost and 127.0.0.1 are accepted.
 */
export function expandTarget(target: string): string {
  if (/^\d+$/.test(target)) {
    const port = Number(target);
    if (port < 1 || port > 65535) throw new Error("a port target must be 1-65535");
    return `http://127.0.0.1:${port}`;
  }
  const withScheme = target.includes("://") ? target : `http://${target}`;
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^#]*)$/i.exec(withScheme);
  if (!m) throw new Error("must be a port, host:port or URL");
  const [, scheme = "", authority = "", rest = ""] = m;
  if (!["http", "https", "https+insecure"].includes(scheme)) {
    throw new Error("a URL target must start with http://, https:// or https+insecure://");
  }
  const hm = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(authority);
  const host = hm?.[1] ?? "";
  const port = hm?.[2] ?? "";
  if (host !== "localhost" && host !== "127.0.0.1") {
    throw new Error(
      "must point at localhost or 127.0.0.1 (the only proxy hosts tailscale serve accepts)",
    );
  }
  const n = /^\d+$/.test(port) ? Number(port) : Number.NaN;
  if (!(n >= 1 && n <= 65535)) throw new Error("must include a port 1-65535 (e.g. 127.0.0.1:3001)");
  return `${scheme}://${host}:${n}${rest}`;
}

/**
 * Parses the `config` YAML: a list of `{port, path?, target, funnel?}`. Every rule is checked
 * here, before anything connects: funnel only on 443, 8443 or 10000; one entry per port and
 * path; and one funnel setting per port (Funnel is switched per host:port, not per path).
 */
export function parseDesired(text: string): DesiredEntry[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new ConfigError(
      undefined,
      `is not valid YAML: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  if (!Array.isArray(doc)) {
    throw new ConfigError(undefined, "must be a YAML list of entries (- port: 443 ...)");
  }
  if (doc.length === 0) throw new ConfigError(undefined, "must list at least one entry");
  const entries = doc.map((raw, i) => parseEntry(raw, i + 1));
  const seen = new Map<string, number>();
  const funnelByPort = new Map<number, { funnel: boolean; entry: number }>();
  entries.forEach((e, i) => {
    const key = `${e.port}${e.path}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ConfigError(i + 1, `repeats port ${e.port} path ${e.path} (entry ${first})`);
    }
    seen.set(key, i + 1);
    const other = funnelByPort.get(e.port);
    if (other !== undefined && other.funnel !== e.funnel) {
      throw new ConfigError(
        i + 1,
        `sets funnel ${e.funnel} on port ${e.port} but entry ${other.entry} sets ${other.funnel}: funnel is on or off for a whole port`,
      );
    }
    funnelByPort.set(e.port, { funnel: e.funnel, entry: i + 1 });
  });
  return entries;
}

function parseEntry(raw: unknown, n: number): DesiredEntry {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(n, "must be a map with port, target and optionally path and funnel");
  }
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!KEYS.has(key)) {
      throw new ConfigError(n, `has unknown key "${key}" (known: port, path, target, funnel)`);
    }
  }
  const port = record.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(n, "port must be an integer 1-65535");
  }
  const funnel = record.funnel ?? false;
  if (typeof funnel !== "boolean") throw new ConfigError(n, "funnel must be true or false");
  if (funnel && !FUNNEL_PORTS.includes(port)) {
    throw new ConfigError(
      n,
      `funnel is only possible on ports ${FUNNEL_PORTS.join(", ")} (got port ${port})`,
    );
  }
  const rawPath = record.path ?? "/";
  if (typeof rawPath !== "string") throw new ConfigError(n, "path must be a string like /api");
  const path = cleanPath(rawPath);
  if (path === undefined) {
    throw new ConfigError(n, `path ${JSON.stringify(rawPath)} must be a clean URL path like /api`);
  }
  const rawTarget = record.target;
  if (typeof rawTarget !== "string" && typeof rawTarget !== "number") {
    throw new ConfigError(n, "target is required: a port, host:port or URL (e.g. 3001)");
  }
  const target = String(rawTarget).trim();
  let proxy: string;
  try {
    proxy = expandTarget(target);
  } catch (error) {
    throw new ConfigError(n, `target ${JSON.stringify(target)} ${(error as Error).message}`);
  }
  return { port, path, target, proxy, funnel };
}
