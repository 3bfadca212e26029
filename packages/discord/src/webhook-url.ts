/**
 * Webhook URLs and the REST base they are sent to.
 *
 * discord.js's own parser only knows discord.com hosts and accepts any token text, so the URL
 * is parsed here: `https://{discord.com|discordapp.com, optionally ptb./canary.}/api[/vN]/
 * webhooks/{id}/{token}`, the forms Discord's clients hand out ("Copy Webhook URL").
 */

export const DISCORD_API_BASE = "https://discord.com/api";

/** The two secrets a webhook URL carries. Only `token` is secret, but both are masked. */
export interface WebhookCredentials {
  /** A snowflake: the webhook's id. */
  id: string;
  token: string;
}

/** A URL that is not a usable webhook URL; `rule` says which part is wrong (never the token). */
export class WebhookUrlError extends Error {
  readonly rule: string;

  constructor(rule: string) {
    super(`webhook URL ${rule}`);
    this.name = "WebhookUrlError";
    this.rule = rule;
  }
}

const HOSTS = /^(?:(?:ptb|canary)\.)?discord(?:app)?\.com$/;
// Snowflakes are 64-bit integers written in decimal: 17 to 20 digits for ids made since 2015.
const SNOWFLAKE = /^[0-9]{17,20}$/;
// Webhook tokens are URL-safe base64 (68 characters today); the length is not a contract.
const TOKEN = /^[A-Za-z0-9_-]{1,200}$/;

export function isSnowflake(text: string): boolean {
  return SNOWFLAKE.test(text);
}

/** Parses a webhook URL; throws WebhookUrlError naming the rule broken. */
export function parseWebhookUrl(text: string): WebhookCredentials {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new WebhookUrlError("is not a URL");
  }
  if (url.protocol !== "https:") throw new WebhookUrlError("must start with https://");
  if (url.username !== "" || url.password !== "") {
    throw new WebhookUrlError("must not carry a user name or password");
  }
  if (!HOSTS.test(url.hostname) || url.port !== "") {
    throw new WebhookUrlError(
      "must be on discord.com or discordapp.com (ptb. and canary. too), without a port",
    );
  }
  if (url.search !== "" || url.hash !== "") {
    throw new WebhookUrlError("must not have a query or fragment (use thread-id for threads)");
  }
  const match = /^\/api(?:\/v[0-9]{1,2})?\/webhooks\/([^/]*)\/([^/]*)\/?$/.exec(url.pathname);
  if (match === null) {
    throw new WebhookUrlError("must have the path /api/webhooks/<id>/<token>");
  }
  const [, id = "", token = ""] = match;
  if (!SNOWFLAKE.test(id)) throw new WebhookUrlError("has an id that is not a snowflake (digits)");
  if (!TOKEN.test(token)) {
    throw new WebhookUrlError("has a token that is not made of A-Z, a-z, 0-9, _ and -");
  }
  return { id, token };
}

const LOOPBACK = /^(?:localhost|127(?:\.[0-9]{1,3}){3}|\[::1\])$/;

/**
 * Checks a REST base URL (`https://discord.com/api` unless a test points elsewhere) and
 * returns it without a trailing slash. Plain http is allowed only to a loopback address: the
 * token travels in the path, so it must not cross a network unencrypted.
 */
export function parseApiBase(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new WebhookUrlError("is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new WebhookUrlError("must be an http(s) URL");
  }
  if (url.protocol === "http:" && !LOOPBACK.test(url.hostname)) {
    throw new WebhookUrlError("may use plain http only on a loopback address (use https)");
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new WebhookUrlError("must not have a query, fragment or credentials");
  }
  return url.href.replace(/\/+$/, "");
}
