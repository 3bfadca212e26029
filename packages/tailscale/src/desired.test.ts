import { describe, expect, it } from "vitest";
import { ConfigError, cleanPath, expandTarget, parseDesired } from "./desired.js";

const PROD = `
- port: 443
  target: 80
  funnel: true
- port: 8443
  target: 127.0.0.1:3001
  funnel: true
`;

describe("parseDesired", () => {
  it("reads the production config with defaults", () => {
    expect(parseDesired(PROD)).toEqual([
      { port: 443, path: "/", target: "80", proxy: "http://127.0.0.1:80", funnel: true },
      {
        port: 8443,
        path: "/",
        target: "127.0.0.1:3001",
        proxy: "http://127.0.0.1:3001",
        funnel: true,
      },
    ]);
    expect(parseDesired("- {port: 4545, path: api, target: 'http://localhost:3000/v1'}")).toEqual([
      {
        port: 4545,
        path: "/api",
        target: "http://localhost:3000/v1",
        proxy: "http://localhost:3000/v1",
        funnel: false,
      },
    ]);
  });

  it.each([
    [
      "- {port: 9000, target: 3000, funnel: true}",
      /entry 1: funnel is only possible on ports 443, 8443, 10000 \(got port 9000\)/,
    ],
    ["port: 443", /must be a YAML list/],
    ["[]", /at least one entry/],
    ["- {port: 70000, target: 1}", /port must be an integer 1-65535/],
    ["- {port: 443}", /target is required/],
    ["- {port: 443, target: 10.0.0.5:80}", /localhost or 127.0.0.1/],
    ["- {port: 443, target: 'ftp://localhost:21'}", /http:\/\/, https:\/\/ or https\+insecure/],
    ["- {port: 443, target: localhost}", /port 1-65535/],
    ["- {port: 443, target: 80, path: /a/../b}", /clean URL path/],
    ["- {port: 443, target: 80, funnel: yes please}", /funnel must be true or false/],
    ["- {port: 443, target: 80, tls: true}", /unknown key "tls"/],
    ["- {port: 443, target: 80}\n- {port: 443, target: 81}", /entry 2: repeats port 443 path \//],
    [
      "- {port: 443, target: 80, funnel: true}\n- {port: 443, path: /api, target: 81}",
      /entry 2: sets funnel false on port 443 but entry 1 sets true/,
    ],
    ["- [oops", /not valid YAML/],
  ])("refuses %j", (text, rule) => {
    expect(() => parseDesired(text)).toThrow(ConfigError);
    expect(() => parseDesired(text)).toThrow(rule);
  });
});

describe("targets and paths as the CLI reads them", () => {
  it.each([
    ["3000", "http://127.0.0.1:3000"],
    ["localhost:3000", "http://localhost:3000"],
    ["https+insecure://127.0.0.1:8443", "https+insecure://127.0.0.1:8443"],
    ["http://127.0.0.1:3000/foo/bar", "http://127.0.0.1:3000/foo/bar"],
  ])("%s -> %s", (target, proxy) => expect(expandTarget(target)).toBe(proxy));

  it.each([
    ["", "/"],
    ["/", "/"],
    ["foo", "/foo"],
    ["/foo/", "/foo/"],
    ["/../bar", undefined],
  ])("path %j -> %j", (path, clean) => expect(cleanPath(path)).toBe(clean));
});
