import { describe, expect, test } from "vitest";
import { formatJsonPath, lookUp, type PathStep, parseJsonPath } from "./json-path.js";

describe("parseJsonPath", () => {
  test.each<[string, PathStep[]]>([
    ["$", []],
    ["$.status", [{ key: "status" }]],
    ["status", [{ key: "status" }]],
    ["data.items[0].ok", [{ key: "data" }, { key: "items" }, { index: 0 }, { key: "ok" }]],
    ["$[2][10]", [{ index: 2 }, { index: 10 }]],
    ["$.app-status._x1", [{ key: "app-status" }, { key: "_x1" }]],
  ])("%s", (path, steps) => {
    expect(parseJsonPath(path)).toEqual(steps);
  });

  test.each<[string, number]>([
    ["", 1],
    ["$.", 2],
    ["$..a", 2],
    ["$.*", 2],
    ["$['a']", 2],
    ["$.a[-1]", 4],
    ["$.a[01]", 4],
    ["$.a[0", 4],
    ["$.a b", 4],
    ["1abc", 1],
    [".a", 1],
    ["$a", 2],
  ])("rejects %j at character %i", (path, at) => {
    expect(() => parseJsonPath(path)).toThrow(`at character ${at}:`);
  });

  test("formats steps back canonically", () => {
    expect(formatJsonPath(parseJsonPath("data.items[0].ok"))).toBe("$.data.items[0].ok");
  });
});

describe("lookUp", () => {
  const doc = { data: { items: [{ ok: true }, { ok: false }], empty: null }, n: 0 };

  test.each<[string, unknown]>([
    ["$", doc],
    ["$.data.items[1].ok", false],
    ["$.data.empty", null],
    ["$.n", 0],
  ])("finds %s", (path, value) => {
    expect(lookUp(doc, parseJsonPath(path))).toEqual({ found: true, value });
  });

  test.each<[string, string, string]>([
    ["$.missing", "$", 'no key "missing" in an object'],
    ["$.data.items[2]", "$.data.items", "no index 2 in an array of 2"],
    ["$.data[0]", "$.data", "no index 0 in an object"],
    ["$.n.x", "$.n", 'no key "x" in a number'],
    ["$.data.empty.x", "$.data.empty", 'no key "x" in null'],
    ["$.data.items.length", "$.data.items", 'no key "length" in an array'],
    // Only own properties: nothing is found on Object.prototype.
    ["$.constructor", "$", 'no key "constructor" in an object'],
    ["$.data.__proto__", "$.data", 'no key "__proto__" in an object'],
  ])("does not find %s", (path, at, missing) => {
    expect(lookUp(doc, parseJsonPath(path))).toEqual({ found: false, at, missing });
  });

  test("a __proto__ key that JSON itself carries is found", () => {
    const parsed: unknown = JSON.parse('{"__proto__": {"ok": 1}}');
    expect(lookUp(parsed, parseJsonPath("$.__proto__.ok"))).toEqual({ found: true, value: 1 });
  });
});
