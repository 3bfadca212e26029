import * as core from "@actions/core";
import { afterEach, describe, expect, test, vi } from "vitest";
import { inputEnvName, parseFileCommands } from "./runner-files.js";

afterEach(() => vi.unstubAllEnvs());

describe("inputEnvName", () => {
  test.each([
    ["host", "INPUT_HOST"],
    ["private-key", "INPUT_PRIVATE-KEY"],
    ["wait timeout", "INPUT_WAIT_TIMEOUT"],
    ["composeFiles", "INPUT_COMPOSEFILES"],
  ])("%s -> %s, and core.getInput reads it back", (name, envName) => {
    expect(inputEnvName(name)).toBe(envName);
    vi.stubEnv(envName, "value of it");
    expect(core.getInput(name)).toBe("value of it");
  });
});

describe("parseFileCommands", () => {
  test.each<[string, string, Record<string, string>]>([
    ["empty file", "", {}],
    ["name=value", "a=1\nb=x=y\n", { a: "1", b: "x=y" }],
    ["heredoc", "msg<<EOF\nline 1\nline 2\nEOF\n", { msg: "line 1\nline 2" }],
    ["heredoc, empty value", "e<<D\n\nD\n", { e: "" }],
    ["heredoc, trailing newline kept", "t<<D\nx\n\nD\n", { t: "x\n" }],
    ["heredoc holding = and <<", "h<<D\na=b<<c\nD\n", { h: "a=b<<c" }],
    ["CRLF", "a<<D\r\nx\r\nD\r\nb=2\r\n", { a: "x", b: "2" }],
    ["later wins", "a=1\na<<D\n2\nD\n", { a: "2" }],
    ["= before << is a plain value", "a=b<<c\n", { a: "b<<c" }],
  ])("%s", (_, text, expected) => {
    expect(parseFileCommands(text)).toEqual(expected);
  });

  test.each([
    ["a<<EOF\nnever closed\n", 'Matching delimiter not found for "a": EOF'],
    ["=1\n", "Invalid file command line 1: empty name"],
    ["just text\n", "Invalid file command line 1: expected name=value or name<<EOF"],
  ])("%j is rejected", (text, message) => {
    expect(() => parseFileCommands(text)).toThrow(message);
  });
});
