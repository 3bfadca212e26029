import { execFileSync, spawnSync } from "node:child_process";
import { createHmac, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  decideHostKey,
  fingerprintOf,
  type HostKeyDecision,
  type HostKeyPolicy,
  hostNamesMatch,
  keyTypeOf,
  knownHostsName,
  normalizeFingerprint,
  parseFingerprints,
  parseKnownHosts,
  parsePublicKeyBlob,
  preferredHostKeyAlgorithms,
  SSH2_DEFAULT_HOST_KEY_ALGORITHMS,
} from "./host-keys.js";

// --- keys in SSH wire format, built here independently of the module under test -------------

function sshString(value: string | Buffer): Buffer {
  const body = typeof value === "string" ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function sshMpint(unsigned: Buffer): Buffer {
  return sshString(
    (unsigned[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), unsigned]) : unsigned,
  );
}

function ed25519Blob(): Buffer {
  const jwk = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
  return Buffer.concat([sshString("ssh-ed25519"), sshString(Buffer.from(jwk.x!, "base64url"))]);
}

function ecdsaP256Blob(): Buffer {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({
    format: "jwk",
  });
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x!, "base64url"),
    Buffer.from(jwk.y!, "base64url"),
  ]);
  return Buffer.concat([sshString("ecdsa-sha2-nistp256"), sshString("nistp256"), sshString(point)]);
}

function rsaBlob(bits: number): Buffer {
  const jwk = generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({
    format: "jwk",
  });
  return Buffer.concat([
    sshString("ssh-rsa"),
    sshMpint(Buffer.from(jwk.e!, "base64url")),
    sshMpint(Buffer.from(jwk.n!, "base64url")),
  ]);
}

const A = ed25519Blob(); // the key the server presents in most cases
const B = ed25519Blob(); // another ed25519 key
const EC = ecdsaP256Blob();
const RSA = rsaBlob(2048);

const typeOf: Record<string, string> = {
  [A.toString("base64")]: "ssh-ed25519",
  [B.toString("base64")]: "ssh-ed25519",
  [EC.toString("base64")]: "ecdsa-sha2-nistp256",
  [RSA.toString("base64")]: "ssh-rsa",
};

/** `hosts keytype base64` for one of the keys above. */
function kh(hosts: string, key: Buffer): string {
  const b64 = key.toString("base64");
  return `${hosts} ${typeOf[b64]} ${b64}`;
}

/** A hashed host name, computed here: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
function hashedName(name: string, salt = randomBytes(20)): string {
  const digest = createHmac("sha1", salt).update(name).digest("base64");
  return `|1|${salt.toString("base64")}|${digest}`;
}

const fp = (key: Buffer) => fingerprintOf(key);

/** Same bytes, but the unused low bits of the last base64 character set (b64_pton refuses it). */
function withSlackBits(b64: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const padding = b64.length - b64.replace(/=+$/, "").length;
  if (padding === 0) throw new Error("needs a padded encoding");
  const last = b64.length - padding - 1;
  const changed = alphabet[alphabet.indexOf(b64[last]!) | 1]!;
  const result = b64.slice(0, last) + changed + b64.slice(last + 1);
  if (!Buffer.from(result, "base64").equals(Buffer.from(b64, "base64")) || result === b64) {
    throw new Error("could not set the slack bits alone");
  }
  return result;
}

const work = mkdtempSync(join(tmpdir(), "host-keys-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let fileCount = 0;
function tempFile(content: string): string {
  const path = join(work, `f${fileCount++}`);
  writeFileSync(path, content);
  return path;
}

function expectRefused(decision: HostKeyDecision) {
  if (decision.ok) throw new Error(`expected a refusal, got accepted: ${decision.matched}`);
  return decision;
}

// --- fingerprints ---------------------------------------------------------------------------

describe("fingerprintOf", () => {
  it.each([
    ["ssh-ed25519", A],
    ["ecdsa-sha2-nistp256", EC],
    ["ssh-rsa", RSA],
  ])("equals what ssh-keygen -lf prints for a %s key", (type, blob) => {
    const file = tempFile(`${type} ${blob.toString("base64")} test@example\n`);
    const printed = execFileSync("ssh-keygen", ["-lf", file], { encoding: "utf8" });
    // "<bits> SHA256:<digest> <comment> (<TYPE>)"
    expect(fingerprintOf(blob)).toBe(printed.split(" ")[1]);
    expect(fingerprintOf(blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it("differs between keys", () => {
    expect(fingerprintOf(A)).not.toBe(fingerprintOf(B));
  });
});

describe("keyTypeOf", () => {
  it.each([
    [A, "ssh-ed25519"],
    [EC, "ecdsa-sha2-nistp256"],
    [RSA, "ssh-rsa"],
  ])("reads the algorithm name from the blob (%#)", (blob, type) => {
    expect(keyTypeOf(blob)).toBe(type);
  });

  it.each([
    ["empty", Buffer.alloc(0)],
    ["length past the end", Buffer.from([0, 0, 0, 9, 0x61])],
    ["empty type", Buffer.from([0, 0, 0, 0])],
  ])("throws for a blob without a type (%s)", (_name, blob) => {
    expect(() => keyTypeOf(blob)).toThrow(/no key type/);
  });
});

describe("parseFingerprints", () => {
  const a = fp(A);
  const b = fp(B);
  it.each<[string, string, string[]]>([
    ["one", a, [a]],
    ["surrounding whitespace", `  ${a}\n`, [a]],
    ["newline separated", `${a}\n${b}\n`, [a, b]],
    ["comma separated", `${a}, ${b}`, [a, b]],
    ["duplicates dropped", `${a}\n${a}`, [a]],
    ["with the '=' padding ssh-keygen leaves out", `${a}=`, [a]],
    ["lowercase prefix", a.replace("SHA256:", "sha256:"), [a]],
    ["empty", " \n ", []],
  ])("accepts %s", (_name, text, expected) => {
    expect(parseFingerprints(text)).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    [
      "MD5 with prefix",
      "MD5:9d:3a:3e:fc:87:14:42:5e:45:8b:cb:74:c3:56:5c:07",
      /MD5.*not accepted.*SHA256/,
    ],
    ["bare MD5 hex", "9d:3a:3e:fc:87:14:42:5e:45:8b:cb:74:c3:56:5c:07", /MD5.*SHA256/],
    ["SHA512", `SHA512:${"A".repeat(86)}`, /only SHA256/],
    ["no prefix", a.slice("SHA256:".length), /not valid.*Expected SHA256:/],
    ["too short", a.slice(0, -1), /not valid/],
    ["too long", `${a}A`, /not valid/],
    ["two '='", `${a}==`, /not valid/],
    ["url-safe base64", `SHA256:${"-".repeat(43)}`, /not valid/],
    [
      "non-zero bits past the digest",
      `${a.slice(0, -1)}${a.endsWith("B") ? "C" : "B"}`,
      /not valid/,
    ],
    ["key-size column of ssh-keygen output", "256", /key size column/],
    ["a public key instead", "ssh-ed25519", /not valid/],
  ])("rejects %s, naming the value and the expected form", (_name, text, message) => {
    expect(() => parseFingerprints(`${a}\n${text}`)).toThrow(message);
    expect(() => parseFingerprints(text)).toThrow(text.slice(0, 10));
    expect(() => parseFingerprints(text)).toThrow(/SHA256/);
  });

  it("normalizeFingerprint is idempotent", () => {
    expect(normalizeFingerprint(normalizeFingerprint(`${a}=`))).toBe(a);
  });
});

// --- known_hosts decisions ------------------------------------------------------------------

interface Case {
  name: string;
  lines: string[];
  host?: string;
  port?: number;
  key?: Buffer;
  /** "accept:<line>" or a refusal reason. */
  expect: string;
}

const h1 = "h1";
const cases: Case[] = [
  // plain names
  { name: "plain host", lines: [kh(h1, A)], expect: "accept:1" },
  { name: "other host", lines: [kh("h2", A)], expect: "unknown" },
  { name: "no lines at all", lines: ["# only a comment"], expect: "unknown" },
  {
    name: "entry is case-insensitive",
    lines: [kh("H1.Example.COM", A)],
    host: "h1.example.com",
    expect: "accept:1",
  },
  { name: "host is case-insensitive", lines: [kh(h1, A)], host: "H1", expect: "accept:1" },
  { name: "trailing dot is another name", lines: [kh(h1, A)], host: "h1.", expect: "unknown" },
  { name: "IPv6 on port 22", lines: [kh("::1", A)], host: "::1", expect: "accept:1" },
  // ports
  { name: "[host]:22 is not looked up on port 22", lines: [kh("[h1]:22", A)], expect: "unknown" },
  { name: "[host]:port on that port", lines: [kh("[h1]:2222", A)], port: 2222, expect: "accept:1" },
  {
    name: "[host]:port on another port",
    lines: [kh("[h1]:2223", A)],
    port: 2222,
    expect: "unknown",
  },
  { name: "[host]:port is not used on port 22", lines: [kh("[h1]:2222", A)], expect: "unknown" },
  {
    name: "IPv6 on a port",
    lines: [kh("[::1]:2222", A)],
    host: "::1",
    port: 2222,
    expect: "accept:1",
  },
  {
    name: "bare host accepts on another port (ssh's retry without port)",
    lines: [kh(h1, A)],
    port: 2222,
    expect: "accept:1",
  },
  {
    name: "bare host with another key on another port: not known (as ssh)",
    lines: [kh(h1, B)],
    port: 2222,
    expect: "unknown",
  },
  {
    name: "[host]:port with another key: no retry without port",
    lines: [kh("[h1]:2222", B), kh(h1, A)],
    port: 2222,
    expect: "mismatch",
  },
  {
    name: "[host]:port accepts before a bare line",
    lines: [kh(h1, B), kh("[h1]:2222", A)],
    port: 2222,
    expect: "accept:2",
  },
  // lists and wildcards
  { name: "comma list", lines: [kh("h0,h1,h2", A)], expect: "accept:1" },
  { name: "comma list without the host", lines: [kh("h0,h2", A)], expect: "unknown" },
  {
    name: "* wildcard",
    lines: [kh("*.example.com", A)],
    host: "www.example.com",
    expect: "accept:1",
  },
  {
    name: "* needs the dot",
    lines: [kh("*.example.com", A)],
    host: "example.com",
    expect: "unknown",
  },
  { name: "? is one character", lines: [kh("10.0.0.?", A)], host: "10.0.0.5", expect: "accept:1" },
  { name: "? is not two", lines: [kh("10.0.0.?", A)], host: "10.0.0.55", expect: "unknown" },
  { name: "* matches [host]:port", lines: [kh("*", A)], port: 2222, expect: "accept:1" },
  { name: "[host]:* wildcard port", lines: [kh("[h1]:*", A)], port: 2222, expect: "accept:1" },
  { name: "brackets are literal", lines: [kh("[h1]", A)], expect: "unknown" },
  // negation
  { name: "negated host does not apply", lines: [kh("h*,!h1", A)], expect: "unknown" },
  { name: "negation spares other hosts", lines: [kh("h*,!h1", A)], host: "h2", expect: "accept:1" },
  { name: "negation first", lines: [kh("!h1,h*", A)], expect: "unknown" },
  { name: "negation alone accepts nothing", lines: [kh("!h1", A)], host: "h2", expect: "unknown" },
  {
    name: "negated line with another key is no mismatch",
    lines: [kh("*,!h1", B)],
    expect: "unknown",
  },
  // hashed names
  { name: "hashed host", lines: [kh(hashedName("h1"), A)], expect: "accept:1" },
  { name: "hashed host, other name", lines: [kh(hashedName("h2"), A)], expect: "unknown" },
  {
    name: "hashed [host]:port",
    lines: [kh(hashedName("[h1]:2222"), A)],
    port: 2222,
    expect: "accept:1",
  },
  {
    name: "hashed bare host on another port",
    lines: [kh(hashedName("h1"), A)],
    port: 2222,
    expect: "accept:1",
  },
  { name: "hashed [host]:22 on port 22", lines: [kh(hashedName("[h1]:22"), A)], expect: "unknown" },
  {
    name: "hashed name is looked up lowercased",
    lines: [kh(hashedName("H1"), A)],
    host: "H1",
    expect: "unknown",
  },
  {
    name: "mixed-case host finds the lowercase hash",
    lines: [kh(hashedName("h1"), A)],
    host: "H1",
    expect: "accept:1",
  },
  {
    name: "hashed name matches only as a whole",
    lines: [kh(`${hashedName("h1")},h0`, A)],
    expect: "unknown",
  },
  { name: "hashed host with another key", lines: [kh(hashedName("h1"), B)], expect: "mismatch" },
  // mismatch vs unknown
  { name: "same type, other key", lines: [kh(h1, B)], expect: "mismatch" },
  { name: "other type", lines: [kh(h1, RSA)], expect: "mismatch" },
  { name: "other key then the key", lines: [kh(h1, B), kh(h1, A)], expect: "accept:2" },
  { name: "ECDSA key accepted", lines: [kh(h1, B), kh(h1, EC)], key: EC, expect: "accept:2" },
  { name: "RSA key accepted", lines: [kh(h1, RSA)], key: RSA, expect: "accept:1" },
  {
    name: "RSA key under rsa-sha2-256 (ssh reads it)",
    lines: [`h1 rsa-sha2-256 ${RSA.toString("base64")}`],
    key: RSA,
    expect: "accept:1",
  },
  // @revoked
  {
    name: "@revoked beats an accepting line",
    lines: [kh(h1, A), `@revoked ${kh(h1, A)}`],
    expect: "revoked",
  },
  {
    name: "@revoked before the accepting line",
    lines: [`@revoked ${kh(h1, A)}`, kh(h1, A)],
    expect: "revoked",
  },
  {
    name: "@revoked for all hosts",
    lines: [kh(h1, A), `@revoked ${kh("*", A)}`],
    expect: "revoked",
  },
  { name: "@revoked alone", lines: [`@revoked ${kh(h1, A)}`], expect: "revoked" },
  {
    name: "@revoked for another host",
    lines: [kh(h1, A), `@revoked ${kh("h2", A)}`],
    expect: "accept:1",
  },
  { name: "@revoked another key", lines: [kh(h1, A), `@revoked ${kh(h1, B)}`], expect: "accept:1" },
  {
    name: "@revoked bare host, [host]:port accepts (as ssh)",
    lines: [`@revoked ${kh(h1, A)}`, kh("[h1]:2222", A)],
    port: 2222,
    expect: "accept:2",
  },
  {
    name: "@revoked bare host, found by the retry without port",
    lines: [`@revoked ${kh(h1, A)}`],
    port: 2222,
    expect: "revoked",
  },
  // @cert-authority
  {
    name: "@cert-authority only",
    lines: [`@cert-authority ${kh(h1, B)}`],
    expect: "cert-authority-unsupported",
  },
  {
    name: "@cert-authority with the very key",
    lines: [`@cert-authority ${kh(h1, A)}`],
    expect: "cert-authority-unsupported",
  },
  {
    name: "@cert-authority + accepting line",
    lines: [`@cert-authority ${kh("*", B)}`, kh(h1, A)],
    expect: "accept:2",
  },
  {
    name: "@cert-authority + other key",
    lines: [`@cert-authority ${kh("*", B)}`, kh(h1, B)],
    expect: "mismatch",
  },
  {
    name: "@cert-authority for [host]:port",
    lines: [`@cert-authority ${kh("[h1]:2222", B)}`],
    port: 2222,
    expect: "cert-authority-unsupported",
  },
  // invalid lines are skipped, as ssh skips them
  { name: "unknown marker", lines: [`@trusted ${kh(h1, A)}`], expect: "unknown" },
  {
    name: "tab after marker, spaces later (ssh's quirk)",
    lines: [`@revoked\t${kh(h1, A)}`, kh(h1, A)],
    expect: "accept:2",
  },
  {
    name: "tabs only after marker",
    lines: [`@revoked\th1\tssh-ed25519\t${A.toString("base64")}`, kh(h1, A)],
    expect: "revoked",
  },
  {
    name: "type field does not match the key",
    lines: [`h1 ssh-rsa ${A.toString("base64")}`],
    expect: "unknown",
  },
  { name: "short key type name", lines: [`h1 ED25519 ${A.toString("base64")}`], expect: "unknown" },
  {
    name: "truncated base64",
    lines: [`h1 ssh-ed25519 ${A.toString("base64").slice(0, -4)}`],
    expect: "unknown",
  },
  {
    name: "missing base64 padding",
    lines: [`h1 ecdsa-sha2-nistp256 ${EC.toString("base64").replace(/=$/, "")}`],
    expect: "unknown",
  },
  {
    name: "base64 with non-zero bits after the last byte",
    lines: [`h1 ecdsa-sha2-nistp256 ${withSlackBits(EC.toString("base64"))}`],
    expect: "unknown",
  },
  { name: "with base64 padding the same line counts", lines: [kh(h1, EC)], expect: "mismatch" },
  {
    name: "comment glued to the key",
    lines: [`h1 ssh-ed25519 ${A.toString("base64")}#note`],
    expect: "unknown",
  },
  { name: "invalid line then a valid one", lines: ["h1", kh(h1, A)], expect: "accept:2" },
  { name: "bad hashed salt", lines: [kh("|1|AAAA|AAAA", A), kh(h1, A)], expect: "accept:2" },
  // layout
  {
    name: "comments, blank lines, tabs, comment after the key",
    lines: [
      "# known hosts",
      "",
      "   ",
      `\t h1\t\tssh-ed25519  ${A.toString("base64")}   root@h1 (web)`,
    ],
    expect: "accept:4",
  },
  {
    name: "CRLF line endings",
    lines: [`# x\r`, `${kh(h1, A)}\r`, `${kh(h1, A)} comment\r`],
    expect: "accept:2",
  },
  { name: "indented comment line is a comment", lines: [`  # ${kh(h1, B)}`], expect: "unknown" },
];

describe("decideHostKey with known-hosts", () => {
  it.each(cases)("$name", (c) => {
    const decision = decideHostKey(
      { knownHosts: c.lines.join("\n") },
      c.host ?? h1,
      c.port ?? 22,
      c.key ?? A,
    );
    if (c.expect.startsWith("accept:")) {
      expect(decision).toMatchObject({ ok: true });
      if (decision.ok)
        expect(decision.matched).toMatch(new RegExp(`^known_hosts line ${c.expect.slice(7)}\\b`));
    } else {
      expect(decision).toMatchObject({ ok: false, reason: c.expect });
    }
  });

  it("accepts lines hashed by ssh-keygen -H (an independent implementation)", () => {
    const file = tempFile(
      `${[kh("h1", A), kh("[h1]:2222", EC), kh("www.example.com", RSA)].join("\n")}\n`,
    );
    execFileSync("ssh-keygen", ["-q", "-H", "-f", file], { stdio: "ignore" });
    const hashed = readFileSync(file, "utf8");
    const hostFields = hashed
      .trim()
      .split("\n")
      .map((l) => l.split(" ")[0]);
    expect(hostFields).toHaveLength(3);
    for (const field of hostFields) expect(field).toMatch(/^\|1\|[^|]+\|[^|]+$/);
    const policy = { knownHosts: hashed };
    expect(decideHostKey(policy, "h1", 22, A)).toMatchObject({ ok: true });
    expect(decideHostKey(policy, "h1", 2222, EC)).toMatchObject({ ok: true });
    expect(decideHostKey(policy, "WWW.example.com", 22, RSA)).toMatchObject({ ok: true });
    expect(decideHostKey(policy, "h1", 22, B)).toMatchObject({ ok: false, reason: "mismatch" });
    expect(decideHostKey(policy, "h2", 22, A)).toMatchObject({ ok: false, reason: "unknown" });
  });
});

describe("host name matching agrees with ssh-keygen -F", () => {
  const lines = [
    kh("h1", A),
    kh("h*,!h1", A),
    kh("!web3,web?,*.example.com", A),
    kh("[h1]:2222,[h2]:*", A),
    kh("10.0.0.*,::1", A),
    kh("UPPER", A),
    kh(hashedName("hashed.example.com"), A),
    kh(hashedName("[h1]:2200"), A),
  ];
  const file = tempFile(`${lines.join("\n")}\n`);
  const { entries } = parseKnownHosts(lines.join("\n"));
  it.each([
    "h1",
    "h2",
    "h10",
    "web1",
    "web3",
    "web10",
    "a.example.com",
    "hashed.example.com",
    "[h1]:2222",
    "[h1]:2200",
    "[h2]:22",
    "[h3]:22",
    "10.0.0.7",
    "::1",
    "upper",
    "UPPER",
    "H1",
    "nothing",
  ])("%s", (name) => {
    // Exit status 1 means "not found".
    const run = spawnSync("ssh-keygen", ["-F", name, "-f", file], { encoding: "utf8" });
    expect(run.status === 0 || run.status === 1, run.stderr).toBe(true);
    const found = run.stdout
      .split("\n")
      .filter((l) => /^# Host .* found: line \d+/.test(l))
      .map((l) => Number(/line (\d+)/.exec(l)![1]));
    const ours = entries.filter((e) => hostNamesMatch(e.hosts, name)).map((e) => e.line);
    expect(ours).toEqual(found);
  });
});

describe("hostNamesMatch", () => {
  // ssh lowercases the host before it hashes it (checked with the real client: a line hashed from
  // "h1.example.com" accepts `ssh H1.Example.COM`). `ssh-keygen -F` hashes the name as given.
  it("hashes the lowercased name, as ssh does", () => {
    const [entry] = parseKnownHosts(kh(hashedName("h1.example.com"), A)).entries;
    expect(hostNamesMatch(entry!.hosts, "H1.Example.COM")).toBe(true);
    const [upper] = parseKnownHosts(kh(hashedName("H1.Example.COM"), A)).entries;
    expect(hostNamesMatch(upper!.hosts, "H1.Example.COM")).toBe(false);
  });

  it("lowercases patterns and names", () => {
    const [entry] = parseKnownHosts(kh("Web?.EXAMPLE.com", A)).entries;
    expect(hostNamesMatch(entry!.hosts, "WEB1.example.COM")).toBe(true);
  });
});

describe("parseKnownHosts", () => {
  it("reports lines ssh would skip, with their line number, and keeps the rest", () => {
    const text = [
      "# comment",
      kh("h1,!h2", A), // 2
      "h1", // 3
      `@bogus ${kh(h1, A)}`, // 4
      `h1 ssh-foo ${A.toString("base64")}`, // 5
      `h1 ssh-ed25519 not*base64`, // 6
      `h1 ssh-rsa ${A.toString("base64")}`, // 7
      kh("|2|x|y", A), // 8
      "", // 9
      `@revoked ${kh(hashedName("h1"), B)} old key`, // 10
    ].join("\n");
    const { entries, invalid } = parseKnownHosts(text);
    expect(invalid.map((i) => i.line)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(invalid.find((i) => i.line === 4)?.reason).toMatch(/marker/);
    expect(invalid.find((i) => i.line === 5)?.reason).toMatch(/unknown key type "ssh-foo"/);
    expect(invalid.find((i) => i.line === 6)?.reason).toMatch(/base64/);
    expect(invalid.find((i) => i.line === 7)?.reason).toMatch(
      /ssh-rsa does not match .* ssh-ed25519/,
    );
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      line: 2,
      marker: null,
      keyType: "ssh-ed25519",
      comment: "",
      hosts: {
        kind: "patterns",
        patterns: [
          { pattern: "h1", negated: false },
          { pattern: "h2", negated: true },
        ],
      },
      key: { type: "ssh-ed25519", certificate: false, fingerprint: fp(A) },
    });
    expect(entries[1]).toMatchObject({
      line: 10,
      marker: "revoked",
      comment: "old key",
      hosts: { kind: "hashed" },
      key: { fingerprint: fp(B) },
    });
  });

  it("rejects key material ssh rejects", () => {
    const small = rsaBlob(768);
    const offCurve = Buffer.from(EC);
    offCurve[offCurve.length - 1]! ^= 1;
    const trailing = Buffer.concat([A, Buffer.from([0])]);
    const shortEd = Buffer.concat([sshString("ssh-ed25519"), sshString(Buffer.alloc(31, 1))]);
    const { entries, invalid } = parseKnownHosts(
      [
        `h1 ssh-rsa ${small.toString("base64")}`,
        `h1 ecdsa-sha2-nistp256 ${offCurve.toString("base64")}`,
        `h1 ssh-ed25519 ${trailing.toString("base64")}`,
        `h1 ssh-ed25519 ${shortEd.toString("base64")}`,
        `h1 ecdsa-sha2-nistp384 ${EC.toString("base64")}`,
      ].join("\n"),
    );
    expect(entries).toEqual([]);
    expect(invalid.map((i) => i.reason)).toEqual([
      expect.stringMatching(/768 bits/),
      expect.stringMatching(/not on the curve/),
      expect.stringMatching(/trailing data/),
      expect.stringMatching(/not 32 bytes/),
      expect.stringMatching(/does not match/),
    ]);
  });

  it("says so when it is given a private key", () => {
    const { entries, invalid } = parseKnownHosts(
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    expect(entries).toEqual([]);
    expect(invalid[0]).toEqual({ line: 1, reason: expect.stringMatching(/PRIVATE key/) });
    // Reasons never quote the key material.
    expect(JSON.stringify(invalid)).not.toContain("b3BlbnNzaC1rZXkt");
  });

  it("never throws", () => {
    expect(() => parseKnownHosts("\u0000\n@\n|\n\t\n  #\n[\n*")).not.toThrow();
  });
});

describe("parsePublicKeyBlob", () => {
  it("compares RSA numbers, not their encoding (an mpint with an extra leading zero)", () => {
    const reader = (() => {
      let offset = 0;
      return () => {
        const length = RSA.readUInt32BE(offset);
        const value = RSA.subarray(offset + 4, offset + 4 + length);
        offset += 4 + length;
        return value;
      };
    })();
    reader(); // type
    const e = reader();
    const n = reader();
    const padded = Buffer.concat([
      sshString("ssh-rsa"),
      sshString(Buffer.concat([Buffer.from([0]), e])),
      sshString(n),
    ]);
    expect(parsePublicKeyBlob(padded).plain.equals(RSA)).toBe(true);
    const decision = decideHostKey(
      { knownHosts: `h1 ssh-rsa ${padded.toString("base64")}` },
      h1,
      22,
      RSA,
    );
    expect(decision.ok).toBe(true);
  });
});

// --- messages -------------------------------------------------------------------------------

describe("refusal messages", () => {
  it("unknown: host:port, the presented key and how to pin it", () => {
    const d = expectRefused(decideHostKey({ knownHosts: kh("h2", A) }, "10.0.0.5", 22, A));
    expect(d.reason).toBe("unknown");
    expect(d.message).toContain("Host key for 10.0.0.5:22 is not known.");
    expect(d.message).toContain(`ssh-ed25519 ${fp(A)}`);
    expect(d.message).toContain("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub");
    expect(d.message).toContain("host-fingerprint");
    expect(d.message).toContain("known-hosts");
  });

  it("unknown on a port: says how the entry is written", () => {
    const d = expectRefused(decideHostKey({ knownHosts: kh("h2", A) }, "h1", 2222, EC));
    expect(d.message).toContain("h1:2222");
    expect(d.message).toContain("[h1]:2222");
    expect(d.message).toContain("ssh_host_ecdsa_key.pub");
  });

  it("unknown lists skipped lines", () => {
    const d = expectRefused(
      decideHostKey({ knownHosts: `# x\nh1 ssh-ed25519\n${kh("h2", A)}` }, h1, 22, A),
    );
    expect(d.message).toMatch(/line 2: no key data/);
  });

  it("unknown on a port with a bare entry for another key explains ssh's rule", () => {
    const d = expectRefused(decideHostKey({ knownHosts: kh(h1, B) }, h1, 2222, A));
    expect(d.reason).toBe("unknown");
    expect(d.message).toContain(fp(B));
    expect(d.message).toContain("[h1]:2222");
  });

  it("mismatch: CHANGED, the expected key from the file, attack or reinstall", () => {
    const d = expectRefused(decideHostKey({ knownHosts: `# x\n${kh(h1, RSA)}` }, h1, 22, A));
    expect(d.reason).toBe("mismatch");
    expect(d.message).toContain("CHANGED");
    expect(d.message).toContain(`ssh-rsa ${fp(RSA)} (known-hosts line 2)`);
    expect(d.message).toContain(`ssh-ed25519 ${fp(A)}`);
    expect(d.message).toMatch(/man-in-the-middle/);
    expect(d.message).toMatch(/reinstalled/);
  });

  it("revoked: names the line", () => {
    const d = expectRefused(
      decideHostKey({ knownHosts: `${kh(h1, A)}\n@revoked ${kh(h1, A)}` }, h1, 22, A),
    );
    expect(d.message).toContain("REVOKED");
    expect(d.message).toContain("line 2");
    expect(d.message).toContain(fp(A));
  });

  it("cert-authority-unsupported: says to pin the host key", () => {
    const d = expectRefused(
      decideHostKey({ knownHosts: `@cert-authority ${kh(h1, B)}` }, h1, 22, A),
    );
    expect(d.message).toMatch(/certificate/);
    expect(d.message).toMatch(/pin the host key/);
    expect(d.message).toContain(fp(A));
  });
});

// --- fingerprints and both sources ----------------------------------------------------------

describe("decideHostKey with fingerprints", () => {
  const table: [string, HostKeyPolicy, Buffer, string][] = [
    ["pinned key", { fingerprints: [fp(A)] }, A, "accept"],
    ["one of several", { fingerprints: [fp(B), fp(A)] }, A, "accept"],
    ["padded form in the policy", { fingerprints: [`${fp(A)}=`] }, A, "accept"],
    ["other key", { fingerprints: [fp(B)] }, A, "mismatch"],
    ["pinned RSA, ed25519 presented", { fingerprints: [fp(RSA)] }, A, "mismatch"],
    [
      "known-hosts unknown, fingerprint accepts",
      { knownHosts: kh("h2", B), fingerprints: [fp(A)] },
      A,
      "accept",
    ],
    [
      "known-hosts mismatch, fingerprint accepts",
      { knownHosts: kh(h1, B), fingerprints: [fp(A)] },
      A,
      "accept",
    ],
    [
      "known-hosts accepts, fingerprint does not",
      { knownHosts: kh(h1, A), fingerprints: [fp(B)] },
      A,
      "accept",
    ],
    [
      "@revoked beats the fingerprint",
      { knownHosts: `@revoked ${kh(h1, A)}`, fingerprints: [fp(A)] },
      A,
      "revoked",
    ],
    ["neither accepts", { knownHosts: kh("h2", B), fingerprints: [fp(B)] }, A, "mismatch"],
    [
      "cert-authority and a wrong fingerprint",
      { knownHosts: `@cert-authority ${kh(h1, B)}`, fingerprints: [fp(B)] },
      A,
      "mismatch",
    ],
    ["empty known-hosts is not given", { knownHosts: "  \n", fingerprints: [fp(A)] }, A, "accept"],
  ];
  it.each(table)("%s", (_name, policy, key, expected) => {
    const decision = decideHostKey(policy, h1, 22, key);
    if (expected === "accept") expect(decision.ok).toBe(true);
    else expect(decision).toMatchObject({ ok: false, reason: expected });
  });

  it("says which fingerprint matched", () => {
    expect(decideHostKey({ fingerprints: [fp(A)] }, h1, 22, A)).toEqual({
      ok: true,
      matched: `fingerprint ${fp(A)}`,
    });
  });

  it("mismatch lists the pinned fingerprints and the key type to pin", () => {
    const d = expectRefused(decideHostKey({ fingerprints: [fp(RSA)] }, h1, 22, A));
    expect(d.message).toContain(fp(RSA));
    expect(d.message).toContain(`ssh-ed25519 ${fp(A)}`);
    expect(d.message).toContain("CHANGED");
  });

  it.each<[string, HostKeyPolicy, number]>([
    ["no source", {}, 22],
    ["empty sources", { knownHosts: "", fingerprints: [] }, 22],
    ["bad fingerprint", { fingerprints: ["MD5:00"] }, 22],
    ["port 0", { fingerprints: [fp(A)] }, 0],
    ["port 65536", { fingerprints: [fp(A)] }, 65536],
  ])("throws for bad arguments: %s", (_name, policy, port) => {
    expect(() => decideHostKey(policy, h1, port, A)).toThrow();
  });
});

// --- algorithm order ------------------------------------------------------------------------

describe("preferredHostKeyAlgorithms", () => {
  const all = SSH2_DEFAULT_HOST_KEY_ALGORITHMS;
  const rsaFirst = [
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
  ];
  it.each<[string, HostKeyPolicy, number, readonly string[]]>([
    ["no known-hosts", { fingerprints: [fp(A)] }, 22, all],
    ["first type known: unchanged", { knownHosts: `${kh(h1, RSA)}\n${kh(h1, A)}` }, 22, all],
    ["only RSA known: RSA first", { knownHosts: kh(h1, RSA) }, 22, rsaFirst],
    [
      "ECDSA known",
      { knownHosts: kh(h1, EC) },
      22,
      [
        "ecdsa-sha2-nistp256",
        "ssh-ed25519",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "rsa-sha2-512",
        "rsa-sha2-256",
        "ssh-rsa",
      ],
    ],
    ["another host's RSA key", { knownHosts: kh("h2", RSA) }, 22, all],
    ["@revoked lines do not count", { knownHosts: `@revoked ${kh(h1, RSA)}` }, 22, all],
    [
      "@cert-authority lines do not count",
      { knownHosts: `@cert-authority ${kh(h1, RSA)}` },
      22,
      all,
    ],
    ["bare entry does not count on another port (as ssh)", { knownHosts: kh(h1, RSA) }, 2222, all],
    ["[host]:port entry", { knownHosts: kh("[h1]:2222", RSA) }, 2222, rsaFirst],
  ])("%s", (_name, policy, port, expected) => {
    expect(preferredHostKeyAlgorithms(policy, h1, port)).toEqual(expected);
  });

  it("the default list is ssh2's", () => {
    const require = createRequire(import.meta.url);
    const constants = require("ssh2/lib/protocol/constants.js") as {
      DEFAULT_SERVER_HOST_KEY: string[];
    };
    expect([...SSH2_DEFAULT_HOST_KEY_ALGORITHMS]).toEqual(constants.DEFAULT_SERVER_HOST_KEY);
  });
});

describe("knownHostsName", () => {
  it.each<[string, number, string]>([
    ["h1", 22, "h1"],
    ["H1", 22, "h1"],
    ["h1", 2222, "[h1]:2222"],
    ["::1", 2222, "[::1]:2222"],
  ])("%s port %i is looked up as %s", (host, port, name) => {
    expect(knownHostsName(host, port)).toBe(name);
  });
});
