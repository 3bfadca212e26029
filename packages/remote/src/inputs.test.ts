import { generateKeyPairSync } from "node:crypto";
import { InputError } from "@smoker/action-kit";
import { describe, expect, test } from "vitest";
import { connectOptionsFrom, getConnectionInputs } from "./inputs.js";

const KEY = generateKeyPairSync("ed25519")
  .privateKey.export({ format: "pem", type: "pkcs8" })
  .toString();
const FP = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8";
const LINE =
  "10.0.0.5 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

function parse(values: Record<string, string>) {
  return connectOptionsFrom(getConnectionInputs((name) => values[name] ?? ""));
}

describe("connection inputs", () => {
  test("a pinned fingerprint gives verified options with the defaults", () => {
    const o = parse({ host: "dev-cloud", "private-key": KEY.trim(), "host-fingerprint": FP });
    expect(o).toMatchObject({
      host: "dev-cloud",
      port: 22,
      username: "root",
      connectTimeoutMs: 20_000,
      hostKeys: { fingerprints: [FP] },
    });
    expect(o.privateKey.endsWith("-----\n")).toBe(true);
  });

  test("known-hosts alone is enough, and several fingerprints may be given", () => {
    expect(parse({ host: "h", "private-key": KEY, "known-hosts": LINE }).hostKeys).toEqual({
      knownHosts: LINE,
    });
    const two = parse({
      host: "h",
      "private-key": KEY,
      "host-fingerprint": `${FP}\n${FP.replace("n", "m")}`,
    });
    expect(two.hostKeys).toEqual({ fingerprints: [FP, FP.replace("n", "m")] });
  });

  test("skipping the check is only ever explicit", () => {
    expect(
      parse({ host: "h", "private-key": KEY, "insecure-skip-host-key-check": "true" }).hostKeys,
    ).toBe("insecure-skip");
  });

  test.each([
    [{ host: "h", "private-key": KEY }, "host-fingerprint", /or known-hosts is required/],
    [
      { host: "-oProxyCommand=x", "private-key": KEY, "host-fingerprint": FP },
      "host",
      /must match/,
    ],
    [{ host: "h x", "private-key": KEY, "host-fingerprint": FP }, "host", /must match/],
    [
      { host: "h", "private-key": "not a key", "host-fingerprint": FP },
      "private-key",
      /private key/,
    ],
    [
      { host: "h", "private-key": KEY, "host-fingerprint": "MD5:aa:bb" },
      "host-fingerprint",
      /SHA256/,
    ],
    [{ host: "h", "private-key": KEY, "known-hosts": "garbage" }, "known-hosts", /no valid/],
    [{ host: "h", "private-key": KEY, "host-fingerprint": FP, port: "70000" }, "port", /65535/],
    [
      { host: "h", "private-key": KEY, "host-fingerprint": FP, "connect-timeout": "soon" },
      "connect-timeout",
      /./,
    ],
    [
      { host: "h", "private-key": KEY, "host-fingerprint": FP, username: "root;id" },
      "username",
      /must match/,
    ],
  ])("%# rejects %j naming the input", (values, name, rule) => {
    let error: unknown;
    try {
      parse(values);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe(name);
    expect((error as InputError).rule).toMatch(rule);
  });

  test("a bad private key's error never contains the key", () => {
    const secret = "-----BEGIN NOTHING-----\nsupersecretmaterial\n";
    expect(() => parse({ host: "h", "private-key": secret, "host-fingerprint": FP })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("supersecretmaterial") }),
    );
  });
});
