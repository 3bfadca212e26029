/**
 * The Discord simulator rejects what Discord rejects: tested here on its own, so that the
 * integration tests' "the server accepted it" means something.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pingsOf, validateMessage } from "./rules.js";
import { type DiscordSimulator, render, startDiscordSimulator } from "./server.js";

const embed = (extra: Record<string, unknown> = {}) => ({ title: "t", ...extra });

describe("validateMessage", () => {
  it("accepts a message exactly at the limits, counted in code points", () => {
    // 6000 code points of emoji: 12000 UTF-16 units, which a .length count would refuse.
    const body = {
      content: "😀".repeat(2000),
      embeds: [
        {
          title: "😀".repeat(256),
          description: "😀".repeat(4096),
          footer: { text: "😀".repeat(1648) },
        },
      ],
    };
    expect(validateMessage(body, true)).toBeUndefined();
  });

  it.each([
    ["content over 2000", { content: "x".repeat(2001) }, ["content"]],
    ["title over 256", { embeds: [embed({ title: "x".repeat(257) })] }, ["embeds", "0", "title"]],
    [
      "description over 4096",
      { embeds: [embed({ description: "😀".repeat(4097) })] },
      ["embeds", "0", "description"],
    ],
    [
      "26 fields",
      {
        embeds: [embed({ fields: Array.from({ length: 26 }, () => ({ name: "n", value: "v" })) })],
      },
      ["embeds", "0", "fields"],
    ],
    [
      "field value over 1024",
      { embeds: [embed({ fields: [{ name: "n", value: "x".repeat(1025) }] })] },
      ["embeds", "0", "fields", "0", "value"],
    ],
    [
      "empty field name",
      { embeds: [embed({ fields: [{ name: "", value: "v" }] })] },
      ["embeds", "0", "fields", "0", "name"],
    ],
    [
      "footer over 2048",
      { embeds: [embed({ footer: { text: "x".repeat(2049) } })] },
      ["embeds", "0", "footer", "text"],
    ],
    [
      "author over 256",
      { embeds: [embed({ author: { name: "x".repeat(257) } })] },
      ["embeds", "0", "author", "name"],
    ],
    ["11 embeds", { embeds: Array.from({ length: 11 }, () => embed()) }, ["embeds"]],
    [
      "6001 in total",
      {
        embeds: [
          embed({ title: "x", description: "x".repeat(4000) }),
          embed({ title: "", description: "x".repeat(2000) }),
        ],
      },
      ["embeds"],
    ],
    ["a colour over 24 bits", { embeds: [embed({ color: 0x1000000 })] }, ["embeds", "0", "color"]],
    ["a bad url", { embeds: [embed({ url: "not a url" })] }, ["embeds", "0", "url"]],
    [
      "users parsed and listed",
      { content: "x", allowed_mentions: { parse: ["users"], users: ["123456789012345678"] } },
      ["allowed_mentions"],
    ],
    [
      "an unknown parse value",
      { content: "x", allowed_mentions: { parse: ["all"] } },
      ["allowed_mentions", "parse", "0"],
    ],
  ])("rejects %s with 50035 at the right path", (_, body, path) => {
    const error = validateMessage(body, true);
    expect(error?.code).toBe(50035);
    expect(error?.message).toBe("Invalid Form Body");
    let node: unknown = error?.errors;
    for (const key of path) node = (node as Record<string, unknown>)[key];
    expect((node as { _errors: unknown[] })._errors.length).toBeGreaterThan(0);
  });

  it("refuses an empty message when posting, not a partial edit", () => {
    expect(validateMessage({}, true)).toEqual({
      code: 50006,
      message: "Cannot send an empty message",
    });
    expect(validateMessage({ content: "  ", embeds: [] }, true)?.code).toBe(50006);
    expect(validateMessage({ content: "" }, false)).toBeUndefined();
  });
});

describe("pingsOf", () => {
  it("pings only what allowed_mentions allows, and everything without it", () => {
    const content = "@everyone <@&111111111111111111> <@222222222222222222>";
    expect(pingsOf({ content })).toEqual([
      "@everyone",
      "role:111111111111111111",
      "user:222222222222222222",
    ]);
    expect(pingsOf({ content, allowed_mentions: { parse: [] } })).toEqual([]);
    expect(
      pingsOf({ content, allowed_mentions: { parse: [], roles: ["111111111111111111"] } }),
    ).toEqual(["role:111111111111111111"]);
  });
});

describe("the simulator over HTTP", () => {
  let sim: DiscordSimulator;
  beforeAll(async () => {
    sim = await startDiscordSimulator();
  });
  afterAll(async () => {
    await sim.close();
  });

  async function call(method: string, path: string, body?: string) {
    const res = await fetch(`${sim.apiBase}/v10${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body }),
    });
    return {
      status: res.status,
      headers: res.headers,
      body: (await res.json().catch(() => null)) as Record<string, unknown> | null,
    };
  }

  it("answers like Discord: unknown webhook, wrong token, bad JSON, unknown message", async () => {
    const hook = sim.addWebhook();
    const ok = JSON.stringify({ content: "hi" });
    expect((await call("POST", `/webhooks/999999999999999999/${hook.token}`, ok)).body).toEqual({
      message: "Unknown Webhook",
      code: 10015,
    });
    expect(await call("POST", `/webhooks/${hook.id}/wrong`, ok)).toMatchObject({
      status: 401,
      body: { code: 50027 },
    });
    expect(await call("POST", `/webhooks/${hook.id}/${hook.token}`, "{not json")).toMatchObject({
      status: 400,
      body: { code: 50109, message: "The request body contains invalid JSON." },
    });
    expect(
      await call("PATCH", `/webhooks/${hook.id}/${hook.token}/messages/111111111111111111`, ok),
    ).toMatchObject({
      status: 404,
      body: { code: 10008, message: "Unknown Message" },
    });
    // wait=true returns the message; without it, 204 and no body.
    const posted = await call("POST", `/webhooks/${hook.id}/${hook.token}?wait=true`, ok);
    expect(posted.status).toBe(200);
    expect(posted.headers.get("x-ratelimit-limit")).toBe("5");
    expect((await call("POST", `/webhooks/${hook.id}/${hook.token}`, ok)).status).toBe(204);
    const id = posted.body!.id as string;
    const edited = await call(
      "PATCH",
      `/webhooks/${hook.id}/${hook.token}/messages/${id}`,
      JSON.stringify({ content: "" }),
    );
    expect(edited).toMatchObject({ status: 400, body: { code: 50006 } });
    // Past the bucket's 5 requests in 2 s (hence a second webhook): a deleted one is 10015.
    const other = sim.addWebhook();
    const kept = await call("POST", `/webhooks/${other.id}/${other.token}?wait=true`, ok);
    sim.deleteWebhook(other.id);
    const gone = await call(
      "GET",
      `/webhooks/${other.id}/${other.token}/messages/${kept.body!.id}`,
    );
    expect(gone).toMatchObject({ status: 404, body: { code: 10015, message: "Unknown Webhook" } });
  });

  it("answers 429 with Discord's body and headers, on demand and past the bucket", async () => {
    const hook = sim.addWebhook();
    sim.enqueue({ kind: "rate-limit", retryAfterSeconds: 1.5 });
    const limited = await call(
      "POST",
      `/webhooks/${hook.id}/${hook.token}`,
      JSON.stringify({ content: "x" }),
    );
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      message: "You are being rate limited.",
      retry_after: 1.5,
      global: false,
    });
    expect(limited.headers.get("retry-after")).toBe("1.5");
    expect(limited.headers.get("x-ratelimit-scope")).toBe("user");
    // A client that ignores X-RateLimit-Remaining: 0 gets a 429 from the bucket itself.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      statuses.push(
        (await call("POST", `/webhooks/${hook.id}/${hook.token}`, JSON.stringify({ content: "x" })))
          .status,
      );
    }
    expect(statuses).toContain(429);
  });

  it("renders a message as Discord would show it", () => {
    const text = render({
      content: "<@&111111111111111111> failed",
      pings: ["role:111111111111111111"],
      embeds: [
        {
          title: "❌ Deploy failed",
          url: "https://github.com/acme/shop/actions/runs/1",
          color: 0xe74c3c,
          description: "see [the run](https://github.com/acme/shop/actions/runs/1)",
          fields: [
            { name: "Environment", value: "prod", inline: true },
            { name: "Version", value: "`1.0.0`", inline: true },
          ],
          footer: { text: "smoker" },
        },
      ],
    });
    expect(text).toContain("pings: role:111111111111111111");
    expect(text).toContain("colour #e74c3c");
    expect(text).toContain("**❌ Deploy failed** <https://github.com/acme/shop/actions/runs/1>");
    expect(text).toContain("see the run <https://github.com/acme/shop/actions/runs/1>");
    expect(text).toContain("Environment: prod  │  Version: `1.0.0`");
  });
});
