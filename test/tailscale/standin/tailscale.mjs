#!/usr/bin/env node
// A stand-in for the `tailscale` CLI on lab hosts (Tailscale cannot run here). It follows the
// published contract of tailscale/tailscale: cmd/tailscale/cli/serve_v2.go (flags, argument
// checks, the pre-1.52 syntax refusal, messages), serve_legacy.go (status --json, reset),
// funnel.go + ipn/serve.go (NodeCanFunnel / CheckFunnelPort errors, SetWebHandler, SetFunnel,
// RemoveWebHandler, ExpandProxyTargetValue) and status.go (isRunningOrStarting). The ServeConfig
// is persisted in the same JSON shape (TCP, Web keyed "host:port", AllowFunnel), and a small
// daemon (tailscaled.mjs) really serves and proxies each port of it.
//
// State lives next to the host's bin dir: <binDir>/../tailscale/ (node.json: login state,
// DNS name, capabilities; serve.json: the ServeConfig; invocations.log: one JSON line per
// call; tailscaled.pid). TAILSCALE_STANDIN_STATE overrides it (unit tests).
import { spawn } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, isAbsolute, join, normalize, posix, resolve } from "node:path";

const STATE =
  process.env.TAILSCALE_STANDIN_STATE ??
  join(dirname(dirname(resolve(process.argv[1]))), "tailscale");
const NODE_FILE = join(STATE, "node.json");
const SERVE_FILE = join(STATE, "serve.json");
const PID_FILE = join(STATE, "tailscaled.pid");

// tailcfg.CapabilityHTTPS, tailcfg.NodeAttrFunnel, tailcfg.CapabilityFunnelPorts.
const CAP_HTTPS = "https";
const CAP_FUNNEL = "funnel";
const CAP_FUNNEL_PORTS = "https://tailscale.com/cap/funnel-ports";

class Exit extends Error {
  constructor(code, stderr = "", stdout = "") {
    super(stderr);
    this.code = code;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}

/** An error returned to cli.Run: main prints it on its own line and exits 1. */
const fail = (message) => new Exit(1, `${message}\n`);
const errHelpFunc = (mode) => `try \`tailscale ${mode} --help\` for usage info`;

function readJson(file, fallback) {
  if (!existsSync(file)) return fallback;
  return JSON.parse(readFileSync(file, "utf8"));
}

function writeJsonAtomic(file, value) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, value === null ? "null" : JSON.stringify(value));
  renameSync(tmp, file);
}

function node() {
  return readJson(NODE_FILE, { backendState: "NoState" });
}

// --- status -------------------------------------------------------------------------------

function capMap(n) {
  const caps = {};
  for (const c of n.capabilities ?? []) caps[c] = null;
  return caps;
}

/** ipnstate.Status, as `tailscale status --json` prints it (the fields this suite relies on). */
function statusJson(n) {
  const running = n.backendState === "Running";
  const suffix = n.dnsName ? n.dnsName.split(".").slice(1).join(".").replace(/\.$/, "") : "";
  return {
    Version: "1.80.3-standin",
    TUN: true,
    BackendState: n.backendState,
    AuthURL: running ? "" : (n.authURL ?? ""),
    TailscaleIPs: running ? [n.ip ?? "100.64.0.1"] : null,
    Self: {
      ID: "n-standin",
      HostName: n.hostName ?? "",
      DNSName: running ? n.dnsName : "",
      OS: "linux",
      TailscaleIPs: running ? [n.ip ?? "100.64.0.1"] : null,
      Online: running,
      Capabilities: running ? Object.keys(capMap(n)).sort() : null,
      CapMap: running ? capMap(n) : null,
    },
    MagicDNSSuffix: running ? suffix : "",
    CurrentTailnet: running
      ? { Name: n.tailnet ?? "standin@example.com", MagicDNSSuffix: suffix, MagicDNSEnabled: true }
      : null,
    Peer: null,
    User: null,
  };
}

/** status.go isRunningOrStarting: the description printed when the backend is not running. */
function notRunningDescription(n) {
  switch (n.backendState) {
    case "Running":
    case "Starting":
      return undefined;
    case "Stopped":
      return "Tailscale is stopped.";
    case "NeedsLogin":
      return n.authURL ? `Logged out.\nLog in at: ${n.authURL}` : "Logged out.";
    case "NeedsMachineAuth":
      return "Machine is not yet approved by tailnet admin.";
    default:
      return `unexpected state: ${n.backendState}`;
  }
}

/** getLocalClientStatusWithoutPeers: exits 1 with the description unless Running/Starting. */
function runningSelf() {
  const n = node();
  if (n.backendState === "NoState") {
    throw fail(
      "failed to connect to tailscaled: dial unix /var/run/tailscale/tailscaled.sock: connect: no such file or directory",
    );
  }
  const description = notRunningDescription(n);
  if (description !== undefined) throw new Exit(1, `${description}\n`);
  return n;
}

function runStatus(args) {
  const { flags } = parseFlags(args, { json: "bool" });
  const n = node();
  if (flags.json) return { stdout: `${JSON.stringify(statusJson(n), null, 2)}\n` };
  const description = notRunningDescription(n);
  if (description !== undefined) throw new Exit(1, "", `${description}\n`);
  return { stdout: `${n.ip ?? "100.64.0.1"}  ${n.hostName ?? ""}  linux  -\n` };
}

// --- flags (Go's flag package: -x, --x, --x=v, --x v; parsing stops at the first non-flag) ---

function parseFlags(args, spec) {
  const flags = {};
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    const body = a.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq === -1 ? body : body.slice(0, eq);
    const kind = spec[name];
    if (kind === undefined) {
      throw new Exit(2, `flag provided but not defined: -${name}\n`);
    }
    if (kind === "bool") {
      const v = eq === -1 ? "true" : body.slice(eq + 1);
      if (
        !["1", "t", "T", "true", "TRUE", "True", "0", "f", "F", "false", "FALSE", "False"].includes(
          v,
        )
      ) {
        throw new Exit(2, `invalid boolean value "${v}" for -${name}: parse error\n`);
      }
      flags[name] = ["1", "t", "T", "true", "TRUE", "True"].includes(v);
      continue;
    }
    let v;
    if (eq !== -1) v = body.slice(eq + 1);
    else {
      if (i + 1 >= args.length) throw new Exit(2, `flag needs an argument: -${name}\n`);
      v = args[++i];
    }
    if (kind === "uint") {
      if (!/^\d+$/.test(v))
        throw new Exit(2, `invalid value "${v}" for flag -${name}: parse error\n`);
      flags[name] = Number(v);
    } else flags[name] = v;
  }
  return { flags, rest: args.slice(i) };
}

// --- serve / funnel -----------------------------------------------------------------------

/** serve_v2.go isLegacyInvocation: the pre-1.52 syntax, with the translation it suggests. */
function legacyInvocation(mode, args) {
  if (mode === "funnel") {
    if (args.length !== 2) return undefined;
    const ok = /^\d+$/.test(args[0]) && Number(args[0]) < 65536 && ["on", "off"].includes(args[1]);
    return ok ? "" : undefined;
  }
  let rest = args;
  const turnOff = rest.length > 1 && rest[rest.length - 1] === "off";
  if (turnOff) rest = rest.slice(0, -1);
  if (rest.length === 0) return undefined;
  const colon = rest[0].indexOf(":");
  let srcType = colon === -1 ? rest[0] : rest[0].slice(0, colon);
  let port = colon === -1 ? "" : rest[0].slice(colon + 1);
  if (colon === -1) {
    if (srcType === "https") port = "443";
    else if (srcType === "http") port = "80";
    else return undefined;
  }
  let want;
  if (srcType === "https" || srcType === "http") want = 3;
  else if (srcType === "tcp" || srcType === "tls-terminated-tcp") want = 2;
  else return undefined;
  if (rest.length !== want && !(turnOff && rest.length === want - 1)) return undefined;
  const out = ["tailscale", "serve", "--bg"];
  if (srcType === "https") {
    if (port !== "443") out.push(`--https ${port}`);
  } else if (srcType === "http") out.push(`--http ${port}`);
  else out.push(`--${srcType} ${port}`);
  if (srcType === "https" || srcType === "http") {
    const mount = rest[1];
    if (cleanMountPoint(mount) === undefined) return undefined;
    if (mount !== "/") out.push(`--set-path ${mount}`);
  }
  const hasTarget = !turnOff || rest.length === want;
  if (hasTarget) {
    let dest = rest[rest.length - 1];
    if (dest.includes(" ")) dest = JSON.stringify(dest);
    out.push(dest);
  }
  if (turnOff) out.push("off");
  srcType = undefined;
  return out.join(" ");
}

function cleanMountPoint(mount) {
  if (mount === "") return undefined;
  const m = mount.startsWith("/") ? mount : `/${mount}`;
  const c = posix.normalize(m).replace(/\/+$/, "") || "/";
  return m === c || m === `${c}/` ? m : undefined;
}

/** serve_v2.go cleanURLPath. */
function cleanURLPath(p) {
  if (p === "") return "/";
  const m = p.startsWith("/") ? p : `/${p}`;
  const c = posix.normalize(m).replace(/\/+$/, "") || "/";
  if (m === c || m === `${c}/`) return m;
  throw fail(`failed to clean the mount point: invalid mount point "${m}"`);
}

/** ipn.ExpandProxyTargetValue (localhost/127.0.0.1 only, as the CLI checks). */
function expandProxyTarget(target, schemes, defaultScheme) {
  if (/^\d+$/.test(target) && Number(target) < 65536) {
    return `${defaultScheme}://127.0.0.1:${Number(target)}`;
  }
  let t = target;
  if (!t.includes("://")) t = `${defaultScheme}://${t}`;
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/i.exec(t);
  if (!m) throw new Error(`invalid URL parse "${t}": invalid URI for request`);
  const [, scheme, authority, rest] = m;
  if (!schemes.includes(scheme)) {
    throw new Error(
      `must be a URL starting with one of the supported schemes: [${schemes.join(" ")}]`,
    );
  }
  const hm = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(authority);
  const host = hm?.[1] ?? "";
  const port = hm?.[2] ?? "";
  if (host !== "localhost" && host !== "127.0.0.1") {
    throw new Error("only localhost or 127.0.0.1 proxies are currently supported");
  }
  const n = /^\d+$/.test(port) ? Number(port) : Number.NaN;
  if (!(n > 0 && n < 65536)) throw new Error(`invalid port "${port}"`);
  return `${scheme}://${host}:${n}${rest}`;
}

function serveTypeOf(h) {
  if (h.HTTP) return "http";
  if (h.HTTPS) return "https";
  if (h.TerminateTLS) return "tls-terminated-tcp";
  if (h.TCPForward) return "tcp";
  return "unknownServeType";
}

function cleanup(sc) {
  for (const key of ["TCP", "Web", "AllowFunnel"]) {
    if (sc[key] && Object.keys(sc[key]).length === 0) delete sc[key];
  }
  return sc;
}

function runServeCombined(mode, args) {
  const spec = {
    bg: "bool",
    "set-path": "string",
    https: "uint",
    tcp: "uint",
    "tls-terminated-tcp": "uint",
    yes: "bool",
    service: "string",
  };
  if (mode === "serve") spec.http = "uint";
  const { flags, rest } = parseFlags(args, spec);

  // ffcli subcommands.
  if (rest[0] === "status") return runServeStatus(rest.slice(1));
  if (rest[0] === "reset") {
    if (rest.length !== 1) return { stdout: "" };
    return mutate(() => ({}), "");
  }

  const legacy = legacyInvocation(mode, rest);
  if (legacy !== undefined) {
    let text = "Error: the CLI for serve and funnel has changed.";
    if (legacy !== "") text += ` You can run the following command instead:\n\t- ${legacy}\n`;
    text += "\nPlease see https://tailscale.com/kb/1242/tailscale-serve for more information.\n";
    throw new Exit(1, `${text}${errHelpFunc(mode)}\n`);
  }
  if (rest.length === 0) throw new Exit(0, usage(mode));
  if (rest.length > 2) {
    throw new Exit(
      1,
      `Error: invalid number of arguments (${rest.length})\n${errHelpFunc(mode)}\n`,
    );
  }
  const turnOff = rest[rest.length - 1] === "off";
  if (rest.length === 2 && !turnOff) {
    throw new Exit(1, `Error: invalid argument format\n${errHelpFunc(mode)}\n`);
  }
  if (flags.service) throw fail("the stand-in does not implement --service");
  const bg = flags.bg === true;

  if (mode === "funnel") verifyFunnelEnabled(flags.https ?? 443);

  const mount = cleanURLPath(flags["set-path"] ?? "");
  const types = ["http", "https", "tcp", "tls-terminated-tcp"].filter((t) => (flags[t] ?? 0) !== 0);
  if (types.length > 1) {
    throw new Exit(
      1,
      `error: cannot serve multiple types for a single mount point\n\n${errHelpFunc(mode)}\n`,
    );
  }
  const srvType = types[0] ?? "https";
  const port = types.length === 0 ? 443 : flags[srvType];
  if (port > 65535) {
    throw new Exit(
      1,
      `error: port number ${port} is too high for ${srvType} flag\n\n${errHelpFunc(mode)}\n`,
    );
  }
  const n = runningSelf();
  const dnsName = n.dnsName.replace(/\.$/, "");
  if (!bg && !turnOff) {
    throw fail("the stand-in only runs serve and funnel in the background: pass --bg");
  }
  return mutate((sc) => {
    if (turnOff) {
      unsetServe(sc, dnsName, srvType, port, mount, flags, mode);
      return { sc };
    }
    validateConfig(sc, port, srvType, mode);
    setServe(sc, dnsName, srvType, port, mount, rest[0], mode === "funnel", flags, mode);
    return { sc, msg: messageForPort(sc, dnsName, srvType, port, mode) };
  });
}

function validateConfig(sc, port, wantServe, mode) {
  const existing = sc.TCP?.[port];
  if (!existing) return;
  const have = serveTypeOf(existing);
  if (have !== wantServe) {
    throw fail(`want to serve "${wantServe}" but port is already serving "${have}" for "machine"`);
  }
  void mode;
}

function helpError(mode, message) {
  return new Exit(1, `error: ${message}\n\n${errHelpFunc(mode)}\n`);
}

function setServe(sc, dnsName, srvType, port, mount, target, allowFunnel, flags, mode) {
  if (srvType === "https" || srvType === "http") {
    const h = {};
    try {
      if (target.startsWith("text:")) {
        const text = target.slice(5);
        if (text === "") throw new Error("unable to serve; text cannot be an empty string");
        h.Text = text;
      } else if (isAbsolute(target)) {
        let st;
        try {
          st = statSync(normalize(target));
        } catch {
          throw new Error("invalid path");
        }
        h.Path = normalize(target);
        if (st.isDirectory() && !mount.endsWith("/")) mount += "/";
      } else {
        h.Proxy = expandProxyTarget(target, ["http", "https", "https+insecure"], "http");
      }
    } catch (error) {
      throw helpError(mode, `failed apply web serve: ${error.message}`);
    }
    if (sc.TCP?.[port] && !sc.TCP[port].HTTP && !sc.TCP[port].HTTPS) {
      throw helpError(mode, "failed apply web serve: cannot serve web; already serving TCP");
    }
    // ipn.ServeConfig.SetWebHandler
    sc.TCP ??= {};
    sc.TCP[port] = srvType === "https" ? { HTTPS: true } : { HTTP: true };
    const hp = `${dnsName}:${port}`;
    sc.Web ??= {};
    sc.Web[hp] ??= { Handlers: {} };
    const handlers = sc.Web[hp].Handlers;
    for (const k of Object.keys(handlers)) {
      if (k !== mount && k.replace(/\/$/, "") === mount.replace(/\/$/, "")) delete handlers[k];
    }
    handlers[mount] = h;
  } else {
    if (flags["set-path"]) throw helpError(mode, "cannot mount a path for TCP serve");
    let fwd;
    try {
      fwd = expandProxyTarget(target, ["tcp"], "tcp")
        .replace(/^tcp:\/\//, "")
        .replace(/\/.*$/, "");
    } catch (error) {
      throw helpError(mode, `failed to apply TCP serve: unable to expand target: ${error.message}`);
    }
    if (sc.TCP?.[port]?.HTTP || sc.TCP?.[port]?.HTTPS) {
      throw helpError(
        mode,
        `failed to apply TCP serve: cannot serve TCP; already serving web on ${port} for ${dnsName}`,
      );
    }
    sc.TCP ??= {};
    sc.TCP[port] = { TCPForward: fwd };
    if (srvType === "tls-terminated-tcp") sc.TCP[port].TerminateTLS = dnsName;
  }
  // applyFunnel / SetFunnel: serve turns funnel off for this host:port, funnel turns it on.
  const hp = `${dnsName}:${port}`;
  if (allowFunnel) {
    sc.AllowFunnel ??= {};
    sc.AllowFunnel[hp] = true;
  } else if (sc.AllowFunnel && hp in sc.AllowFunnel) {
    process.stderr.write(`Removing Funnel for ${dnsName}:${hp}\n`);
    delete sc.AllowFunnel[hp];
  }
  cleanup(sc);
}

function unsetServe(sc, dnsName, srvType, port, mount, flags, mode) {
  if (srvType === "https" || srvType === "http") {
    const hp = `${dnsName}:${port}`;
    if (sc.TCP?.[port] && !sc.TCP[port].HTTP && !sc.TCP[port].HTTPS) {
      throw helpError(
        mode,
        "failed to remove web serve: cannot remove web handler; currently serving TCP",
      );
    }
    const handlers = sc.Web?.[hp]?.Handlers ?? {};
    let mounts;
    if (flags["set-path"] === undefined || flags["set-path"] === "") {
      mounts = Object.keys(handlers);
      if (mounts.length === 0) {
        throw helpError(mode, "failed to remove web serve: handler does not exist");
      }
      if (mounts.length > 1 && !flags.yes) {
        // prompt.YesNo with no terminal to answer: no.
        process.stdout.write(
          `Are you sure you want to delete ${mounts.length} handlers under port ${port}? [y/N] `,
        );
        return;
      }
    } else {
      if (!(mount in handlers)) {
        throw helpError(mode, "failed to remove web serve: handler does not exist");
      }
      mounts = [mount];
    }
    // RemoveWebHandler(..., cleanupFunnel=true)
    for (const m of mounts) delete handlers[m];
    if (Object.keys(handlers).length === 0) {
      delete sc.Web[hp];
      delete sc.TCP[port];
      if (sc.AllowFunnel) delete sc.AllowFunnel[hp];
    }
  } else {
    if (!sc.TCP?.[port])
      throw helpError(mode, "failed to remove TCP serve: serve config does not exist");
    if (sc.TCP[port].HTTP || sc.TCP[port].HTTPS) {
      throw helpError(
        mode,
        `failed to remove TCP serve: unable to remove; serving web, not TCP forwarding on serve port ${port}`,
      );
    }
    delete sc.TCP[port];
  }
  cleanup(sc);
}

function messageForPort(sc, dnsName, srvType, port, mode) {
  const hp = `${dnsName}:${port}`;
  const scheme = sc.TCP?.[port]?.HTTP ? "http" : "https";
  const portPart =
    (scheme === "http" && port === 80) || (scheme === "https" && port === 443) ? "" : `:${port}`;
  const lines = [
    sc.AllowFunnel?.[hp] ? "Available on the internet:" : "Available within your tailnet:",
    "",
  ];
  const web = sc.Web?.[hp];
  if (web) {
    for (const m of Object.keys(web.Handlers).sort((a, b) => a.length - b.length)) {
      const h = web.Handlers[m];
      const [t, d] = h.Path
        ? ["path", h.Path]
        : h.Proxy
          ? ["proxy", h.Proxy]
          : ["text", `"${h.Text.length <= 20 ? h.Text : `${h.Text.slice(0, 17)}...`}"`];
      lines.push(`${scheme}://${dnsName}${portPart}${m}`, `|-- ${t.padEnd(5)} ${d}`, "");
    }
  } else if (sc.TCP?.[port]) {
    const h = sc.TCP[port];
    lines.push(
      `|-- tcp://${dnsName}:${port} (${h.TerminateTLS ? "TLS terminated" : "TLS over TCP"})`,
      `|--> tcp://${h.TCPForward}`,
      "",
    );
  }
  const name = mode;
  lines.push(`${name[0].toUpperCase()}${name.slice(1)} started and running in the background.`);
  lines.push(`To disable the proxy, run: tailscale ${name} --${srvType}=${port} off`);
  return lines.join("\n");
}

/** funnel.go verifyFunnelEnabled -> ipn.CheckFunnelAccess (NodeCanFunnel + CheckFunnelPort). */
function verifyFunnelEnabled(port) {
  const n = runningSelf();
  const caps = new Set(n.capabilities ?? []);
  if (!caps.has(CAP_HTTPS)) {
    throw fail("Funnel not available; HTTPS must be enabled. See https://tailscale.com/s/https.");
  }
  if (!caps.has(CAP_FUNNEL)) {
    throw fail(
      'Funnel not available; "funnel" node attribute not set. See https://tailscale.com/s/no-funnel.',
    );
  }
  const attr = [...caps].find((c) => c.startsWith(`${CAP_FUNNEL_PORTS}?`));
  const allowed = attr === undefined ? "" : (new URL(attr).searchParams.get("ports") ?? "");
  if (allowed === "") throw fail(`port ${port} is not allowed for funnel`);
  for (const part of allowed.split(",")) {
    if (part === "") continue;
    const [first, last] = part.split("-");
    if (
      last === undefined ? Number(first) === port : port >= Number(first) && port <= Number(last)
    ) {
      return;
    }
  }
  throw fail(`port ${port} is not allowed for funnel; allowed ports are: ${allowed}`);
}

function runServeStatus(args) {
  const { flags } = parseFlags(args, { json: "bool" });
  const sc = readJson(SERVE_FILE, null);
  if (flags.json) return { stdout: `${JSON.stringify(sc, null, 2)}\n` };
  if (sc === null || (!sc.TCP && !sc.Web && !sc.AllowFunnel))
    return { stdout: "No serve config\n" };
  return { stdout: `${JSON.stringify(sc, null, 2)}\n` };
}

function mutate(change) {
  mkdirSync(STATE, { recursive: true });
  const before = readJson(SERVE_FILE, null);
  const sc = structuredClone(before ?? {});
  const result = change(sc);
  const next = result?.sc ?? result;
  writeJsonAtomic(SERVE_FILE, next);
  reloadDaemon(next);
  return { stdout: result?.msg ? `${result.msg}\n` : "" };
}

// --- the serving daemon -------------------------------------------------------------------

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Tells a running daemon to reload (SIGHUP), or starts one in this host's namespaces. */
function reloadDaemon(sc) {
  if (process.env.TAILSCALE_STANDIN_NO_DAEMON === "1") return;
  const pid = existsSync(PID_FILE) ? Number(readFileSync(PID_FILE, "utf8")) : 0;
  if (pid > 0 && alive(pid)) {
    process.kill(pid, "SIGHUP");
    return;
  }
  if (!sc.TCP) return;
  const log = openSync(join(STATE, "tailscaled.log"), "a");
  const child = spawn(process.execPath, [join(STATE, "tailscaled.mjs"), STATE], {
    detached: true, // setsid: it outlives this SSH session
    stdio: ["ignore", log, log],
  });
  writeFileSync(PID_FILE, String(child.pid));
  child.unref();
}

function usage(mode) {
  return `USAGE\n  tailscale ${mode} <target>\n  tailscale ${mode} status [--json]\n  tailscale ${mode} reset\n`;
}

// --- main ---------------------------------------------------------------------------------

function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case "status":
      return runStatus(rest);
    case "serve":
    case "funnel":
      return runServeCombined(command, rest);
    case "version":
      return { stdout: "1.80.3-standin\n" };
    default:
      throw new Exit(1, `tailscale: unknown subcommand "${command ?? ""}"\n`);
  }
}

mkdirSync(STATE, { recursive: true });
appendFileSync(
  join(STATE, "invocations.log"),
  `${JSON.stringify({ argv: process.argv.slice(2), at: new Date().toISOString() })}\n`,
);
let code = 0;
try {
  const { stdout } = main(process.argv.slice(2));
  process.stdout.write(stdout);
} catch (error) {
  if (!(error instanceof Exit)) throw error;
  process.stdout.write(error.stdout);
  process.stderr.write(error.stderr);
  code = error.code;
}
process.exitCode = code;
