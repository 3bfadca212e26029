import { InputError } from "@smoker/action-kit";
import { describe, expect, it } from "vitest";
import { parseMention, readNotifyInputs as readInputs } from "./inputs.js";

const URL = "https://discord.com/api/webhooks/112233445566778899/tok_en-123";

function source(values: Record<string, string>) {
  return (name: string) => values[name] ?? "";
}

describe("readInputs", () => {
  it("parses every input into settings", () => {
    const settings = readInputs(
      source({
        "webhook-url": URL,
        status: "rolled-back",
        environment: "production",
        deployment: '{"web": {"image": "nginx:1", "digest": null}}',
        "message-id": "1234567890123456789",
        "mention-on-failure": "<@&123456789012345678>",
        "api-base-url": "http://127.0.0.1:9/api/",
        timeout: "5s",
      }),
    );
    expect(settings).toMatchObject({
      webhook: { id: "112233445566778899", token: "tok_en-123" },
      status: "rolled-back",
      environment: "production",
      services: [{ service: "web", image: "nginx:1", digest: null }],
      messageId: "1234567890123456789",
      mention: { kind: "role", id: "123456789012345678" },
      failOnError: false,
      timeoutMs: 5000,
      apiBase: "http://127.0.0.1:9/api",
    });
  });

  it.each([
    [{ status: "success" }, "webhook-url", "is required"],
    [
      { "webhook-url": "https://example.com/x", status: "success" },
      "webhook-url",
      "must be on discord.com",
    ],
    [{ "webhook-url": URL, status: "done" }, "status", ""],
    [{ "webhook-url": URL, status: "success", deployment: "[1]" }, "deployment", "JSON object"],
    [{ "webhook-url": URL, status: "success", "message-id": "42" }, "message-id", ""],
    [
      { "webhook-url": URL, status: "success", "api-base-url": "http://10.0.0.1/api" },
      "api-base-url",
      "loopback",
    ],
  ])("rejects %j naming %s", (values, input, rule) => {
    let caught: unknown;
    try {
      readInputs(source(values));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).input).toBe(input);
    expect((caught as InputError).message).toContain(rule);
    expect((caught as InputError).message).not.toContain("tok_en-123");
  });
});

describe("parseMention", () => {
  it.each([
    ["role:123456789012345678", { kind: "role", id: "123456789012345678" }],
    ["<@&123456789012345678>", { kind: "role", id: "123456789012345678" }],
    ["user:123456789012345678", { kind: "user", id: "123456789012345678" }],
    ["<@123456789012345678>", { kind: "user", id: "123456789012345678" }],
    ["<@!123456789012345678>", { kind: "user", id: "123456789012345678" }],
  ])("%s", (text, mention) => {
    expect(parseMention(text)).toEqual(mention);
  });

  it.each(["123456789012345678", "@everyone", "role:12", "<@&abc>"])("rejects %s", (text) => {
    expect(() => parseMention(text)).toThrow(InputError);
  });
});
