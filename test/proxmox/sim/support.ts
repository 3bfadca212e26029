// Small helpers for talking to the simulator from tests without the product client: node:https
// with the simulator's certificate as the only CA, form or JSON bodies, raw answers.
import { request } from "node:https";
import type { PveSimulator, SimGuest } from "./api.js";

export interface RawAnswer {
  status: number;
  reason: string;
  text: string;
  /** The parsed body, or undefined when empty. */
  body:
    | { data?: unknown; message?: string; errors?: Record<string, string>; total?: number }
    | undefined;
  data: unknown;
}

export interface CallOptions {
  /** Form fields (sent as application/x-www-form-urlencoded, values used as they are). */
  form?: Record<string, string>;
  /** A JSON body. */
  json?: Record<string, unknown>;
  /** Query string parameters. */
  query?: Record<string, string>;
  /** The Authorization header; default the first token of the test. */
  authorization?: string | null;
}

export const TOKEN = { id: "deploy@pve!ci", secret: "0f2c6e1a-5b7d-4e3f-9a8b-1c2d3e4f5a6b" };
export const AUTH = `PVEAPIToken=${TOKEN.id}=${TOKEN.secret}`;

export function call(
  sim: PveSimulator,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<RawAnswer> {
  const url = new URL(`${sim.url}${path}`);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  let payload: string | undefined;
  const headers: Record<string, string> = {};
  if (options.authorization !== null) headers.authorization = options.authorization ?? AUTH;
  if (options.form) {
    payload = new URLSearchParams(options.form).toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  } else if (options.json) {
    payload = JSON.stringify(options.json);
    headers["content-type"] = "application/json";
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca: sim.certificate }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const body = text === "" ? undefined : JSON.parse(text);
        resolve({
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? "",
          text,
          body,
          data: body?.data,
        });
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** Poll a task until it stops; its status object. */
export async function waitTask(sim: PveSimulator, upid: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const r = await call(sim, "GET", `/nodes/pve/tasks/${encodeURIComponent(upid)}/status`);
    const status = r.data as Record<string, unknown>;
    if (status.status === "stopped") return status;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`task ${upid} did not stop`);
}

/** Template 9000 (qemu, cloud-init) and CT template 8000, as on the first user's node. */
export function baseGuests(): SimGuest[] {
  return [
    {
      vmid: 9000,
      type: "qemu",
      node: "pve",
      status: "stopped",
      template: true,
      config: {
        name: "debian-13-cloud",
        cores: 2,
        memory: "2048",
        scsihw: "virtio-scsi-single",
        scsi0: "local-lvm:base-9000-disk-0,size=3G",
        ide2: "local-lvm:vm-9000-cloudinit,media=cdrom",
        net0: "virtio=BC:24:11:00:90:00,bridge=vmbr0",
        agent: "1",
        boot: "order=scsi0",
        serial0: "socket",
      },
      snapshots: [],
    },
    {
      vmid: 8000,
      type: "lxc",
      node: "pve",
      status: "stopped",
      template: true,
      config: {
        arch: "amd64",
        ostype: "debian",
        hostname: "debian-13-ct",
        cores: 1,
        memory: 512,
        swap: 512,
        rootfs: "local-lvm:base-8000-disk-0,size=4G",
        net0: "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:80:00,ip=dhcp,type=veth",
        unprivileged: 1,
      },
      snapshots: [],
    },
  ];
}
