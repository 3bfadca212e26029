// A stateful Proxmox VE API server for tests: HTTPS with a self-signed certificate, API-token
// auth, every request validated against the PVE 9.1 schema (test/fixtures/proxmox), guests,
// snapshots, backups and asynchronous tasks. What it does and why is in README.md beside it.
import { X509Certificate } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { selfSignedCertificate } from "@smoker/action-kit/testing";
import type { PveSimulator, SimOptions, SimRequest, SimToken } from "./api.js";
import { ApiError, type Call, type Caller, PveNode } from "./pve.js";
import {
  type MethodSchema,
  matchRoute,
  type ParamValue,
  type PermCheck,
  validateParams,
} from "./schema.js";
import { TaskRunner } from "./tasks.js";

export type { PveSimulator, SimGuest, SimOptions, SimRequest, SimToken } from "./api.js";

/** Volume ids of the container templates in storage "local" unless SimOptions.templates says. */
export const DEFAULT_TEMPLATES = [
  "local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst",
  "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst",
  "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
];

/** Privileges a token with privileges "all" holds (PVE's built-in roles, PVE 9). */
const ALL_PRIVS = [
  "Datastore.Allocate",
  "Datastore.AllocateSpace",
  "Datastore.AllocateTemplate",
  "Datastore.Audit",
  "Sys.Audit",
  "Sys.Modify",
  "Sys.PowerMgmt",
  "VM.Allocate",
  "VM.Audit",
  "VM.Backup",
  "VM.Clone",
  "VM.Config.CDROM",
  "VM.Config.CPU",
  "VM.Config.Cloudinit",
  "VM.Config.Disk",
  "VM.Config.HWType",
  "VM.Config.Memory",
  "VM.Config.Network",
  "VM.Config.Options",
  "VM.Console",
  "VM.GuestAgent.Audit",
  "VM.GuestAgent.Unrestricted",
  "VM.Migrate",
  "VM.PowerMgmt",
  "VM.Snapshot",
  "VM.Snapshot.Rollback",
];

/** The token behind an Authorization header, parsed as pve-http-server's extract_auth_value. */
function parseToken(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header) return undefined;
  const m = /(?:^|\s)PVEAPIToken(?:=| )([^;]*)/.exec(header);
  if (!m) return undefined;
  let value = m[1]!;
  try {
    value = decodeURIComponent(value);
  } catch {
    // uri_unescape leaves malformed escapes alone
  }
  const eq = value.lastIndexOf("=");
  if (eq < 0) return undefined;
  const id = value.slice(0, eq);
  if (!/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$/.test(id)) return undefined;
  return { id, secret: value.slice(eq + 1) };
}

/**
 * check_api2_permissions for a schema `check`: undefined when it passes, else what failed
 * ("<path>, <priv>", or "" for an "or" with no detail).
 */
function failedCheck(
  check: PermCheck,
  params: Record<string, ParamValue>,
  has: (priv: string) => boolean,
): string | undefined {
  const [op, ...rest] = check as [string, ...unknown[]];
  if (op === "and") {
    for (const sub of rest) {
      const f = failedCheck(sub as PermCheck, params, has);
      if (f !== undefined) return f;
    }
    return undefined;
  }
  if (op === "or") {
    for (const sub of rest)
      if (failedCheck(sub as PermCheck, params, has) === undefined) return undefined;
    return "";
  }
  if (op === "perm") {
    const [pathTpl, privs, ...opts] = rest as [string, string[], ...unknown[]];
    const optMap: Record<string, unknown> = {};
    for (let i = 0; i + 1 < opts.length; i += 2) optMap[String(opts[i])] = opts[i + 1];
    if (optMap.require_param !== undefined && params[String(optMap.require_param)] === undefined) {
      return "";
    }
    // A missing parameter leaves its place empty (validation reports it afterwards).
    const path = pathTpl.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const v = params[name];
      return v === undefined || v === null ? "" : String(v);
    });
    if (optMap.any) return privs.some(has) ? undefined : `${path}, ${privs.join("|")}`;
    const missing = privs.find((p) => !has(p));
    return missing === undefined ? undefined : `${path}, ${missing}`;
  }
  // userid-param / userid-group (token endpoints): the simulator does not model users.
  return "";
}

class Simulator implements PveSimulator {
  url = "";
  fingerprint = "";
  certificate = "";
  readonly requests: SimRequest[] = [];
  readonly pve: PveNode;
  readonly runner: TaskRunner;
  private server: Server | undefined;
  private readonly nodeName: string;
  private readonly injected: {
    method?: string;
    pathPrefix?: string;
    status: number;
    count: number;
  }[] = [];

  constructor(private readonly options: SimOptions) {
    this.nodeName = options.node ?? "pve";
    this.runner = new TaskRunner(this.nodeName, () => this.options.taskMs ?? 150);
    this.pve = new PveNode(
      this.nodeName,
      this.runner,
      {
        ...(options.onStart ? { onStart: options.onStart } : {}),
        ...(options.onStop ? { onStop: options.onStop } : {}),
        agentDelayMs: () => options.agentDelayMs ?? options.taskMs ?? 150,
      },
      options.guests ?? [],
      options.templates ?? DEFAULT_TEMPLATES,
    );
  }

  get guests() {
    return this.pve.guests;
  }

  async listen(): Promise<void> {
    const { key, cert } = await selfSignedCertificate({
      subject: "/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN=pve-sim",
      altNames: "IP:127.0.0.1,DNS:localhost",
    });
    this.certificate = cert;
    this.fingerprint = new X509Certificate(cert).fingerprint256;
    this.server = createServer({ key, cert }, (req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `https://127.0.0.1:${port}/api2/json`;
  }

  failNextTask(type: string, message: string): void {
    this.runner.failNext(type, message);
  }

  failNext(match: { method?: string; pathPrefix?: string }, status: number, count = 1): void {
    this.injected.push({ ...match, status, count });
  }

  taskLog(upid: string): string[] {
    return [...(this.runner.tasks.get(upid)?.log ?? [])];
  }

  async close(): Promise<void> {
    this.runner.close();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private tokenFor(id: string): SimToken | undefined {
    return this.options.tokens.find((t) => t.id === id);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "https://pve.invalid");
    const method = (req.method ?? "GET").toUpperCase();
    let rawPath = url.pathname;
    try {
      rawPath = decodeURIComponent(rawPath);
    } catch {
      // left as sent
    }
    const record: SimRequest = {
      method,
      path: rawPath.replace(/^\/api2\/json/, ""),
      params: {},
      body,
      contentType: req.headers["content-type"],
      status: 0,
    };
    this.requests.push(record);
    const send = (status: number, payload: unknown, reason?: string) => {
      record.status = status;
      const text = payload === undefined ? "" : JSON.stringify(payload);
      res.writeHead(status, reason, {
        "Content-Type": "application/json;charset=UTF-8",
        "Content-Length": Buffer.byteLength(text),
        "Cache-Control": "max-age=0",
        Server: "pve-api-daemon/3.0",
      });
      res.end(text);
    };
    const sendError = (e: ApiError) => {
      const message = e.message.endsWith("\n") ? e.message : `${e.message}\n`;
      const payload: Record<string, unknown> = { data: null, message };
      if (e.errors) payload.errors = e.errors;
      send(e.status, payload, message.split("\n")[0]!.slice(0, 200));
    };
    try {
      await this.dispatch(req, method, url, rawPath, body, record, send);
    } catch (e) {
      if (e instanceof ApiError) sendError(e);
      else sendError(new ApiError(500, e instanceof Error ? e.message : String(e)));
    }
  }

  private async dispatch(
    req: IncomingMessage,
    method: string,
    url: URL,
    rawPath: string,
    body: string,
    record: SimRequest,
    send: (status: number, payload: unknown, reason?: string) => void,
  ): Promise<void> {
    const inj = this.injected.find(
      (i) =>
        i.count > 0 &&
        (i.method === undefined || i.method.toUpperCase() === method) &&
        (i.pathPrefix === undefined || record.path.startsWith(i.pathPrefix)),
    );
    if (inj) {
      inj.count--;
      throw new ApiError(inj.status, `simulated failure (HTTP ${inj.status} injected by the test)`);
    }
    if (!rawPath.startsWith("/api2/json/")) {
      send(404, undefined, "Not found");
      return;
    }
    const path = record.path;

    // Parameters: the query, and for POST/PUT the body (form or JSON) with the query over it.
    const params: Record<string, ParamValue> = {};
    const addForm = (sp: URLSearchParams) => {
      const seen = new Set<string>();
      for (const [k, v] of sp) {
        params[k] = seen.has(k) ? `${params[k]}\0${v}` : v;
        seen.add(k);
      }
    };
    if ((method === "POST" || method === "PUT") && body !== "") {
      const ct = (req.headers["content-type"] ?? "").toLowerCase();
      if (ct.startsWith("application/json")) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          throw new ApiError(400, "malformed JSON string");
        }
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
          throw new ApiError(400, "malformed JSON string - expected an object");
        }
        Object.assign(params, parsed);
      } else {
        addForm(new URLSearchParams(body));
      }
    }
    addForm(url.searchParams);
    for (const [k, v] of Object.entries(params)) {
      record.params[k] = typeof v === "string" ? v : JSON.stringify(v);
    }

    const route = matchRoute(method, path);
    if (route === "none") throw new ApiError(501, `Method '${method} ${path}' not implemented`);
    const schema = route.schema;
    Object.assign(params, route.pathParams);

    // Authentication.
    const perms = schema.permissions ?? {};
    let caller: Caller = { authid: "", has: () => false };
    if (perms.user !== "world") {
      const header = req.headers.authorization;
      const parsed = parseToken(header);
      const token = parsed && this.tokenFor(parsed.id);
      if (!token || token.secret !== parsed!.secret) {
        // pve-http-server answers 401 with an empty body after a 3 s delay (to slow guessing);
        // the delay is off unless a test asks for it (SimOptions.authFailDelayMs).
        const delay = this.options.authFailDelayMs ?? 0;
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        send(401, undefined, header ? "Authentication failed!" : "No ticket");
        return;
      }
      const has = (priv: string) =>
        token.privileges === "all" ? ALL_PRIVS.includes(priv) : token.privileges.includes(priv);
      caller = { authid: token.id, has };
      if (schema.allowtoken === 0) {
        throw new ApiError(
          403,
          `Permission check failed (URI ${path} not available with API token, need proper ticket.)`,
        );
      }
      if (perms.check) {
        const failed = failedCheck(perms.check, params, has);
        if (failed !== undefined) {
          throw new ApiError(
            403,
            failed ? `Permission check failed (${failed})` : "Permission check failed",
          );
        }
      }
    }

    // Validation.
    const errors = validateParams(schema, params);
    if (Object.keys(errors).length > 0) {
      throw new ApiError(400, "Parameter verification failed.", errors);
    }
    const node = route.pathParams.node;
    if (node !== undefined && node !== this.nodeName) {
      throw new ApiError(
        500,
        `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`,
      );
    }

    const result = await this.invoke(method, route.template, schema, { params, caller });
    if (result instanceof Enveloped) send(200, { data: result.data, total: result.total });
    else send(200, { data: result === undefined ? null : result });
  }

  private invoke(method: string, template: string, _schema: MethodSchema, call: Call): unknown {
    const pve = this.pve;
    const key = `${method} ${template.replace(/^\/nodes\/\{node\}\/(lxc|qemu)/, "/nodes/{node}/{type}")}`;
    const type = (/^\/nodes\/\{node\}\/(lxc|qemu)/.exec(template)?.[1] ?? "qemu") as "lxc" | "qemu";
    const notHere = () => {
      throw new ApiError(
        501,
        `Method '${method} ${template}' is not implemented by the PVE simulator`,
      );
    };
    switch (key) {
      case "GET /version":
        return pve.version();
      case "GET /cluster/nextid":
        return pve.nextid(call);
      case "GET /cluster/resources":
        return pve.clusterResources(call);
      case "GET /cluster/tasks":
        return pve.taskList({ ...call, params: { ...call.params, source: "all" } }).data;
      case "GET /nodes/{node}/status":
        return pve.nodeStatus();
      case "GET /nodes/{node}/storage":
        return pve.storageList();
      case "GET /nodes/{node}/storage/{storage}/content":
        return pve.storageContent(call);
      case "POST /nodes/{node}/vzdump":
        return pve.vzdump(call);
      case "GET /nodes/{node}/tasks": {
        const r = pve.taskList(call);
        return new Enveloped(r.data, r.total);
      }
      case "GET /nodes/{node}/tasks/{upid}":
        return pve.taskIndex(call);
      case "DELETE /nodes/{node}/tasks/{upid}":
        return pve.taskStop(call);
      case "GET /nodes/{node}/tasks/{upid}/status":
        return pve.taskStatus(call);
      case "GET /nodes/{node}/tasks/{upid}/log": {
        const r = pve.taskLog(call);
        return new Enveloped(r.data, r.total);
      }
      case "GET /access/permissions":
        return { "/": Object.fromEntries(ALL_PRIVS.filter(call.caller.has).map((p) => [p, 1])) };
      case "GET /access/ticket":
        return null;
      case "POST /access/ticket":
        throw new ApiError(401, "authentication failure");
      case "GET /nodes/{node}/{type}":
        return pve.list(type, call);
      case "POST /nodes/{node}/{type}":
        return type === "lxc" ? pve.createLxc(call) : pve.createQemu(call);
      case "GET /nodes/{node}/{type}/{vmid}":
        return pve.guestIndex(type, call);
      case "DELETE /nodes/{node}/{type}/{vmid}":
        return pve.destroy(type, call);
      case "GET /nodes/{node}/{type}/{vmid}/config":
        return pve.getConfig(type, call);
      case "PUT /nodes/{node}/{type}/{vmid}/config":
        return pve.updateConfig(type, call, false);
      case "POST /nodes/{node}/{type}/{vmid}/config":
        return pve.updateConfig(type, call, true);
      case "GET /nodes/{node}/{type}/{vmid}/pending":
        return pve.getPending(type, call);
      case "GET /nodes/{node}/{type}/{vmid}/status":
        return pve.statusIndex(type, call);
      case "GET /nodes/{node}/{type}/{vmid}/status/current":
        return pve.statusCurrent(type, call);
      case "POST /nodes/{node}/{type}/{vmid}/status/start":
        return pve.power(type, "start", call);
      case "POST /nodes/{node}/{type}/{vmid}/status/stop":
        return pve.power(type, "stop", call);
      case "POST /nodes/{node}/{type}/{vmid}/status/shutdown":
        return pve.power(type, "shutdown", call);
      case "POST /nodes/{node}/{type}/{vmid}/status/reboot":
        return pve.power(type, "reboot", call);
      case "POST /nodes/{node}/{type}/{vmid}/clone":
        return pve.clone(type, call);
      case "POST /nodes/{node}/{type}/{vmid}/template":
        return pve.template(type, call);
      case "PUT /nodes/{node}/{type}/{vmid}/resize":
        return pve.resize(type, call);
      case "GET /nodes/{node}/{type}/{vmid}/snapshot":
        return pve.snapshotList(type, call);
      case "POST /nodes/{node}/{type}/{vmid}/snapshot":
        return pve.snapshotCreate(type, call);
      case "GET /nodes/{node}/{type}/{vmid}/snapshot/{snapname}":
        return pve.snapshotIndex(type, call);
      case "DELETE /nodes/{node}/{type}/{vmid}/snapshot/{snapname}":
        return pve.snapshotDelete(type, call);
      case "POST /nodes/{node}/{type}/{vmid}/snapshot/{snapname}/rollback":
        return pve.snapshotRollback(type, call);
      case "GET /nodes/{node}/{type}/{vmid}/snapshot/{snapname}/config":
        return pve.snapshotConfig(type, call);
      case "PUT /nodes/{node}/{type}/{vmid}/snapshot/{snapname}/config":
        return pve.snapshotUpdate(type, call);
      case "GET /nodes/{node}/{type}/{vmid}/interfaces":
        return pve.lxcInterfaces(call);
      case "GET /nodes/{node}/{type}/{vmid}/agent":
        return pve.agentIndex(call);
      case "POST /nodes/{node}/{type}/{vmid}/agent/ping":
        return pve.agentPing(call);
      case "GET /nodes/{node}/{type}/{vmid}/agent/network-get-interfaces":
        return pve.agentNetwork(call);
      case "GET /nodes/{node}/{type}/{vmid}/agent/get-osinfo":
        return pve.agentOsinfo(call);
      default:
        return notHere();
    }
  }
}

class Enveloped {
  constructor(
    readonly data: unknown,
    readonly total: number,
  ) {}
}

export async function startPveSimulator(options: SimOptions): Promise<PveSimulator> {
  const sim = new Simulator(options);
  await sim.listen();
  return sim;
}
