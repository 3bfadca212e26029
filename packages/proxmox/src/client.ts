import { setTimeout as sleep } from "node:timers/promises";
import { type Agent, fetch } from "undici";
import { formEncode, type Params } from "./encode.js";
import { FingerprintMismatchError, ProxmoxApiError, ProxmoxConnectionError } from "./errors.js";
import { dispatcherFor, type TlsTrust } from "./tls.js";

export interface ClientOptions {
  /** `https://HOST:8006/api2/json` (a URL without the /api2/json path gets it added). */
  apiUrl: string;
  /** `USER@REALM!TOKENID`. */
  tokenId: string;
  tokenSecret: string;
  trust: TlsTrust;
  /** Further attempts after a transient failure (connection reset, 5xx, a locked guest). */
  retries?: number;
  /** First wait before a retry; it doubles each time, up to 8 s. */
  retryDelayMs?: number;
  /** Limit for one request. */
  requestTimeoutMs?: number;
  /** Told about each retry, to log it. */
  onRetry?: (message: string) => void;
}

export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** `/nodes/pve/qemu/9001/config` from segments, each percent-encoded (UPIDs hold `:` and `@`). */
export function apiPath(...segments: Array<string | number>): string {
  return segments.map((segment) => `/${encodeURIComponent(String(segment))}`).join("");
}

/** The body of a successful answer: `data` and, for lists, `total`. */
export interface Envelope {
  data: unknown;
  total?: number;
}

// Messages of 5xx answers that no retry can change (pve-guest-common, qemu-server).
const PERMANENT =
  /does not exist|already exists|not running|guest agent|not implemented|no such|unable to parse|already used/i;
const LOCKED = /(VM|CT) is locked/;
const RESET_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "ECONNABORTED",
]);

/** True for failures a retry may cure; task errors never reach here (they are not HTTP). */
export function isTransient(error: unknown): boolean {
  if (error instanceof ProxmoxApiError) {
    if (LOCKED.test(error.pveMessage)) return true;
    return error.status >= 500 && error.status !== 501 && !PERMANENT.test(error.pveMessage);
  }
  if (error instanceof ProxmoxConnectionError) {
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    return typeof code === "string" && RESET_CODES.has(code);
  }
  return false;
}

function normaliseApiUrl(text: string): URL {
  const url = new URL(text);
  if (!/\/api2\/json\/?$/.test(url.pathname)) {
    url.pathname = `${url.pathname.replace(/\/$/, "")}/api2/json`;
  }
  url.pathname = url.pathname.replace(/\/$/, "");
  return url;
}

/** The innermost cause that names what went wrong on the wire. */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 5; i += 1) {
    const next = (current as { cause?: unknown } | undefined)?.cause;
    if (next === undefined || next === null) break;
    current = next;
  }
  return current;
}

/**
 * A Proxmox VE API client: API-token auth, pinned TLS, form-encoded bodies, bounded retries of
 * transient failures. Every method returns the answer's `data`.
 */
export class ProxmoxClient {
  readonly base: URL;
  readonly #authorization: string;
  readonly #dispatcher: Agent;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #timeoutMs: number;
  readonly #onRetry: (message: string) => void;

  constructor(options: ClientOptions) {
    this.base = normaliseApiUrl(options.apiUrl);
    this.#authorization = `PVEAPIToken=${options.tokenId}=${options.tokenSecret}`;
    this.#dispatcher = dispatcherFor(options.trust);
    this.#retries = options.retries ?? 5;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    this.#timeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#onRetry = options.onRetry ?? (() => {});
  }

  get(path: string, params: Params = {}): Promise<unknown> {
    return this.request("GET", path, params).then((e) => e.data);
  }

  post(path: string, params: Params = {}): Promise<unknown> {
    return this.request("POST", path, params).then((e) => e.data);
  }

  put(path: string, params: Params = {}): Promise<unknown> {
    return this.request("PUT", path, params).then((e) => e.data);
  }

  delete(path: string, params: Params = {}): Promise<unknown> {
    return this.request("DELETE", path, params).then((e) => e.data);
  }

  /** One call, retried while the failure is transient (at most `retries` more times). */
  async request(method: Method, path: string, params: Params = {}): Promise<Envelope> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#once(method, path, params);
      } catch (error) {
        if (attempt >= this.#retries || !isTransient(error)) throw error;
        const waitMs = Math.min(this.#retryDelayMs * 2 ** attempt, 8_000);
        this.#onRetry(
          `${(error as Error).message.split("\n")[0]}; retrying in ${waitMs} ms (${attempt + 1}/${this.#retries})`,
        );
        await sleep(waitMs);
      }
    }
  }

  async #once(method: Method, path: string, params: Params): Promise<Envelope> {
    const url = new URL(`${this.base.href}${path}`);
    const hasBody = method === "POST" || method === "PUT";
    const encoded = formEncode(params);
    if (!hasBody && encoded !== "") url.search = encoded;
    const headers: Record<string, string> = {
      authorization: this.#authorization,
      accept: "application/json",
    };
    if (hasBody) headers["content-type"] = "application/x-www-form-urlencoded";
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(hasBody ? { body: encoded } : {}),
        dispatcher: this.#dispatcher,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const cause = rootCause(error);
      if (cause instanceof FingerprintMismatchError) {
        throw new ProxmoxConnectionError(`Refused the Proxmox API at ${this.base.host}`, {
          cause,
          hint: cause.hint,
        });
      }
      const text = cause instanceof Error ? cause.message : String(cause);
      throw new ProxmoxConnectionError(
        `Could not reach the Proxmox API at ${this.base.host} (${method} ${path}): ${text}`,
        {
          cause,
          hint: "Check api-url and that the runner can reach the node (port 8006); for TLS errors check tls-fingerprint or ca-certificate.",
        },
      );
    }
    const text = await response.text();
    let body: { data?: unknown; total?: unknown; message?: unknown; errors?: unknown } = {};
    if (text.trim() !== "") {
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = {};
      }
    }
    if (!response.ok) {
      const message =
        typeof body.message === "string" && body.message.trim() !== ""
          ? body.message.trim()
          : response.statusText.trim();
      const errors =
        typeof body.errors === "object" && body.errors !== null
          ? Object.fromEntries(
              Object.entries(body.errors as Record<string, unknown>).map(([k, v]) => [
                k,
                String(v).trim(),
              ]),
            )
          : {};
      throw new ProxmoxApiError({
        status: response.status,
        method,
        path,
        pveMessage: message,
        errors,
      });
    }
    return {
      data: body.data ?? null,
      ...(typeof body.total === "number" ? { total: body.total } : {}),
    };
  }

  async close(): Promise<void> {
    await this.#dispatcher.destroy();
  }
}
