// The serving half of the tailscale stand-in: started detached by the CLI in the host's
// network namespace, it serves every port of the persisted ServeConfig and reloads on SIGHUP.
//
// - A port whose host:port has AllowFunnel=true listens on all addresses (the public ingress
//   funnel gives it); a tailnet-only port listens on 127.0.0.1 only (there is no tailnet here).
// - HTTPS ports terminate TLS with the node's certificate for its DNS name (a self-signed one
//   made at install time: the real node gets a Let's Encrypt one for <host>.<tailnet>.ts.net)
//   and pick the web config by SNI/Host, as tailscaled keys ServeConfig.Web by "host:port".
// - Handlers: the longest matching mount point wins; a mount other than "/" is stripped
//   before proxying. Proxy targets http://, https:// and https+insecure:// are forwarded.
// - TCPForward ports pipe bytes (TerminateTLS: after TLS termination).
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { join } from "node:path";
import tls from "node:tls";

const STATE = process.argv[2];
const servers = new Map(); // port -> { key, server }
let config = {};
let dnsName = "";

function load() {
  try {
    config = JSON.parse(readFileSync(join(STATE, "serve.json"), "utf8")) ?? {};
  } catch {
    config = {};
  }
  const node = JSON.parse(readFileSync(join(STATE, "node.json"), "utf8"));
  dnsName = String(node.dnsName ?? "").replace(/\.$/, "");
}

function tlsOptions() {
  return {
    cert: readFileSync(join(STATE, "cert.pem")),
    key: readFileSync(join(STATE, "key.pem")),
  };
}

function handlerFor(port, host, path) {
  const web = config.Web?.[`${host}:${port}`];
  if (!web) return undefined;
  let best;
  for (const [mount, h] of Object.entries(web.Handlers ?? {})) {
    const matches =
      mount === "/" ||
      path === mount ||
      (mount.endsWith("/") ? path.startsWith(mount) : path.startsWith(`${mount}/`));
    if (matches && (best === undefined || mount.length > best.mount.length)) best = { mount, h };
  }
  return best;
}

function serveWeb(port, req, res) {
  const host = String(req.headers.host ?? "").replace(/:\d+$/, "");
  const url = new URL(req.url ?? "/", "http://x");
  const found = handlerFor(port, host, url.pathname);
  if (!found) {
    res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found\n");
    return;
  }
  const { mount, h } = found;
  if (h.Text !== undefined) {
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(h.Text);
    return;
  }
  if (h.Path !== undefined) {
    try {
      res.writeHead(200).end(readFileSync(h.Path));
    } catch {
      res.writeHead(404).end("404 page not found\n");
    }
    return;
  }
  const target = new URL(h.Proxy.replace(/^https\+insecure:/, "https:"));
  const insecure = h.Proxy.startsWith("https+insecure:");
  let rest = url.pathname;
  if (mount !== "/") rest = rest.slice(mount.replace(/\/$/, "").length) || "/";
  const basePath = target.pathname === "/" ? "" : target.pathname.replace(/\/$/, "");
  const client = target.protocol === "https:" ? https : http;
  const upstream = client.request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: `${basePath}${rest}${url.search}`,
      headers: { ...req.headers, "x-forwarded-for": req.socket.remoteAddress ?? "" },
      ...(insecure ? { rejectUnauthorized: false } : {}),
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", () => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end("502 Bad Gateway\n");
  });
  req.pipe(upstream);
}

function forward(socket, target) {
  const [host, port] = target.split(/:(?=\d+$)/);
  const out = net.connect({ host, port: Number(port) });
  socket.pipe(out).pipe(socket);
  out.on("error", () => socket.destroy());
  socket.on("error", () => out.destroy());
}

function listenerFor(port, h) {
  if (h.HTTPS) return https.createServer(tlsOptions(), (req, res) => serveWeb(port, req, res));
  if (h.HTTP) return http.createServer((req, res) => serveWeb(port, req, res));
  if (h.TerminateTLS) {
    return tls.createServer(tlsOptions(), (s) => forward(s, config.TCP[port].TCPForward));
  }
  return net.createServer((s) => forward(s, config.TCP[port].TCPForward));
}

function apply() {
  load();
  const wanted = new Map();
  for (const [portText, h] of Object.entries(config.TCP ?? {})) {
    const port = Number(portText);
    const publicPort = config.AllowFunnel?.[`${dnsName}:${port}`] === true;
    wanted.set(port, { h, address: publicPort ? "0.0.0.0" : "127.0.0.1" });
  }
  for (const [port, entry] of servers) {
    const want = wanted.get(port);
    const key = want ? `${serveKind(want.h)}@${want.address}` : "";
    if (key !== entry.key) {
      entry.server.close();
      entry.server.closeAllConnections?.();
      servers.delete(port);
    }
  }
  for (const [port, want] of wanted) {
    if (servers.has(port)) continue;
    const server = listenerFor(port, want.h);
    server.on("error", (error) => {
      process.stderr.write(`listen ${want.address}:${port}: ${error.message}\n`);
      servers.delete(port);
    });
    server.listen(port, want.address);
    servers.set(port, { key: `${serveKind(want.h)}@${want.address}`, server });
  }
  process.stderr.write(`serving ${[...wanted.keys()].join(", ") || "nothing"}\n`);
}

function serveKind(h) {
  return h.HTTPS ? "https" : h.HTTP ? "http" : h.TerminateTLS ? "tls" : "tcp";
}

process.on("SIGHUP", apply);
apply();
setInterval(() => {}, 1 << 30);
