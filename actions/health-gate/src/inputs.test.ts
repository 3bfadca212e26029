import { readFileSync } from "node:fs";
import { InputError } from "@smoker/action-kit";
import { connectionInputs } from "@smoker/remote";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { type GateSettings, readInputs, spec } from "./inputs.js";

const from = (values: Record<string, string>) => (name: string) => values[name] ?? "";

describe("readInputs", () => {
  test.each<[string, Record<string, string>, GateSettings]>([
    [
      "urls with every default",
      { urls: "http://10.0.0.5:3001/health\n# a comment\n\nhttps://app.example.com/" },
      {
        checks: [
          {
            name: "10.0.0.5:3001/health",
            url: "http://10.0.0.5:3001/health",
            expectStatus: [200],
          },
          { name: "app.example.com/", url: "https://app.example.com/", expectStatus: [200] },
        ],
        timeoutMs: 120_000,
        intervalMs: 250,
        successThreshold: 2,
        caCertificate: undefined,
        insecureTls: false,
      },
    ],
    [
      "checks indented as a block, and every setting",
      {
        // The runner hands over a block's text as is; its first line must keep its indentation.
        checks: "  - name: api\n    url: http://a/health\n    expect-status: [200, 204]\n",
        timeout: "1m30s",
        interval: "1s",
        "success-threshold": "3",
        "insecure-tls": "true",
      },
      {
        checks: [{ name: "api", url: "http://a/health", expectStatus: [200, 204] }],
        timeoutMs: 90_000,
        intervalMs: 1_000,
        successThreshold: 3,
        caCertificate: undefined,
        insecureTls: true,
      },
    ],
  ])("%s", (_, values, expected) => {
    expect(readInputs(from(values))).toEqual(expected);
  });

  test.each<[Record<string, string>, string, string]>([
    [{}, "checks", "or urls is required: the gate needs something to check"],
    [{ checks: "- url: http://a", urls: "http://a" }, "urls", "cannot be combined with checks"],
    [
      { checks: "- url: http://a\n  contains: 1" },
      "checks",
      'entry 1: "contains" must be a non-empty string',
    ],
    [{ urls: "# only a comment" }, "urls", "must list at least one check"],
    [{ urls: "http://a", timeout: "0s" }, "timeout", "must be from 1s to 6h"],
    [{ urls: "http://a", timeout: "7h" }, "timeout", "must be from 1s to 6h"],
    [{ urls: "http://a", interval: "1ms" }, "interval", "must be from 10ms to 5m"],
    [{ urls: "http://a", "success-threshold": "101" }, "success-threshold", "from 1 to 100"],
    [{ urls: "http://a", "stable-for": "10s" }, "stable-for", "needs host and project-name"],
  ])("%j is refused as input %s", (values, name, rule) => {
    let error: unknown;
    try {
      readInputs(from(values));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe(name);
    expect((error as InputError).rule).toContain(rule);
  });
});

describe("action.yml", () => {
  const action = parseYaml(readFileSync(new URL("../action.yml", import.meta.url), "utf8")) as {
    inputs: Record<string, { description?: string; default?: string }>;
    outputs: Record<string, { description?: string }>;
    runs: Record<string, string>;
  };

  test("declares exactly the inputs the code reads, each described", () => {
    expect(Object.keys(action.inputs).sort()).toEqual(
      [...new Set([...Object.keys(spec), ...Object.keys(connectionInputs)])].sort(),
    );
    for (const [name, entry] of Object.entries(action.inputs)) {
      expect(entry.description, name).toMatch(/\S{3}/);
    }
  });

  test("its defaults are the code's defaults", () => {
    const withDefaults = Object.fromEntries(
      Object.entries(action.inputs).flatMap(([name, entry]) =>
        entry.default === undefined ? [] : [[name, entry.default]],
      ),
    );
    const fromYaml = readInputs(from({ ...withDefaults, urls: "http://a/" }));
    const fromCode = readInputs(from({ urls: "http://a/" }));
    expect(fromYaml).toEqual(fromCode);
  });

  test("the README's tables say what action.yml says", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const [name, entry] of [
      ...Object.entries(action.inputs),
      ...Object.entries(action.outputs),
    ]) {
      const row = readme.split("\n").find((line) => line.startsWith(`| \`${name}\` `));
      expect(row, name).toBeDefined();
      expect(row, name).toContain(entry.description);
    }
  });

  test("outputs are described; runs on node24 from the bundle", () => {
    expect(Object.keys(action.outputs).sort()).toEqual(["healthy", "report", "time-to-healthy-ms"]);
    for (const [name, entry] of Object.entries(action.outputs)) {
      expect(entry.description, name).toMatch(/\S{3}/);
    }
    expect(action.runs).toEqual({ using: "node24", main: "../../dist/health-gate/index.js" });
  });
});
