/**
 * A local stand-in for Discord's webhook endpoints, for tests and the demo. It implements,
 * under `/api`, `/api/v{N}` or the root:
 *
 *   POST  /webhooks/{id}/{token}[?wait=true][&thread_id=]        Execute Webhook
 *   GET   /webhooks/{id}/{token}/messages/{message_id}          Get Webhook Message
 *   PATCH /webhooks/{id}/{token}/messages/{message_id}          Edit Webhook Message
 *
 * and REJECTS what Discord rejects (rules.ts): unknown webhook 404/10015, wrong token
 * 401/50027, bad JSON 400/50109, form errors 400/50035, empty message 400/50006, unknown
 * message 404/10008. Per webhook it keeps Discord's documented bucket headers (X-RateLimit-*)
 * and answers 429 like Discord (body {message, retry_after, global}, Retry-After and
 * X-RateLimit-Scope headers) when a client ignores them. Tests can queue faults: a 429, a
 * 5xx, or a slow answer. Every request is recorded with its parsed body.
 *
 * Standalone, for the demo: `npx tsx test/discord/server.ts --port 8790` prints what Discord
 * would show for every message posted or edited (see `render`).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { type DiscordError, type MentionState, pingsOf, validateMessage } from "./rules.js";

// Discord's epoch (2015-01-01), the zero of snowflake timestamps.
const DISCORD_EPOCH = 1_420_070_400_000n;

export interface SimWebhook {
  id: string;
  token: string;
  channelId: string;
  name: string;
}

export interface SimMessage {
  id: string;
  webhook_id: string;
  channel_id: string;
  thread_id: string | undefined;
  content: string;
  embeds: Array<Record<string, unknown>>;
  allowed_mentions: MentionState["allowed_mentions"];
  timestamp: string;
  edited_timestamp: string | null;
  /** Who the content notified when it was posted (edits never notify). */
  pings: string[];
}

export interface RecordedRequest {
  method: string;
  /** The path without the API prefix, e.g. /webhooks/1/abc/messages/2. */
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  status: number;
}

export type Fault =
  | { kind: "rate-limit"; retryAfterSeconds: number; global?: boolean }
  | { kind: "status"; status: number }
  | { kind: "slow"; delayMs: number };

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** Requests per window in a webhook's bucket (Discord: 5 per 2 s for a webhook). */
  bucketLimit?: number;
  bucketWindowMs?: number;
  /** Called with each message created or edited. */
  onMessage?: (message: SimMessage, event: "posted" | "edited") => void;
}

export interface DiscordSimulator {
  /** The REST base to hand to the client: http://127.0.0.1:PORT/api */
  apiBase: string;
  port: number;
  requests: RecordedRequest[];
  messages: Map<string, SimMessage>;
  /** Registers a webhook; returns it with the https://discord.com URL a user would paste. */
  addWebhook(options?: Partial<SimWebhook>): SimWebhook & { url: string };
  /** Deletes a webhook: it answers 404 Unknown Webhook from now on. */
  deleteWebhook(id: string): void;
  /** Faults for the next requests, one each, in order. */
  enqueue(...faults: Fault[]): void;
  /** Drops the faults not used yet. */
  clearFaults(): void;
  close(): Promise<void>;
}

let sequence = 0n;

function snowflake(): string {
  sequence = (sequence + 1n) & 0xfffn;
  return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | sequence).toString();
}

function randomId(): string {
  // 18 digits, the usual length of today's ids.
  return `1${randomBytes(8).readBigUInt64BE().toString().padStart(20, "0").slice(-17)}`;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const ROUTE = /^(?:\/api(?:\/v[0-9]+)?)?(\/webhooks\/([^/]+)\/([^/]+)(?:\/messages\/([^/]+))?)\/?$/;

export async function startDiscordSimulator(
  options: SimulatorOptions = {},
): Promise<DiscordSimulator> {
  const webhooks = new Map<string, SimWebhook>();
  const deleted = new Set<string>();
  const messages = new Map<string, SimMessage>();
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const limit = options.bucketLimit ?? 5;
  const windowMs = options.bucketWindowMs ?? 2000;
  const buckets = new Map<string, { resetAt: number; used: number }>();

  function bucketHeaders(
    key: string,
    consume: boolean,
  ): { headers: Record<string, string>; over: boolean; resetAfter: number } {
    const now = Date.now();
    let bucket = buckets.get(key);
    if (bucket === undefined || bucket.resetAt <= now) {
      bucket = { resetAt: now + windowMs, used: 0 };
      buckets.set(key, bucket);
    }
    const over = consume && bucket.used >= limit;
    if (consume && !over) bucket.used += 1;
    const resetAfter = (bucket.resetAt - now) / 1000;
    return {
      over,
      resetAfter,
      headers: {
        "x-ratelimit-limit": String(limit),
        "x-ratelimit-remaining": String(Math.max(0, limit - bucket.used)),
        "x-ratelimit-reset": (bucket.resetAt / 1000).toFixed(3),
        "x-ratelimit-reset-after": resetAfter.toFixed(3),
        "x-ratelimit-bucket": `sim-${key.slice(0, 8)}`,
      },
    };
  }

  function rateLimited(
    res: ServerResponse,
    retryAfter: number,
    global: boolean,
    headers: Record<string, string>,
  ): number {
    json(
      res,
      429,
      { message: "You are being rate limited.", retry_after: retryAfter, global },
      {
        ...headers,
        "retry-after": String(retryAfter),
        "x-ratelimit-scope": global ? "global" : "user",
        ...(global
          ? { "x-ratelimit-global": "true" }
          : { "x-ratelimit-remaining": "0", "x-ratelimit-reset-after": retryAfter.toFixed(3) }),
      },
    );
    return 429;
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    raw: string,
  ): Promise<{ status: number; body: unknown }> {
    let body: unknown = raw;
    const match = ROUTE.exec(url.pathname);
    const fault = faults.shift();
    if (fault?.kind === "slow") await new Promise((r) => setTimeout(r, fault.delayMs));
    if (match === null) {
      json(res, 404, { message: "404: Not Found", code: 0 });
      return { status: 404, body };
    }
    const [, , id = "", token = "", messageId] = match;
    const method = req.method ?? "GET";
    const { headers, over, resetAfter } = bucketHeaders(`${id}/${token}`, true);
    if (fault?.kind === "rate-limit") {
      return {
        status: rateLimited(res, fault.retryAfterSeconds, fault.global === true, headers),
        body,
      };
    }
    if (fault?.kind === "status") {
      json(res, fault.status, { message: `${fault.status}: simulated failure`, code: 0 }, headers);
      return { status: fault.status, body };
    }
    if (over)
      return { status: rateLimited(res, Number(resetAfter.toFixed(3)), false, headers), body };

    const hook = webhooks.get(id);
    if (hook === undefined || deleted.has(id)) {
      json(res, 404, { message: "Unknown Webhook", code: 10015 }, headers);
      return { status: 404, body };
    }
    if (hook.token !== token) {
      json(res, 401, { message: "Invalid Webhook Token", code: 50027 }, headers);
      return { status: 401, body };
    }
    const threadId = url.searchParams.get("thread_id") ?? undefined;
    if (threadId !== undefined && !/^[0-9]{17,20}$/.test(threadId)) {
      json(
        res,
        400,
        {
          message: "Invalid Form Body",
          code: 50035,
          errors: {
            thread_id: {
              _errors: [
                { code: "NUMBER_TYPE_COERCE", message: `Value "${threadId}" is not snowflake.` },
              ],
            },
          },
        },
        headers,
      );
      return { status: 400, body };
    }

    if (method === "POST" || method === "PATCH") {
      try {
        body = JSON.parse(raw);
      } catch {
        json(
          res,
          400,
          { message: "The request body contains invalid JSON.", code: 50109 },
          headers,
        );
        return { status: 400, body };
      }
    }

    if (method === "POST" && messageId === undefined) {
      const error: DiscordError | undefined = validateMessage(body, true);
      if (error !== undefined) {
        json(res, 400, error, headers);
        return { status: 400, body };
      }
      const b = body as Record<string, unknown>;
      const message: SimMessage = {
        id: snowflake(),
        webhook_id: hook.id,
        channel_id: threadId ?? hook.channelId,
        thread_id: threadId,
        content: typeof b.content === "string" ? b.content : "",
        embeds: (b.embeds as Array<Record<string, unknown>> | undefined) ?? [],
        allowed_mentions: b.allowed_mentions as SimMessage["allowed_mentions"],
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        pings: [],
      };
      message.pings = pingsOf(message);
      messages.set(message.id, message);
      options.onMessage?.(message, "posted");
      // Without wait=true Discord answers 204 and no message.
      if (url.searchParams.get("wait") === "true")
        json(res, 200, apiMessage(message, hook), headers);
      else {
        res.writeHead(204, headers);
        res.end();
      }
      return { status: url.searchParams.get("wait") === "true" ? 200 : 204, body };
    }

    if (messageId !== undefined && (method === "GET" || method === "PATCH")) {
      const message = messages.get(messageId);
      if (
        message === undefined ||
        message.webhook_id !== hook.id ||
        message.thread_id !== threadId
      ) {
        json(res, 404, { message: "Unknown Message", code: 10008 }, headers);
        return { status: 404, body };
      }
      if (method === "PATCH") {
        const error = validateMessage(body, false);
        if (error !== undefined) {
          json(res, 400, error, headers);
          return { status: 400, body };
        }
        const b = body as Record<string, unknown>;
        const content = typeof b.content === "string" ? b.content : message.content;
        const embeds = Array.isArray(b.embeds)
          ? (b.embeds as Array<Record<string, unknown>>)
          : message.embeds;
        // An edit may not leave the message empty either.
        if (content.trim() === "" && embeds.length === 0) {
          json(res, 400, { message: "Cannot send an empty message", code: 50006 }, headers);
          return { status: 400, body };
        }
        message.content = content;
        message.embeds = embeds;
        if (b.allowed_mentions !== undefined)
          message.allowed_mentions = b.allowed_mentions as SimMessage["allowed_mentions"];
        message.edited_timestamp = new Date().toISOString();
        options.onMessage?.(message, "edited");
      }
      json(res, 200, apiMessage(message, hook), headers);
      return { status: 200, body };
    }
    json(res, 405, { message: "405: Method Not Allowed", code: 0 }, headers);
    return { status: 405, body };
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    void readBody(req).then(async (raw) => {
      const path = url.pathname.replace(/^\/api(?:\/v[0-9]+)?/, "");
      const entry: RecordedRequest = {
        method: req.method ?? "GET",
        path,
        query: Object.fromEntries(url.searchParams),
        body: raw,
        status: 0,
      };
      requests.push(entry);
      try {
        const { status, body } = await handle(req, res, url, raw);
        entry.status = status;
        entry.body = body;
      } catch (error) {
        entry.status = 500;
        if (!res.headersSent) json(res, 500, { message: String(error), code: 0 });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    apiBase: `http://127.0.0.1:${port}/api`,
    port,
    requests,
    messages,
    addWebhook(partial = {}) {
      const hook: SimWebhook = {
        id: partial.id ?? randomId(),
        token: partial.token ?? randomBytes(51).toString("base64url"),
        channelId: partial.channelId ?? randomId(),
        name: partial.name ?? "Deploys",
      };
      webhooks.set(hook.id, hook);
      deleted.delete(hook.id);
      return { ...hook, url: `https://discord.com/api/webhooks/${hook.id}/${hook.token}` };
    },
    deleteWebhook(id) {
      deleted.add(id);
    },
    enqueue(...more) {
      faults.push(...more);
    },
    clearFaults() {
      faults.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function apiMessage(message: SimMessage, hook: SimWebhook): Record<string, unknown> {
  return {
    id: message.id,
    type: 0,
    channel_id: message.channel_id,
    webhook_id: hook.id,
    author: { id: hook.id, username: hook.name, bot: true, discriminator: "0000", avatar: null },
    content: message.content,
    embeds: message.embeds.map((e) => ({ type: "rich", ...e })),
    mentions: [],
    mention_roles: message.pings.filter((p) => p.startsWith("role:")).map((p) => p.slice(5)),
    mention_everyone: message.pings.includes("@everyone"),
    attachments: [],
    components: [],
    pinned: false,
    tts: false,
    flags: 0,
    timestamp: message.timestamp,
    edited_timestamp: message.edited_timestamp,
  };
}

function hex(color: unknown): string {
  return typeof color === "number" ? `#${color.toString(16).padStart(6, "0")}` : "none";
}

// Markdown links show their text in Discord; the target is printed after it here.
function plain(text: string): string {
  return text.replace(/\[([^\]]*)\]\((https?:[^)\s]+)\)/g, "$1 <$2>");
}

/**
 * A plain-text picture of a message as Discord would show it: who posted, the content (and
 * who it pinged), then each embed with a colour bar, author, title, description, fields
 * (inline ones side by side, three to a row) and footer.
 */
export function render(
  message: Pick<SimMessage, "content" | "embeds" | "pings"> & Partial<SimMessage>,
  name = "Deploys",
): string {
  const lines: string[] = [];
  const when = message.edited_timestamp
    ? `${message.timestamp} (edited)`
    : (message.timestamp ?? "");
  lines.push(`${name} [BOT]  ${when}`.trimEnd());
  if (message.content !== "") lines.push(...plain(message.content).split("\n"));
  lines.push(`  pings: ${message.pings.length === 0 ? "nobody" : message.pings.join(", ")}`);
  for (const embed of message.embeds) {
    const bar = "┃ ";
    const out: string[] = [];
    const author = embed.author as { name?: string } | undefined;
    const footer = embed.footer as { text?: string } | undefined;
    if (author?.name) out.push(author.name);
    if (typeof embed.title === "string")
      out.push(`**${embed.title}**${typeof embed.url === "string" ? ` <${embed.url}>` : ""}`);
    if (typeof embed.description === "string") out.push(...plain(embed.description).split("\n"));
    const fields =
      (embed.fields as Array<{ name: string; value: string; inline?: boolean }> | undefined) ?? [];
    let row: Array<{ name: string; value: string }> = [];
    const flush = () => {
      if (row.length === 0) return;
      out.push(row.map((f) => `${f.name}: ${plain(f.value).replaceAll("\n", " ")}`).join("  │  "));
      row = [];
    };
    for (const f of fields) {
      if (f.inline) {
        row.push(f);
        if (row.length === 3) flush();
      } else {
        flush();
        out.push(
          `${f.name}:`,
          ...plain(f.value)
            .split("\n")
            .map((l) => `  ${l}`),
        );
      }
    }
    flush();
    const foot = [footer?.text, embed.timestamp]
      .filter((x) => typeof x === "string" && x !== "")
      .join(" • ");
    if (foot !== "") out.push(foot);
    lines.push(`  ┏━ colour ${hex(embed.color)}`, ...out.map((l) => `  ${bar}${l}`), "  ┗━");
  }
  return lines.join("\n");
}

async function standalone(argv: string[]): Promise<void> {
  const flag = (name: string) => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const port = Number(flag("port") ?? "8790");
  const given = flag("webhook-url");
  const match = given === undefined ? null : /\/webhooks\/([0-9]+)\/([A-Za-z0-9_-]+)/.exec(given);
  const sim = await startDiscordSimulator({
    port,
    onMessage(message, event) {
      process.stdout.write(`\n── message ${message.id} ${event} ──\n${render(message)}\n`);
    },
  });
  const hook = sim.addWebhook(
    match === null
      ? { id: "112233445566778899", token: "demo-webhook-token" }
      : { id: match[1]!, token: match[2]! },
  );
  process.stdout.write(
    `discord simulator listening: api-base-url=${sim.apiBase} webhook-url=${hook.url}\n`,
  );
  const stop = () => void sim.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await standalone(process.argv.slice(2));
}
