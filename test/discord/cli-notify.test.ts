import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "@smoker/cli";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type DiscordSimulator, startDiscordSimulator } from "./server.js";

// `smoker notify`: the discord-notify action's code from a terminal, the URL read from a file.
let sim: DiscordSimulator;
beforeAll(async () => {
  sim = await startDiscordSimulator();
});
afterAll(() => sim.close());

test("smoker notify posts, then edits the same message to the outcome; the token stays out", async () => {
  const hook = sim.addWebhook();
  const dir = mkdtempSync(join(tmpdir(), "smoker-notify-"));
  writeFileSync(join(dir, "webhook"), `${hook.url}\n`);
  const out: string[] = [];
  const io = {
    out: (t: string) => out.push(t),
    err: (t: string) => out.push(t),
    tty: false,
    cwd: dir,
    env: {},
  };
  const common = [
    "--webhook-url-file",
    "webhook",
    "--api-base-url",
    sim.apiBase,
    "--environment",
    "dev",
  ];

  expect(await main(["notify", ...common, "--status", "started", "--version", "1.2.3"], io)).toBe(
    0,
  );
  const id = /message (\d+)/.exec(out.join(""))?.[1];
  expect(id).toBeDefined();
  expect(
    await main(
      ["notify", ...common, "--status", "success", "--message-id", id!, "--version", "1.2.3"],
      io,
    ),
  ).toBe(0);

  expect([...sim.messages.keys()]).toEqual([id]);
  const message = sim.messages.get(id!)!;
  expect(message.edited_timestamp).not.toBeNull();
  expect(JSON.stringify(message.embeds)).toMatch(/success|Success|deployed|Deployed/);
  expect(out.join("")).not.toContain(hook.token);
  expect(out.join("")).not.toContain("add-mask");
});

test("smoker notify takes the webhook URL from a file only, never from a flag", async () => {
  const out: string[] = [];
  const io = {
    out: (t: string) => out.push(t),
    err: (t: string) => out.push(t),
    tty: false,
    cwd: tmpdir(),
    env: {},
  };
  // --webhook-url is not read: secrets come from files only, so the input is missing.
  const code = await main(
    ["notify", "--webhook-url", "https://discord.com/api/webhooks/1/x", "--status", "success"],
    io,
  );
  expect(code).toBe(1);
  expect(out.join("")).toMatch(/webhook-url/);
});
