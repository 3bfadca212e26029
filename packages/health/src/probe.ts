import { type Dispatcher, request } from "undici";
import type { Check } from "./checks.js";
import { describeKind, formatJsonPath, lookUp, parseJsonPath } from "./internal/json-path.js";

/** How much of a body is read: a health answer is small, and a huge one must not stall us. */
export const BODY_LIMIT_BYTES = 64 * 1024;
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

export interface ProbeOptions {
  /** Where TLS settings live (see dispatcherFor); undici's global dispatcher when absent. */
  dispatcher?: Dispatcher | undefined;
  /** The whole request, connect to last body byte. Default 10 s. */
  timeoutMs?: number | undefined;
  /** Aborts the request early (the result then says "aborted"). */
  signal?: AbortSignal | undefined;
}

export interface ProbeResult {
  ok: boolean;
  /** Absent when no response arrived. */
  status?: number;
  /** Why it did not pass: no response, a wrong status, or a body that did not match. */
  error?: string;
  /** From sending the request to judging the body. */
  ms: number;
}

interface Body {
  text: string;
  /** True when the body went on past BODY_LIMIT_BYTES (and was not read further). */
  truncated: boolean;
}

/**
 * One GET of `check.url`, judged against the check. Never throws: every failure, including a
 * bad check, comes back as `{ ok: false, error }`. Redirects are not followed.
 */
export async function probe(check: Check, options: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  // undici's own timeouts tick coarsely (hundreds of ms); this signal holds the exact bound.
  // A listener rather than AbortSignal.any: it is removed when the request settles, so a
  // long wait's signal does not collect one per request.
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, timeoutMs);
  const onOuterAbort = () => abort.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (options.signal?.aborted) abort.abort();
  try {
    const response = await request(check.url, {
      method: "GET",
      headers: { accept: "*/*", "user-agent": "smoker-health-gate" },
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: abort.signal,
    });
    const status = response.statusCode;
    const body = await readBounded(response.body);
    const error = judge(check, status, body);
    return error === undefined
      ? { ok: true, status, ms: elapsed() }
      : { ok: false, status, error, ms: elapsed() };
  } catch (error) {
    const why = timedOut
      ? `no response within ${timeoutMs} ms`
      : abort.signal.aborted
        ? "aborted"
        : describeError(error);
    return { ok: false, error: why, ms: elapsed() };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}

async function readBounded(body: AsyncIterable<Buffer>): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size + chunk.length > BODY_LIMIT_BYTES) {
      chunks.push(chunk.subarray(0, BODY_LIMIT_BYTES - size));
      // Leaving the loop destroys the stream (and its connection): the rest is never read.
      return { text: Buffer.concat(chunks).toString("utf8"), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString("utf8"), truncated: false };
}

/** Why a response fails `check`, or undefined when it passes. */
function judge(check: Check, status: number, body: Body): string | undefined {
  if (!check.expectStatus.includes(status)) {
    return `status ${status}, expected ${check.expectStatus.join(" or ")}`;
  }
  if (check.contains !== undefined && !body.text.includes(check.contains)) {
    const scope = body.truncated ? " (in its first 64 KiB)" : "";
    return `body does not contain ${JSON.stringify(check.contains)}${scope}`;
  }
  if (check.jsonPath !== undefined) return judgeJson(check.jsonPath, check.equals ?? null, body);
  return undefined;
}

function judgeJson(path: string, expected: unknown, body: Body): string | undefined {
  if (body.truncated) return "body is over 64 KiB, too long to read as JSON";
  let document: unknown;
  try {
    document = JSON.parse(body.text);
  } catch {
    return `body is not JSON (starts ${JSON.stringify(body.text.slice(0, 40))})`;
  }
  let steps: ReturnType<typeof parseJsonPath>;
  try {
    steps = parseJsonPath(path);
  } catch (error) {
    return `json-path ${(error as Error).message}`;
  }
  const found = lookUp(document, steps);
  const where = formatJsonPath(steps);
  if (!found.found) return `${where} not found: ${found.missing} at ${found.at}`;
  if (found.value === expected) return undefined;
  const actual =
    typeof found.value === "object" && found.value !== null
      ? describeKind(found.value)
      : JSON.stringify(found.value);
  return `${where} is ${actual}, expected ${JSON.stringify(expected)}`;
}

/** One line for a request that got no response: the system's words plus its error code. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Node reports a host tried over IPv4 and IPv6 as an AggregateError with an empty message.
  let message = error.message;
  if (message === "" && error instanceof AggregateError) {
    message = error.errors
      .map((e: unknown) => (e instanceof Error ? e.message : String(e)))
      .join("; ");
  }
  if (message === "") message = error.name;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
}
