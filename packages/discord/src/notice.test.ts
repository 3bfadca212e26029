import { describe, expect, it } from "vitest";
import type { ServiceImage } from "./deployment.js";
import { parseDeploymentImages } from "./deployment.js";
import { charCount, LIMITS, markdownClosers } from "./limits.js";
import {
  buildNotice,
  colorOf,
  formatDuration,
  messageEmbedChars,
  type NoticeInput,
  type RunContext,
  runContextFromEnv,
  STATUSES,
} from "./notice.js";

const RUN: RunContext = {
  serverUrl: "https://github.com",
  repository: "acme/shop",
  runId: "987654321",
  runAttempt: "1",
  sha: "0123456789abcdef0123456789abcdef01234567",
  actor: "alice",
  workflow: "deploy",
};
const AT = new Date("2025-01-02T03:04:05.000Z");

function notice(extra: Partial<NoticeInput> = {}) {
  return buildNotice({ status: "success", run: RUN, at: AT, ...extra });
}

function services(n: number): ServiceImage[] {
  return Array.from({ length: n }, (_, i) => ({
    service: `service-${String(i).padStart(2, "0")}`,
    image: `registry.example:5000/acme/service-${i}:1.2.3`,
    digest: `sha256:${"0123456789abcdef".repeat(4)}`,
  }));
}

/** Every limit Discord enforces on the message. */
function expectWithinLimits(message: ReturnType<typeof buildNotice>) {
  expect(message.embeds.length).toBeLessThanOrEqual(LIMITS.embeds);
  expect(charCount(message.content)).toBeLessThanOrEqual(LIMITS.content);
  expect(messageEmbedChars(message)).toBeLessThanOrEqual(LIMITS.totalEmbedChars);
  for (const embed of message.embeds) {
    expect(charCount(embed.title ?? "")).toBeLessThanOrEqual(LIMITS.title);
    expect(charCount(embed.description ?? "")).toBeLessThanOrEqual(LIMITS.description);
    expect(charCount(embed.footer?.text ?? "")).toBeLessThanOrEqual(LIMITS.footerText);
    expect(charCount(embed.author?.name ?? "")).toBeLessThanOrEqual(LIMITS.authorName);
    expect((embed.fields ?? []).length).toBeLessThanOrEqual(LIMITS.fields);
    for (const f of embed.fields ?? []) {
      expect(charCount(f.name)).toBeGreaterThan(0);
      expect(charCount(f.value)).toBeGreaterThan(0);
      expect(charCount(f.name)).toBeLessThanOrEqual(LIMITS.fieldName);
      expect(charCount(f.value)).toBeLessThanOrEqual(LIMITS.fieldValue);
      expect(markdownClosers(f.value)).toBe("");
    }
    expect(markdownClosers(embed.description ?? "")).toBe("");
  }
}

describe("buildNotice", () => {
  it("builds the success embed: colour, title, links, fields, footer", () => {
    const message = notice({
      environment: "production",
      version: "1.2.3",
      durationMs: 83_000,
      services: [
        { service: "backend", image: "reg/backend:1.2.3", digest: "sha256:abcdef0123456789ff" },
      ],
    });
    expect(message).toEqual({
      content: "",
      allowed_mentions: { parse: [] },
      embeds: [
        {
          title: "✅ Deployed 1.2.3 to production",
          url: "https://github.com/acme/shop/actions/runs/987654321",
          color: 0x2ecc71,
          author: { name: "acme/shop", url: "https://github.com/acme/shop" },
          footer: { text: "smoker · deploy · by alice" },
          timestamp: "2025-01-02T03:04:05.000Z",
          fields: [
            { name: "Environment", value: "production", inline: true },
            { name: "Version", value: "`1.2.3`", inline: true },
            { name: "Duration", value: "1m 23s", inline: true },
            {
              name: "Commit",
              value:
                "[`0123456`](https://github.com/acme/shop/commit/0123456789abcdef0123456789abcdef01234567)",
              inline: true,
            },
            {
              name: "Run",
              value: "[#987654321](https://github.com/acme/shop/actions/runs/987654321)",
              inline: true,
            },
            { name: "backend", value: "`reg/backend:1.2.3`\n`sha256:abcdef012345`", inline: true },
          ],
        },
      ],
    });
  });

  it("gives each status its own colour and title", () => {
    const colours = new Set(STATUSES.map(colorOf));
    expect(colours.size).toBe(STATUSES.length);
    const titles = STATUSES.map(
      (status) => notice({ status, environment: "dev", version: "2.0.0" }).embeds[0]!.title,
    );
    expect(titles).toEqual([
      "✅ Deployed 2.0.0 to dev",
      "❌ Deploy of 2.0.0 to dev failed",
      "⚪ Deploy of 2.0.0 to dev cancelled",
      "🚀 Deploying 2.0.0 to dev…",
      "↩️ Deploy 2.0.0 on dev failed and was rolled back",
    ]);
  });

  it("keeps a custom title behind the status emoji, and says which attempt re-ran", () => {
    const message = notice({ title: "Nightly", run: { ...RUN, runAttempt: "2" } });
    expect(message.embeds[0]!.title).toBe("✅ Nightly");
    expect(message.embeds[0]!.fields!.at(-1)!.value).toContain("(attempt 2)");
  });

  it("works without any GitHub context", () => {
    const message = buildNotice({ status: "started", run: runContextFromEnv({}), at: AT });
    expect(message.embeds[0]).toEqual({
      title: "🚀 Deploying…",
      color: 0x3498db,
      footer: { text: "smoker" },
      timestamp: AT.toISOString(),
    });
  });

  it("shows 40 services within 25 fields, the rest named in the last one", () => {
    const message = notice({
      environment: "dev",
      version: "1",
      services: services(40),
      durationMs: 5,
    });
    expectWithinLimits(message);
    const fields = message.embeds[0]!.fields!;
    expect(fields).toHaveLength(25);
    // 5 run fields, 19 services, 1 summary naming the 21 others.
    expect(fields[5]!.name).toBe("service-00");
    expect(fields[23]!.name).toBe("service-18");
    expect(fields[24]!.name).toBe("+21 more services");
    expect(fields[24]!.value).toBe(
      Array.from({ length: 21 }, (_, i) => `service-${i + 19}`).join(", "),
    );
  });

  it("keeps the total within 6000 when details are huge, giving the description at least 1024", () => {
    const details = `${"Commit message with **bold** and words. ".repeat(300)}`;
    const message = notice({ details, services: services(40), environment: "prod", version: "9" });
    expectWithinLimits(message);
    const embed = message.embeds[0]!;
    expect(charCount(embed.description!)).toBeGreaterThanOrEqual(1024);
    expect(embed.description!.endsWith("…")).toBe(true);
    // Services made room: fewer than 19 shown, the summary counts the rest.
    const summary = embed.fields!.at(-1)!;
    expect(summary.name).toMatch(/^\+\d+ more services$/);
    const shown = embed.fields!.filter((f) => f.name.startsWith("service-")).length;
    expect(shown + Number(summary.name.match(/\d+/)![0])).toBe(40);
  });

  it("fits a description of 4096 emoji (code points, not UTF-16 units)", () => {
    const message = notice({ details: "😀".repeat(5000) });
    expectWithinLimits(message);
    expect(charCount(message.embeds[0]!.description!)).toBe(LIMITS.description);
  });

  it("closes a code block left open by the details", () => {
    const message = notice({ details: "error:\n```\nstack trace line" });
    expect(message.embeds[0]!.description).toBe("error:\n```\nstack trace line\n```");
  });

  it("truncates over-long names, versions and titles", () => {
    const long = "x".repeat(3000);
    const message = notice({
      title: long,
      environment: long,
      version: long,
      run: { ...RUN, repository: `acme/${long}`, workflow: long },
      services: [{ service: long, image: long, digest: null }],
    });
    expectWithinLimits(message);
  });

  it("makes every mention inert except the failure ping", () => {
    const details = "@everyone @here <@&111111111111111111> <@222222222222222222> look";
    const success = notice({ details, mention: { kind: "role", id: "333333333333333333" } });
    expect(success.allowed_mentions).toEqual({ parse: [] });
    expect(success.content).toBe("");

    const failure = notice({
      status: "failure",
      details,
      mention: { kind: "role", id: "333333333333333333" },
    });
    expect(failure.allowed_mentions).toEqual({ parse: [], roles: ["333333333333333333"] });
    expect(failure.content).toBe(
      "<@&333333333333333333> ❌ Deploy failed\nhttps://github.com/acme/shop/actions/runs/987654321",
    );
    const user = notice({ status: "failure", mention: { kind: "user", id: "444444444444444444" } });
    expect(user.allowed_mentions).toEqual({ parse: [], users: ["444444444444444444"] });
    expect(user.content.startsWith("<@444444444444444444> ")).toBe(true);
  });

  it("replaces backticks inside code spans so they cannot end them early", () => {
    const message = notice({ version: "1`2" });
    expect(message.embeds[0]!.fields![0]!.value).toBe("`1'2`");
  });
});

describe("formatDuration", () => {
  it.each([
    [850, "850 ms"],
    [42_000, "42 s"],
    [187_000, "3m 07s"],
    [3_720_000, "1h 02m"],
  ])("%d ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("parseDeploymentImages", () => {
  it("reads deploy-compose's images output", () => {
    const json = JSON.stringify({
      backend: { image: "reg/backend:1", digest: "sha256:aa" },
      db: { image: "mongo:7", digest: null },
    });
    expect(parseDeploymentImages(json)).toEqual([
      { service: "backend", image: "reg/backend:1", digest: "sha256:aa" },
      { service: "db", image: "mongo:7", digest: null },
    ]);
  });

  it.each([
    ["not json", "must be JSON"],
    ["[]", "JSON object"],
    ['{"a": {"digest": "x"}}', 'no image (a string) for service "a"'],
    ['{"a": {"image": "x", "digest": 5}}', "not a string"],
  ])("rejects %s", (text, rule) => {
    expect(() => parseDeploymentImages(text)).toThrow(rule);
  });
});
