import { describe, expect, it } from "vitest";
import { charCount, ELLIPSIS, markdownClosers, truncate } from "./limits.js";

// A surrogate not paired with its other half: what a cut through a pair leaves.
const LONE_SURROGATE = /\p{Surrogate}/u;

describe("charCount (Discord counts code points)", () => {
  it.each([
    ["", 0],
    ["abc", 3],
    ["é", 1],
    ["😀", 1], // 2 UTF-16 units, 4 UTF-8 bytes, 1 code point
    ["👍🏽", 2], // emoji + skin tone modifier: 2 code points, 1 grapheme
    ["\u{10FFFF} \uFFFF", 3], // the example in discord-api-docs#1315
    ["\uD800", 1], // a lone surrogate
  ])("%j counts %d", (text, n) => {
    expect(charCount(text)).toBe(n);
  });
});

describe("markdownClosers", () => {
  it.each([
    ["plain text", ""],
    ["**bold", "**"],
    ["**bold** done", ""],
    ["__under ~~strike", "~~__"],
    ["||spoiler", "||"],
    ["`code", "`"],
    ["``co`de", "``"],
    ["```js\nconst a = 1;", "\n```"],
    ["```js\nconst a = 1;\n", "```"],
    ["```\n**not bold in a block", "\n```"],
    ["```\nblock\n```\n**bold", "**"],
    ["`**` stays code", ""],
    ["\\*\\* escaped", ""],
    ["snake_case_name", ""],
  ])("%j needs %j", (text, closers) => {
    expect(markdownClosers(text)).toBe(closers);
  });
});

describe("truncate", () => {
  it("leaves text that fits alone", () => {
    const text = "a".repeat(256);
    expect(truncate(text, 256)).toBe(text);
    expect(truncate("😀".repeat(256), 256)).toBe("😀".repeat(256));
  });

  it("cuts between words and ends with an ellipsis", () => {
    const out = truncate("the quick brown fox jumps over the lazy dog", 20);
    expect(out).toBe(`the quick brown fox${ELLIPSIS}`);
    expect(charCount(out)).toBeLessThanOrEqual(20);
  });

  it("cuts inside one huge word rather than dropping nearly everything", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const out = truncate(`image ${digest}`, 40);
    expect(charCount(out)).toBe(40);
    expect(out.startsWith(`image sha256:aaa`)).toBe(true);
  });

  it("never splits a surrogate pair or an emoji sequence", () => {
    for (const max of [1, 2, 3, 4, 5, 10, 11]) {
      for (const unit of ["😀", "👍🏽", "👨‍👩‍👧", "🇫🇷"]) {
        const out = truncate(unit.repeat(10), max);
        expect(charCount(out)).toBeLessThanOrEqual(max);
        // Well-formed: no lone surrogates anywhere.
        expect(out).not.toMatch(LONE_SURROGATE);
        // Whole graphemes only, then the ellipsis.
        const body = out.endsWith(ELLIPSIS) ? out.slice(0, -ELLIPSIS.length) : out;
        expect(body.replaceAll(unit, "")).toBe("");
      }
    }
  });

  it("counts code points, not UTF-16 units: 256 emoji fit a 256 title", () => {
    const out = truncate(`${"😀".repeat(300)}`, 256);
    expect(charCount(out)).toBe(256);
    expect(out.length).toBeGreaterThan(256);
  });

  it("closes a code block it cuts through", () => {
    const text = `Failure:\n\`\`\`\n${"log line\n".repeat(200)}\`\`\`\nafter`;
    const out = truncate(text, 300);
    expect(charCount(out)).toBeLessThanOrEqual(300);
    expect(out.endsWith("\n```")).toBe(true);
    expect(markdownClosers(out)).toBe("");
  });

  it("closes bold, spoiler and inline code it cuts through", () => {
    for (const [open, close] of [
      ["**", "**"],
      ["||", "||"],
      ["`", "`"],
      ["~~", "~~"],
    ] as const) {
      const text = `intro ${open}${"word ".repeat(100)}${close} end`;
      const out = truncate(text, 50);
      expect(charCount(out)).toBeLessThanOrEqual(50);
      expect(markdownClosers(out)).toBe("");
      expect(out.endsWith(close)).toBe(true);
    }
  });

  it("does not leave half a marker when a hard cut lands in one", () => {
    const text = `${"x".repeat(48)}**${"y".repeat(60)}**`;
    for (let max = 45; max <= 55; max += 1) {
      const out = truncate(text, max);
      expect(charCount(out)).toBeLessThanOrEqual(max);
      expect(markdownClosers(out)).toBe("");
      expect(out).not.toMatch(/[^*]\*…|[^*]\*$/);
    }
  });

  it("fits every limit from 0 to 60 for text mixing markdown and emoji", () => {
    const text = "Deploy **failed** on `dev` 😀 ```\nerror: 👍🏽 boom\n``` ||secret|| done";
    for (let max = 0; max <= 60; max += 1) {
      const out = truncate(text, max);
      expect(charCount(out)).toBeLessThanOrEqual(max);
      expect(out).not.toMatch(LONE_SURROGATE);
      if (max >= 10) expect(markdownClosers(out)).toBe("");
    }
  });
});
