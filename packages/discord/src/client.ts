/**
 * Sends and edits webhook messages through discord.js's WebhookClient, with bounded patience:
 *
 * - 429: @discordjs/rest waits for Retry-After and tries again, but without end; we count the
 *   429s (its `response` event) and stop it through `rejectOnRateLimit` after `rateLimitWaits`
 *   of them, or at once when Discord asks for a wait longer than `maxRateLimitWaitMs`.
 * - 5xx, timeouts and network errors: @discordjs/rest retries 5xx at once, with no pause, so
 *   its own retries are turned off (`retries: 0`) and this loop retries with a doubling pause.
 *   A retried POST may post twice if Discord had created the message before failing: a
 *   duplicate notice is better than none.
 * - 4xx: never retried; each turned into a NotifyError that says what it means.
 *
 * Messages never carry the token: discord.js's errors hold the request URL (with the token),
 * so they are never passed on as causes; only their status, code and Discord's message are.
 */
import {
  type APIMessage,
  DiscordAPIError,
  HTTPError,
  RateLimitError,
  WebhookClient,
} from "discord.js";
import type { WebhookMessage } from "./notice.js";
import type { WebhookCredentials } from "./webhook-url.js";
import { DISCORD_API_BASE } from "./webhook-url.js";

export interface DeliveryOptions {
  /** REST base, `https://discord.com/api` by default; tests point it at a local server. */
  apiBase?: string;
  /** Post into this thread of the webhook's channel. */
  threadId?: string | undefined;
  /** Limit for one HTTP request. Default 10 s. */
  timeoutMs?: number;
  /** Retries after a 5xx, a timeout or a network error. Default 3. */
  retries?: number;
  /** First pause before such a retry; doubles each time, up to 8 s. Default 500 ms. */
  backoffMs?: number;
  /** 429 answers waited out before giving up. Default 3. */
  rateLimitWaits?: number;
  /** A 429 asking for a longer wait than this gives up at once. Default 30 s. */
  maxRateLimitWaitMs?: number;
  /** Progress lines (retries, rate limits) for the log. */
  log?: (line: string) => void;
}

export type NotifyErrorKind =
  | "deleted"
  | "unauthorized"
  | "unknown-message"
  | "rejected"
  | "rate-limited"
  | "server"
  | "timeout"
  | "unreachable";

/** A notice Discord did not take; `kind` says why, `hint` what to do. Never holds the token. */
export class NotifyError extends Error {
  readonly kind: NotifyErrorKind;
  readonly status: number | undefined;
  readonly code: number | undefined;
  readonly hint: string | undefined;

  constructor(
    kind: NotifyErrorKind,
    message: string,
    details: { status?: number; code?: number; hint?: string } = {},
  ) {
    super(message);
    this.name = "NotifyError";
    this.kind = kind;
    this.status = details.status;
    this.code = details.code;
    this.hint = details.hint;
  }
}

/** What Discord answered for a message: its id and when it was first posted. */
export interface PostedMessage {
  id: string;
  channelId: string | undefined;
  /** ISO 8601, the time the message was created (not edited). */
  timestamp: string | undefined;
}

// Discord's JSON error codes (Opcodes and Status Codes > JSON Error Codes).
const UNKNOWN_MESSAGE = 10008;
const UNKNOWN_WEBHOOK = 10015;

const NEW_WEBHOOK_HINT =
  "Create a webhook again (channel settings > Integrations > Webhooks) and store its URL in the secret passed as webhook-url.";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return undefined;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

function isRetryable(error: unknown): boolean {
  if (error instanceof HTTPError) return error.status >= 500;
  if (error instanceof DiscordAPIError || error instanceof RateLimitError) return false;
  return isTimeout(error) || networkCode(error) !== undefined;
}

function toMessage(data: APIMessage): PostedMessage {
  return { id: data.id, channelId: data.channel_id, timestamp: data.timestamp };
}

export class WebhookPoster {
  readonly #client: WebhookClient;
  readonly #credentials: WebhookCredentials;
  readonly #options: Required<Omit<DeliveryOptions, "threadId" | "apiBase">>;
  readonly #threadId: string | undefined;
  #rateLimited = 0;

  constructor(credentials: WebhookCredentials, options: DeliveryOptions = {}) {
    this.#credentials = credentials;
    this.#threadId = options.threadId;
    this.#options = {
      timeoutMs: options.timeoutMs ?? 10_000,
      retries: options.retries ?? 3,
      backoffMs: options.backoffMs ?? 500,
      rateLimitWaits: options.rateLimitWaits ?? 3,
      maxRateLimitWaitMs: options.maxRateLimitWaitMs ?? 30_000,
      log: options.log ?? (() => {}),
    };
    const apiBase = options.apiBase ?? DISCORD_API_BASE;
    this.#client = new WebhookClient(
      { id: credentials.id, token: credentials.token },
      {
        // Nothing is sent with the client's defaults: every message names its own mentions.
        allowedMentions: { parse: [] },
        rest: {
          api: apiBase,
          timeout: this.#options.timeoutMs,
          retries: 0,
          rejectOnRateLimit: (data) => {
            const tooLong = data.retryAfter > this.#options.maxRateLimitWaitMs;
            const tooMany = this.#rateLimited > this.#options.rateLimitWaits;
            if (!tooLong && !tooMany) {
              this.#options.log(
                `Discord rate limit (429 #${this.#rateLimited}): waiting ${Math.ceil(data.retryAfter)} ms`,
              );
            }
            return tooLong || tooMany;
          },
        },
      },
    );
    this.#client.rest.on("response", (_request, response) => {
      if (response.status === 429) this.#rateLimited += 1;
    });
  }

  /** Posts a message (`?wait=true`, so Discord answers with it) and returns it. */
  async post(message: WebhookMessage): Promise<PostedMessage> {
    const data = await this.#attempt("post", () =>
      this.#client.send({
        ...(message.content === "" ? {} : { content: message.content }),
        embeds: message.embeds,
        allowedMentions: message.allowed_mentions,
        ...(this.#threadId === undefined ? {} : { threadId: this.#threadId }),
      }),
    );
    return toMessage(data as APIMessage);
  }

  /** Replaces a message's content and embeds (content "" clears what was there). */
  async edit(messageId: string, message: WebhookMessage): Promise<PostedMessage> {
    const data = await this.#attempt("edit", () =>
      this.#client.editMessage(messageId, {
        content: message.content,
        embeds: message.embeds,
        allowedMentions: message.allowed_mentions,
        ...(this.#threadId === undefined ? {} : { threadId: this.#threadId }),
      }),
    );
    return toMessage(data as APIMessage);
  }

  /** A message this webhook posted. */
  async fetch(messageId: string): Promise<PostedMessage> {
    const data = await this.#attempt("fetch", () =>
      this.#client.fetchMessage(
        messageId,
        this.#threadId === undefined ? {} : { threadId: this.#threadId },
      ),
    );
    return toMessage(data as APIMessage);
  }

  /** Stops the REST manager's timers. */
  close(): void {
    this.#client.destroy();
  }

  async #attempt<T>(what: string, request: () => Promise<T>): Promise<T> {
    const { retries, backoffMs } = this.#options;
    for (let attempt = 0; ; attempt += 1) {
      try {
        this.#rateLimited = 0;
        return await request();
      } catch (error) {
        if (!isRetryable(error) || attempt >= retries) throw this.#describe(what, error);
        const pause = Math.min(backoffMs * 2 ** attempt, 8_000);
        this.#options.log(
          `Discord ${what} failed (${this.#describe(what, error).message}); retry ${attempt + 1} of ${retries} in ${pause} ms`,
        );
        await sleep(pause);
      }
    }
  }

  /** Removes the token (and the path holding it) from text Discord or undici produced. */
  #redact(text: string): string {
    return text.replaceAll(this.#credentials.token, "***");
  }

  #describe(what: string, error: unknown): NotifyError {
    if (error instanceof NotifyError) return error;
    if (error instanceof DiscordAPIError) {
      const status = error.status;
      const code = typeof error.code === "number" ? error.code : undefined;
      const said = this.#redact(error.message);
      const details = { status, ...(code === undefined ? {} : { code }) };
      if (status === 404 && code === UNKNOWN_WEBHOOK) {
        return new NotifyError(
          "deleted",
          "the webhook was deleted (Discord: 404 Unknown Webhook)",
          {
            ...details,
            hint: NEW_WEBHOOK_HINT,
          },
        );
      }
      if (status === 404 && code === UNKNOWN_MESSAGE) {
        return new NotifyError(
          "unknown-message",
          `the message to ${what} is not there (Discord: 404 Unknown Message)`,
          {
            ...details,
            hint: "Pass the message-id output of the step that posted it, in the same thread.",
          },
        );
      }
      if (status === 401 || status === 403) {
        return new NotifyError(
          "unauthorized",
          `Discord refused the webhook token (${status} ${said})`,
          { ...details, hint: NEW_WEBHOOK_HINT },
        );
      }
      return new NotifyError("rejected", `Discord rejected the ${what} (${status} ${said})`, {
        ...details,
        hint: "This is a bug in the notice it built or in its inputs: report it with this message.",
      });
    }
    if (error instanceof RateLimitError) {
      const seconds = (error.retryAfter / 1000).toFixed(1);
      return new NotifyError(
        "rate-limited",
        `Discord kept rate limiting the ${what} (it asked to wait ${seconds} s more)`,
        {
          status: 429,
          hint: "Too many messages go through this webhook: space the notices out or use another webhook.",
        },
      );
    }
    if (error instanceof HTTPError) {
      return new NotifyError(
        "server",
        `Discord answered the ${what} with ${error.status} ${this.#redact(error.message)}`,
        {
          status: error.status,
          hint: "Discord had trouble; see https://discordstatus.com. The deploy itself is not affected.",
        },
      );
    }
    if (isTimeout(error)) {
      return new NotifyError(
        "timeout",
        `Discord did not answer the ${what} within ${this.#options.timeoutMs} ms`,
        { hint: "Check the runner's connection to discord.com." },
      );
    }
    const code = networkCode(error);
    const text = error instanceof Error ? this.#redact(error.message) : String(error);
    return new NotifyError(
      "unreachable",
      `could not reach Discord for the ${what} (${code ?? text})`,
      { hint: "Check the runner's connection to discord.com (DNS, proxy, firewall)." },
    );
  }
}
