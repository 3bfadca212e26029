import { X509Certificate } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type Certificate, selfSignedCertificate } from "@smoker/action-kit/testing";

export type { Certificate };

export interface Recorded {
  method: string;
  /** Below /api2/json, percent-decoded. */
  path: string;
  /** The raw query string ("" when none). */
  query: string;
  /** The raw body as sent. */
  body: string;
  headers: IncomingMessage["headers"];
}

export interface Reply {
  status?: number;
  statusText?: string;
  /** Sent as JSON; for an error, Proxmox's envelope ({data: null, message, errors}). */
  body?: unknown;
  /** Destroy the connection instead of answering (a reset). */
  reset?: boolean;
}

export type Handler = (request: Recorded, n: number) => Reply;

export interface RecordingServer {
  url: string;
  requests: Recorded[];
  /** TCP connections accepted (each then does a TLS handshake). */
  readonly connections: number;
  fingerprint: string;
  certificate: string;
  close(): Promise<void>;
}

/** A fresh self-signed certificate for 127.0.0.1. */
export function selfSigned(): Promise<Certificate> {
  return selfSignedCertificate({ subject: "/CN=pve" });
}

export async function startRecordingServer(
  certificate: Certificate,
  handler: Handler,
): Promise<RecordingServer> {
  const requests: Recorded[] = [];
  let connections = 0;
  const server = createServer({ cert: certificate.cert, key: certificate.key });
  server.on("connection", () => {
    connections += 1;
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const [rawPath = "", query = ""] = (req.url ?? "").split("?");
      const recorded: Recorded = {
        method: req.method ?? "",
        path: decodeURIComponent(rawPath.replace(/^\/api2\/json/, "")),
        query,
        body: Buffer.concat(chunks).toString("utf8"),
        headers: req.headers,
      };
      requests.push(recorded);
      const reply = handler(recorded, requests.length);
      if (reply.reset) {
        req.socket.destroy();
        return;
      }
      const status = reply.status ?? 200;
      res.writeHead(status, reply.statusText ?? "", { "content-type": "application/json" });
      res.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/api2/json`,
    requests,
    get connections() {
      return connections;
    },
    fingerprint: new X509Certificate(certificate.cert).fingerprint256,
    certificate: certificate.cert,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `{data}` as Proxmox wraps every answer. */
export const ok = (data: unknown): Reply => ({ body: { data } });

/** A UPID as a node would hand it out for a task of `type` on `id`. */
export function upid(type: string, id: string | number, n = 1): string {
  const hex = (v: number, w: number) => v.toString(16).toUpperCase().padStart(w, "0");
  return `UPID:pve:${hex(0x1000 + n, 8)}:${hex(0x2000 + n, 8)}:${hex(0x65000000 + n, 8)}:${type}:${id}:deploy@pve!ci:`;
}
