import { describe, expect, test } from "vitest";
import { type Check, CheckSpecError, checksFromUrls, MAX_CHECKS, parseChecks } from "./checks.js";

function specError(fn: () => unknown): CheckSpecError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CheckSpecError) return error;
    throw error;
  }
  throw new Error("expected a CheckSpecError, nothing was thrown");
}

describe("parseChecks", () => {
  test.each<[string, string, Check[]]>([
    [
      "a bare url gets a name, status 200 and nothing else",
      "- url: http://10.0.0.5:3001/health",
      [{ name: "10.0.0.5:3001/health", url: "http://10.0.0.5:3001/health", expectStatus: [200] }],
    ],
    [
      "every key",
      `
- name: api
  url: https://api.example.com/status?full=1
  expect-status: [200, 204, 200]
  contains: ready
  json-path: $.db.replicas[1].ok
  equals: true
`,
      [
        {
          name: "api",
          url: "https://api.example.com/status?full=1",
          expectStatus: [200, 204],
          contains: "ready",
          jsonPath: "$.db.replicas[1].ok",
          equals: true,
        },
      ],
    ],
    [
      "one status as a number; equals null, a number, a string",
      `
- url: http://a/x
  expect-status: 503
- url: http://a/y
  json-path: version
  equals: 2
- url: http://a/z
  json-path: $.error
  equals: null
- url: http://a/w
  json-path: $.state
  equals: "200"
`,
      [
        { name: "a/x", url: "http://a/x", expectStatus: [503] },
        { name: "a/y", url: "http://a/y", expectStatus: [200], jsonPath: "version", equals: 2 },
        { name: "a/z", url: "http://a/z", expectStatus: [200], jsonPath: "$.error", equals: null },
        { name: "a/w", url: "http://a/w", expectStatus: [200], jsonPath: "$.state", equals: "200" },
      ],
    ],
    [
      "flow style, and a URL normalised (host lower-cased, root path added)",
      `[{url: "HTTP://Example.COM"}]`,
      [{ name: "example.com/", url: "http://example.com/", expectStatus: [200] }],
    ],
  ])("%s", (_, yaml, expected) => {
    expect(parseChecks(yaml)).toEqual(expected);
  });

  test.each<[string, string, number | undefined, RegExp]>([
    ["not YAML", "- url: [http://a\n", undefined, /is not valid YAML \(line \d+, column \d+\)/],
    ["a duplicate key", "- url: http://a\n  url: http://b", undefined, /Map keys must be unique/],
    ["empty", "# nothing", undefined, /must list at least one check/],
    ["a map, not a list", "url: http://a", undefined, /must be a YAML list of checks.*not a map/],
    ["an empty list", "[]", undefined, /at least one check/],
    [
      "a string entry",
      "- http://a/health",
      1,
      /must be a map .*got the string "http:\/\/a\/health"/,
    ],
    ["no url", "- url: http://a\n- name: b", 2, /needs a "url"/],
    ["a url that is a number", "- url: 5", 1, /"url" must be a string, not a number/],
    ["a relative url", "- url: /health", 1, /absolute http or https URL \(got "\/health"\)/],
    ["ftp", "- url: ftp://a/b", 1, /must use http or https \(got "ftp:"\)/],
    ["credentials", "- url: http://u:p@a/health", 1, /must not carry credentials/],
    ["an unknown key", "- url: http://a\n  method: POST", 1, /unknown key "method" \(known keys: /],
    ["a near miss", "- url: http://a\n  expect_status: 200", 1, /did you mean expect-status\?/],
    ["a status out of range", "- url: http://a\n  expect-status: 600", 1, /100-599.*got "600"/],
    ["a status as text", "- url: http://a\n  expect-status: 2xx", 1, /got "2xx"/],
    ["an empty status list", "- url: http://a\n  expect-status: []", 1, /empty list/],
    ["an empty contains", "- url: http://a\n  contains: ''", 1, /"contains" must be a non-empty/],
    ["json-path alone", "- url: http://a\n  json-path: $.ok", 1, /"json-path" needs "equals"/],
    ["equals alone", "- url: http://a\n  equals: ok", 1, /"equals" needs "json-path"/],
    ["a wildcard path", "- url: http://a\n  json-path: $.*\n  equals: 1", 1, /character 2/],
    [
      "a filter path",
      "- url: http://a\n  json-path: $.a[?(@.b)]\n  equals: 1",
      1,
      /\.name and \[n\]/,
    ],
    ["equals a list", "- url: http://a\n  json-path: $.a\n  equals: [1]", 1, /not a list/],
    ["an empty name", "- url: http://a\n  name: ' '", 1, /"name" must be a non-empty/],
    ["a two-line name", '- url: http://a\n  name: "a\\nb"', 1, /one line/],
    [
      "a duplicate name",
      "- url: http://a/x\n- url: http://b\n  name: a/x",
      2,
      /same name as entry 1/,
    ],
    ["a duplicate url", "- url: http://a/x\n- url: http://a/x", 2, /give one of them a "name"/],
  ])("rejects %s", (_, yaml, entry, rule) => {
    const spec = specError(() => parseChecks(yaml));
    expect(spec.entry).toBe(entry);
    expect(spec.rule).toMatch(rule);
    expect(spec.message).toContain(entry === undefined ? "Health check list " : `entry ${entry}: `);
  });

  test(`at most ${MAX_CHECKS} checks`, () => {
    const yaml = Array.from({ length: MAX_CHECKS + 1 }, (_, i) => `- url: http://a/${i}`).join(
      "\n",
    );
    expect(() => parseChecks(yaml)).toThrow(/at most 50 checks \(got 51\)/);
  });
});

describe("checksFromUrls", () => {
  test("one check per URL, status 200", () => {
    expect(checksFromUrls(["http://a:8080/health", " https://b/ "])).toEqual([
      { name: "a:8080/health", url: "http://a:8080/health", expectStatus: [200] },
      { name: "b/", url: "https://b/", expectStatus: [200] },
    ]);
  });

  test.each<[string[], number | undefined, RegExp]>([
    [[], undefined, /at least one check/],
    [["http://a", "b.example.com/health"], 2, /absolute http or https URL/],
    [["http://a/h", "http://a/h"], 2, /same name as entry 1/],
  ])("rejects %j", (urls, entry, rule) => {
    const spec = specError(() => checksFromUrls(urls));
    expect(spec.entry).toBe(entry);
    expect(spec.rule).toMatch(rule);
  });
});
