import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { main, parseFlags, sourceFrom } from "./cli.js";

function io(cwd = process.cwd()) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      tty: false,
      cwd,
      env: {},
    },
    out,
    err,
  };
}

describe("flags", () => {
  test.each([
    [
      ["--host", "h", "--port=2222", "--force-unlock"],
      { host: "h", port: "2222", "force-unlock": "true" },
    ],
    [["--version", "1.0.0", "--services", "a,b"], { version: "1.0.0", services: "a,b" }],
    [["--env-file=secrets.env"], { "env-file": "secrets.env" }],
  ])("%j", (args, expected) => {
    expect(parseFlags(args, process.cwd())).toEqual(expected);
  });

  test("a positional argument is an error that says how flags look", () => {
    expect(() => parseFlags(["oops"], process.cwd())).toThrow(/--name value/);
  });

  test("a config target fills what the flags leave out; flags win", () => {
    const dir = mkdtempSync(join(tmpdir(), "smoker-cli-"));
    writeFileSync(
      join(dir, "smoker.json"),
      JSON.stringify({ targets: { dev: { host: "10.0.0.5", port: 2200 } } }),
    );
    expect(
      parseFlags(["--config", "smoker.json", "--target", "dev", "--port", "22"], dir),
    ).toMatchObject({
      host: "10.0.0.5",
      port: "22",
    });
    expect(() => parseFlags(["--config", "smoker.json", "--target", "prod"], dir)).toThrow(
      /not in smoker.json/,
    );
  });
});

describe("commands", () => {
  test("bad input fails before connecting, naming the input, and never echoes ::add-mask::", async () => {
    const dir = mkdtempSync(join(tmpdir(), "smoker-cli-"));
    writeFileSync(
      join(dir, "key"),
      "-----BEGIN OPENSSH PRIVATE KEY-----\nsecretmaterial\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    writeFileSync(join(dir, "docker-compose.yml"), "services: {}\n");
    const run = io(dir);
    const code = await main(
      [
        "deploy",
        "--host",
        "10.0.0.5",
        "--private-key-file",
        "key",
        "--host-fingerprint",
        "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
        "--version",
        "1.0;touch /tmp/pwn",
      ],
      run.io,
    );
    expect(code).toBe(1);
    expect(run.err.join("")).toContain('Input "version" must match');
    expect([...run.out, ...run.err].join("")).not.toMatch(/add-mask|secretmaterial/);
  });

  test.each([
    ["funnel", /Input "(host|config)"/],
    ["fleet", /Input "(private-key|devices|mode)"/],
    ["provision", /api-url|token/],
  ])("smoker %s is routed to its command: missing input is named", async (command, input) => {
    const run = io();
    expect(await main([command], run.io)).toBe(1);
    expect(run.err.join("")).not.toContain("unknown command");
    expect(run.err.join("")).toMatch(input);
  });

  test("an unknown command prints the usage and exits 2", async () => {
    const run = io();
    expect(await main(["deplo"], run.io)).toBe(2);
    expect(run.err.join("")).toContain("unknown command");
  });
});

describe("inputs from flags and files", () => {
  test("any input from --NAME-file (one line loses its line break); secrets from files only", () => {
    const dir = mkdtempSync(join(tmpdir(), "smoker-cli-"));
    writeFileSync(join(dir, "token"), "s3cret\n");
    writeFileSync(join(dir, "key"), "-----BEGIN KEY-----\nabc\n-----END KEY-----\n");
    const source = sourceFrom(
      {
        "token-secret-file": "token",
        "private-key-file": "key",
        passphrase: "typed-on-the-command-line",
        version: "1.0.0",
        "version-file": "token",
      },
      dir,
    );
    expect(source("token-secret")).toBe("s3cret");
    expect(source("private-key")).toBe("-----BEGIN KEY-----\nabc\n-----END KEY-----\n");
    expect(source("passphrase")).toBe("");
    expect(source("version")).toBe("s3cret");
    expect(source("host")).toBe("");
  });
});

describe("smoker health", () => {
  test("durations are parsed like the action's inputs, and bad ones are named", async () => {
    const server = await import("node:http").then(({ createServer }) =>
      createServer((_, res) => res.end("ok")).listen(0, "127.0.0.1"),
    );
    await new Promise((r) => server.once("listening", r));
    const { port } = server.address() as { port: number };
    try {
      const ok = io();
      expect(
        await main(
          [
            "health",
            "--urls",
            `http://127.0.0.1:${port}/health`,
            "--timeout",
            "1m",
            "--success-threshold",
            "1",
          ],
          ok.io,
        ),
      ).toBe(0);
      expect(ok.out.join("")).toContain("healthy");
      const bad = io();
      expect(
        await main(["health", "--urls", `http://127.0.0.1:${port}/`, "--timeout", "soon"], bad.io),
      ).toBe(1);
      expect(bad.err.join("")).toContain('Input "timeout"');
    } finally {
      server.close();
    }
  });
});
