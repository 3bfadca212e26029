/**
 * Local HTTP(S) servers for tests of health checks: each answers from a script, counts what it
 * received, and closes every connection (hanging ones included) when the test is done.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { type Certificate, selfSignedCertificate } from "@smoker/action-kit/testing";

export { type Certificate, selfSignedCertificate };

/** What the server does with one request: answer it, or never answer ("hang"). */
export type Reply = { status?: number; body?: string; headers?: Record<string, string> } | "hang";

/** Decides the reply to the `n`th request (1-based) for `path`. */
export type Script = (n: number, path: string) => Reply;

export interface TestServer {
  /** `http://127.0.0.1:PORT` (or https), no trailing slash. */
  origin: string;
  /** Requests received so far. */
  readonly count: number;
  /** performance.now() of each request, in order. */
  readonly times: readonly number[];
  close(): Promise<void>;
}

function serve(server: Server, script: Script, scheme: string): Promise<TestServer> {
  const times: number[] = [];
  server.on("request", (req: IncomingMessage, res) => {
    times.push(performance.now());
    const reply = script(times.length, req.url ?? "/");
    if (reply === "hang") return;
    res.writeHead(reply.status ?? 200, { "content-type": "text/plain", ...reply.headers });
    res.end(reply.body ?? "");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        origin: `${scheme}://127.0.0.1:${port}`,
        get count() {
          return times.length;
        },
        times,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** An HTTP server on 127.0.0.1 and a free port. */
export function startServer(script: Script): Promise<TestServer> {
  return serve(createHttpServer(), script, "http");
}

/** An HTTPS server on 127.0.0.1 presenting `certificate`. */
export function startTlsServer(certificate: Certificate, script: Script): Promise<TestServer> {
  return serve(
    createHttpsServer({ cert: certificate.cert, key: certificate.key }),
    script,
    "https",
  );
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago): connecting is refused. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const listener = createTcpServer();
    listener.once("error", reject);
    listener.listen(0, "127.0.0.1", () => {
      const { port } = listener.address() as AddressInfo;
      listener.close(() => resolve(port));
    });
  });
}
