/**
 * discord-notify, bundled and run under node 24 the way a runner runs it, against the local
 * Discord simulator (server.ts), which rejects what Discord rejects. No lab needed.
 */
import { createServer } from "node:net";
import { join } from "node:path";
import { type ActionResult, assertNoSecrets, runBundled } from "@smoker/action-kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codePoints, EMBED_LIMITS, validateMessage } from "./rules.js";
import { type DiscordSimulator, render, type SimMessage, startDiscordSimulator } from "./server.js";

// A surrogate not paired with its other half: what a cut through a pair leaves.
const LONE_SURROGATE = /\p{Surrogate}/u;

const ROOT = new URL("../..", import.meta.url).pathname;
const ENTRY = join(ROOT, "dist", "discord-notify", "index.js");
const ROLE = "123456789012345678";

const GITHUB_ENV = {
  GITHUB_SERVER_URL: "https://github.com",
  GITHUB_REPOSITORY: "acme/shop",
  GITHUB_RUN_ID: "4242",
  GITHUB_RUN_ATTEMPT: "1",
  GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
  GITHUB_ACTOR: "alice",
  GITHUB_WORKFLOW: "deploy",
};

let sim: DiscordSimulator;

beforeAll(async () => {
  sim = await startDiscordSimulator();
});

afterAll(async () => {
  await sim?.close();
});

function notify(inputs: Record<string, string>, apiBase = sim.apiBase): Promise<ActionResult> {
  return runBundled(ENTRY, {
    inputs: { "api-base-url": apiBase, ...inputs },
    env: GITHUB_ENV,
    timeoutMs: 60_000,
    ...(process.env.SMOKER_NODE24 ? { node: process.env.SMOKER_NODE24 } : {}),
  });
}

function requestsTo(id: string) {
  return sim.requests.filter((r) => r.path.startsWith(`/webhooks/${id}/`));
}

function messagesOf(id: string): SimMessage[] {
  return [...sim.messages.values()].filter((m) => m.webhook_id === id);
}

function warnings(result: ActionResult): string[] {
  return result.annotations.filter((a) => a.level === "warning").map((a) => a.message);
}

function images(n: number): string {
  return JSON.stringify(
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [
        `svc-${String(i).padStart(2, "0")}`,
        { image: `10.231.0.1:5000/shop/svc-${i}:2.0.0`, digest: `sha256:${"ab".repeat(32)}` },
      ]),
    ),
  );
}

describe("discord-notify (bundled, against the Discord simulator)", () => {
  it("posts 'started', then edits that same message to the outcome", async () => {
    const hook = sim.addWebhook();
    const common = { "webhook-url": hook.url, environment: "production", version: "2.0.0" };

    const started = await notify({ ...common, status: "started" });
    expect(started.exitCode).toBe(0);
    const id = started.outputs["message-id"]!;
    expect(id).toMatch(/^[0-9]{17,20}$/);

    const done = await notify({
      ...common,
      status: "success",
      "message-id": id,
      deployment: JSON.stringify({
        backend: {
          image: "10.231.0.1:5000/shop/backend:2.0.0",
          digest: `sha256:${"c".repeat(64)}`,
        },
        db: { image: "mongo:7", digest: null },
      }),
    });
    expect(done.exitCode).toBe(0);
    expect(done.outputs["message-id"]).toBe(id);

    // One message on the server, now showing the outcome.
    const messages = messagesOf(hook.id);
    expect(messages.map((m) => m.id)).toEqual([id]);
    const [final] = messages;
    expect(final!.edited_timestamp).not.toBeNull();
    const embed = final!.embeds[0] as {
      title: string;
      color: number;
      url: string;
      fields: Array<{ name: string; value: string }>;
    };
    expect(embed.title).toBe("✅ Deployed 2.0.0 to production");
    expect(embed.color).toBe(0x2ecc71);
    expect(embed.url).toBe("https://github.com/acme/shop/actions/runs/4242");
    const byName = Object.fromEntries(embed.fields.map((f) => [f.name, f.value]));
    expect(byName.backend).toBe("`10.231.0.1:5000/shop/backend:2.0.0`\n`sha256:cccccccccccc`");
    expect(byName.db).toBe("`mongo:7`\nno digest");
    expect(byName.Duration).toMatch(/^\d+ (ms|s)$/);
    expect(byName.Commit).toContain("https://github.com/acme/shop/commit/0123456789abcdef");

    // Posted with wait=true, then read (for the duration) and edited.
    expect(requestsTo(hook.id).map((r) => `${r.method} ${r.status} ${r.query.wait ?? ""}`)).toEqual(
      ["POST 200 true", "GET 200 ", "PATCH 200 "],
    );
    for (const result of [started, done]) assertNoSecrets(result, [hook.token, hook.url]);
    expect(render(final!)).toContain("✅ Deployed 2.0.0 to production");
  });

  it("stays within every Discord limit with long details and 40 services", async () => {
    const hook = sim.addWebhook();
    const details = [
      "Commits:",
      ...Array.from(
        { length: 5 },
        (_, i) => `- **fix ${i}**: handle \`edge case\` 😀 in the 👍🏽 path`,
      ),
      "```",
      ...Array.from({ length: 200 }, (_, i) => `log line ${i}: something went wrong here`),
    ].join("\n");
    const result = await notify({
      "webhook-url": hook.url,
      status: "failure",
      environment: "production",
      version: "2.0.0",
      details,
      deployment: images(40),
      "mention-on-failure": `role:${ROLE}`,
    });
    expect(result.exitCode).toBe(0);
    expect(warnings(result)).toEqual([]);
    const posts = requestsTo(hook.id).filter((r) => r.method === "POST");
    expect(posts.map((r) => r.status)).toEqual([200]);
    // The simulator accepted it; check the body against the limits here too.
    const body = posts[0]!.body as { content: string; embeds: Array<Record<string, unknown>> };
    expect(validateMessage(body, true)).toBeUndefined();
    expect(body.embeds.length).toBeLessThanOrEqual(EMBED_LIMITS.embeds);
    const embed = body.embeds[0] as {
      description: string;
      fields: Array<{ name: string; value: string }>;
    };
    expect(embed.fields.length).toBe(EMBED_LIMITS.fields);
    expect(embed.fields.at(-1)!.name).toMatch(/^\+\d+ more services$/);
    expect(codePoints(embed.description)).toBeLessThanOrEqual(EMBED_LIMITS.description);
    // Cut inside the log block: the block is closed again, the cut marked.
    expect(embed.description.endsWith("…\n```")).toBe(true);
    expect(embed.description.match(/```/g)!.length % 2).toBe(0);
    expect(embed.description).not.toMatch(LONE_SURROGATE);
    const total = body.embeds.reduce((sum, e) => {
      const x = e as {
        title?: string;
        description?: string;
        footer?: { text: string };
        author?: { name: string };
        fields?: Array<{ name: string; value: string }>;
      };
      return (
        sum +
        codePoints(x.title ?? "") +
        codePoints(x.description ?? "") +
        codePoints(x.footer?.text ?? "") +
        codePoints(x.author?.name ?? "") +
        (x.fields ?? []).reduce((n, f) => n + codePoints(f.name) + codePoints(f.value), 0)
      );
    }, 0);
    expect(total).toBeLessThanOrEqual(EMBED_LIMITS.total);
    assertNoSecrets(result, [hook.token, hook.url]);
  });

  it("keeps @everyone from commit text inert; only the failure role is pinged", async () => {
    const hook = sim.addWebhook();
    const details = "Merged: @everyone please look <@&999999999999999999> @here";
    const ok = await notify({
      "webhook-url": hook.url,
      status: "success",
      details,
      "mention-on-failure": `role:${ROLE}`,
    });
    const failed = await notify({
      "webhook-url": hook.url,
      status: "failure",
      details,
      "mention-on-failure": `<@&${ROLE}>`,
    });
    expect([ok.exitCode, failed.exitCode]).toEqual([0, 0]);
    const [success, failure] = messagesOf(hook.id);
    expect(success!.allowed_mentions).toEqual({ parse: [] });
    expect(success!.pings).toEqual([]);
    expect(failure!.allowed_mentions).toEqual({ parse: [], roles: [ROLE] });
    expect(failure!.pings).toEqual([`role:${ROLE}`]);
    // The text is still there, as plain text.
    expect(JSON.stringify(failure!.embeds)).toContain("@everyone please look");
  });

  it("edits to failure and pings in a new message (an edit does not notify)", async () => {
    const hook = sim.addWebhook();
    const started = await notify({ "webhook-url": hook.url, status: "started" });
    const id = started.outputs["message-id"]!;
    const failed = await notify({
      "webhook-url": hook.url,
      status: "failure",
      "message-id": id,
      "mention-on-failure": `user:${ROLE}`,
    });
    expect(failed.outputs["message-id"]).toBe(id);
    const [edited, ping] = messagesOf(hook.id);
    expect(edited!.id).toBe(id);
    expect(edited!.content).toBe("");
    expect((edited!.embeds[0] as { color: number }).color).toBe(0xe74c3c);
    expect(ping!.content.startsWith(`<@${ROLE}> ❌ Deploy failed`)).toBe(true);
    expect(ping!.pings).toEqual([`user:${ROLE}`]);
  });

  it("waits out a 429 and posts once", async () => {
    const hook = sim.addWebhook();
    sim.enqueue({ kind: "rate-limit", retryAfterSeconds: 0.3 });
    const result = await notify({ "webhook-url": hook.url, status: "success" });
    expect(result.exitCode).toBe(0);
    expect(warnings(result)).toEqual([]);
    expect(requestsTo(hook.id).map((r) => r.status)).toEqual([429, 200]);
    expect(messagesOf(hook.id)).toHaveLength(1);
    expect(result.log).toContain("Discord rate limit");
  });

  it("gives up after a bounded number of 429s, with a warning and exit 0", async () => {
    const hook = sim.addWebhook();
    sim.enqueue(
      ...Array.from({ length: 6 }, () => ({ kind: "rate-limit" as const, retryAfterSeconds: 0.1 })),
    );
    const result = await notify({ "webhook-url": hook.url, status: "success" });
    expect(result.exitCode).toBe(0);
    expect(warnings(result).join("\n")).toContain("kept rate limiting");
    // 1 try + 3 waits, then it stops: the other queued 429s were never asked for.
    expect(requestsTo(hook.id).map((r) => r.status)).toEqual([429, 429, 429, 429]);
    expect(messagesOf(hook.id)).toHaveLength(0);
    sim.clearFaults();
  });

  it("survives two 500s with backoff", async () => {
    const hook = sim.addWebhook();
    sim.enqueue({ kind: "status", status: 500 }, { kind: "status", status: 502 });
    const result = await notify({ "webhook-url": hook.url, status: "success" });
    expect(result.exitCode).toBe(0);
    expect(requestsTo(hook.id).map((r) => r.status)).toEqual([500, 502, 200]);
    expect(messagesOf(hook.id)).toHaveLength(1);
    expect(result.log).toMatch(/retry 1 of 3.*\n(.*\n)*.*retry 2 of 3/);
  });

  it("reports a deleted webhook (404 Unknown Webhook): a warning, or a failure with fail-on-error", async () => {
    const hook = sim.addWebhook();
    sim.deleteWebhook(hook.id);
    const soft = await notify({ "webhook-url": hook.url, status: "success" });
    expect(soft.exitCode).toBe(0);
    expect(warnings(soft).join("\n")).toContain("the webhook was deleted");
    expect(soft.outputs["message-id"]).toBe("");
    const hard = await notify({
      "webhook-url": hook.url,
      status: "success",
      "fail-on-error": "true",
    });
    expect(hard.exitCode).not.toBe(0);
    expect(hard.annotations.find((a) => a.level === "error")?.message).toContain(
      "the webhook was deleted",
    );
    // A 404 is not retried.
    expect(requestsTo(hook.id)).toHaveLength(2);
    for (const result of [soft, hard]) assertNoSecrets(result, [hook.token, hook.url]);
  });

  it("does not fail the deploy when Discord cannot be reached, unless told to", async () => {
    // A port nothing listens on: connection refused.
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const hook = sim.addWebhook();
    const base = `http://127.0.0.1:${closed}/api`;
    const soft = await notify({ "webhook-url": hook.url, status: "failure" }, base);
    expect(soft.exitCode).toBe(0);
    expect(warnings(soft).join("\n")).toContain("could not reach Discord");
    const hard = await notify(
      { "webhook-url": hook.url, status: "failure", "fail-on-error": "true" },
      base,
    );
    expect(hard.exitCode).toBe(1);
    for (const result of [soft, hard]) assertNoSecrets(result, [hook.token, hook.url]);
  });

  it("bounds a slow server by the timeout", async () => {
    const hook = sim.addWebhook();
    sim.enqueue(...Array.from({ length: 4 }, () => ({ kind: "slow" as const, delayMs: 2500 })));
    const result = await notify({ "webhook-url": hook.url, status: "success", timeout: "1s" });
    expect(result.exitCode).toBe(0);
    expect(warnings(result).join("\n")).toContain("did not answer the post within 1000 ms");
    assertNoSecrets(result, [hook.token, hook.url]);
  });

  it("posts anew when the message to edit was deleted", async () => {
    const hook = sim.addWebhook();
    const result = await notify({
      "webhook-url": hook.url,
      status: "success",
      "message-id": "111111111111111111",
    });
    expect(result.exitCode).toBe(0);
    expect(warnings(result).join("\n")).toContain("is gone");
    const [posted] = messagesOf(hook.id);
    expect(result.outputs["message-id"]).toBe(posted!.id);
  });

  it("rejects a malformed webhook URL before sending anything, without echoing it", async () => {
    const before = sim.requests.length;
    const url = "https://discord.com/api/webhooks/12345/secret-token-value";
    const result = await notify({ "webhook-url": url, status: "success" });
    expect(result.exitCode).toBe(1);
    const error = result.annotations.find((a) => a.level === "error")?.message ?? "";
    expect(error).toContain('Input "webhook-url" must be a Discord webhook URL');
    expect(sim.requests.length).toBe(before);
    assertNoSecrets(result, [url, "secret-token-value"]);
  });
});
