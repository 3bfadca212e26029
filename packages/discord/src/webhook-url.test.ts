import { describe, expect, it } from "vitest";
import { parseApiBase, parseWebhookUrl, WebhookUrlError } from "./webhook-url.js";

const ID = "112233445566778899";
const TOKEN = "aB3_-xYz09aB3_-xYz09aB3_-xYz09aB3_-xYz09aB3_-xYz09aB3_-xYz09aB3_-xYz";

describe("parseWebhookUrl", () => {
  it.each([
    [`https://discord.com/api/webhooks/${ID}/${TOKEN}`],
    [`https://discordapp.com/api/webhooks/${ID}/${TOKEN}`],
    [`https://ptb.discord.com/api/webhooks/${ID}/${TOKEN}`],
    [`https://canary.discordapp.com/api/webhooks/${ID}/${TOKEN}`],
    [`https://discord.com/api/v10/webhooks/${ID}/${TOKEN}`],
    [`https://discord.com/api/v9/webhooks/${ID}/${TOKEN}/`],
    [`  https://discord.com/api/webhooks/${ID}/${TOKEN}\n`],
  ])("accepts %s", (url) => {
    expect(parseWebhookUrl(url)).toEqual({ id: ID, token: TOKEN });
  });

  it.each([
    ["not a url", "is not a URL"],
    [`http://discord.com/api/webhooks/${ID}/${TOKEN}`, "must start with https://"],
    [`https://evil.example/api/webhooks/${ID}/${TOKEN}`, "must be on discord.com"],
    [`https://discord.com.evil.example/api/webhooks/${ID}/${TOKEN}`, "must be on discord.com"],
    [`https://beta.discord.com/api/webhooks/${ID}/${TOKEN}`, "must be on discord.com"],
    [`https://discord.com:8443/api/webhooks/${ID}/${TOKEN}`, "without a port"],
    [`https://user:pw@discord.com/api/webhooks/${ID}/${TOKEN}`, "user name or password"],
    [`https://discord.com/api/webhooks/${ID}/${TOKEN}?wait=true`, "query or fragment"],
    [`https://discord.com/api/webhooks/${ID}/${TOKEN}#x`, "query or fragment"],
    [`https://discord.com/webhooks/${ID}/${TOKEN}`, "must have the path"],
    [`https://discord.com/api/webhooks/${ID}`, "must have the path"],
    [`https://discord.com/api/webhooks/${ID}/${TOKEN}/messages/1`, "must have the path"],
    [`https://discord.com/api/webhooks/12345/${TOKEN}`, "not a snowflake"],
    [`https://discord.com/api/webhooks/abc${ID}/${TOKEN}`, "not a snowflake"],
    [`https://discord.com/api/webhooks/${ID}/tok%20en`, "token that is not made of"],
    [`https://discord.com/api/webhooks/${ID}/tok.en`, "token that is not made of"],
    [`https://discord.com/api/webhooks/${ID}/`, "token that is not made of"],
  ])("rejects %s (%s)", (url, rule) => {
    let caught: unknown;
    try {
      parseWebhookUrl(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WebhookUrlError);
    expect((caught as WebhookUrlError).rule).toContain(rule);
    // The rule never repeats the token.
    expect((caught as Error).message).not.toContain(TOKEN);
  });
});

describe("parseApiBase", () => {
  it.each([
    ["https://discord.com/api", "https://discord.com/api"],
    ["https://discord.com/api/", "https://discord.com/api"],
    ["http://127.0.0.1:8790/api", "http://127.0.0.1:8790/api"],
    ["http://localhost:8790", "http://localhost:8790"],
    ["http://[::1]:9/api", "http://[::1]:9/api"],
  ])("accepts %s", (text, expected) => {
    expect(parseApiBase(text)).toBe(expected);
  });

  it.each([
    ["http://10.0.0.5/api", "loopback"],
    ["ftp://127.0.0.1/api", "http(s)"],
    ["https://discord.com/api?x=1", "query"],
    ["nope", "is not a URL"],
  ])("rejects %s", (text, rule) => {
    expect(() => parseApiBase(text)).toThrow(rule);
  });
});
