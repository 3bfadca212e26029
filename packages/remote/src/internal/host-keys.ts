/**
 * Host key verification: decides, for a key an SSH server presented, whether the user's
 * `known-hosts` content and/or pinned fingerprints accept it.
 *
 * The known_hosts decision mirrors `ssh -o StrictHostKeyChecking=yes -o UserKnownHostsFile=FILE`
 * (OpenSSH 9.x, default options: no HostKeyAlias, CheckHostIP=no). Each rule below was checked
 * against the real client (ssh + sshd -i through ProxyCommand) and `ssh-keygen -F`:
 *
 * - ssh looks the host up as `host` on port 22 and `[host]:port` on any other port, lowercased.
 *   An entry `[host]:22` therefore never matches. On a non-default port, when no entry for
 *   `[host]:port` decides (neither accepts, nor refuses as changed/revoked), ssh tries once more
 *   with the bare `host` ("checking without port identifier").
 * - Patterns: comma-separated, `*` and `?` wildcards, case-insensitive; if the name matches any
 *   `!pattern` the line does not apply. `[`/`]` are literal characters.
 * - Hashed names `|1|base64(salt)|base64(HMAC-SHA1(salt, lookup name))` match only as a whole.
 * - Among the plain-key lines for the name: a line with the presented key accepts; otherwise, any
 *   line with another key (of any type, certificates included) means the key CHANGED.
 * - A `@revoked` line for the name whose key is the presented key (or a certificate of it) refuses
 *   even when another line accepts. It only applies to the names its patterns match.
 * - `@cert-authority` lines never accept a plain key. ssh2 cannot verify host certificates, so
 *   when they are all that names the host we fail closed with `cert-authority-unsupported`.
 * - Lines OpenSSH cannot parse are skipped exactly as ssh skips them (bad marker, missing fields,
 *   unknown key type, bad base64, key type in the line != type in the key, invalid key material,
 *   RSA under 1024 bits, malformed hashed name). `parseKnownHosts` reports them in `invalid`.
 *
 * Pinned fingerprints (`SHA256:<base64>` as `ssh-keygen -lf` prints them) accept the key whose
 * SHA256 fingerprint they equal. With both sources, either may accept, but a `@revoked` match
 * always refuses.
 *
 * Known differences, all failing closed or not affecting the decision: certificates in
 * known_hosts lines are checked for structure, not signature (ssh skips a line whose certificate
 * signature is bad; a bad certificate here can only refuse, never accept). ssh negotiates the key
 * type it has a line for; ssh2 only does so if the connection passes `preferredHostKeyAlgorithms`
 * as its `algorithms.serverHostKey`.
 *
 * Pure functions; the only dependency is node:crypto.
 */
import { createHash, createHmac, createPublicKey } from "node:crypto";

export interface HostKeyPolicy {
  /** known_hosts content (OpenSSH format). */
  knownHosts?: string;
  /** `SHA256:<base64 without padding>` fingerprints, as `ssh-keygen -lf` prints them. */
  fingerprints?: string[];
}

export type HostKeyRefusal = "unknown" | "mismatch" | "revoked" | "cert-authority-unsupported";

export type HostKeyDecision =
  | { ok: true; matched: string }
  | { ok: false; reason: HostKeyRefusal; message: string };

export type KnownHostsMarker = "revoked" | "cert-authority" | null;

/** One sub-pattern of a comma-separated host list (lowercased, as OpenSSH compares it). */
export interface HostPattern {
  pattern: string;
  negated: boolean;
}

/** The first field of a known_hosts line. */
export type HostNames =
  | { kind: "patterns"; text: string; patterns: HostPattern[] }
  | { kind: "hashed"; text: string; salt: Buffer };

/** A public key as read from a blob (SSH wire format). */
export interface SshPublicKey {
  /** Algorithm name inside the blob, e.g. `ssh-ed25519` or `ssh-ed25519-cert-v01@openssh.com`. */
  type: string;
  certificate: boolean;
  /** Type of the plain key (for a certificate: of the certified key). */
  plainType: string;
  /** Canonical wire encoding of the plain key (for a certificate: of the certified key). */
  plain: Buffer;
  /** SHA256 fingerprint of `plain`: what `ssh-keygen -lf` prints. */
  fingerprint: string;
}

export interface KnownHostsEntry {
  /** 1-based line number in the known_hosts text. */
  line: number;
  marker: KnownHostsMarker;
  hosts: HostNames;
  /** The key type field as written (`rsa-sha2-256` is accepted for an `ssh-rsa` key, as ssh does). */
  keyType: string;
  key: SshPublicKey;
  comment: string;
}

export interface KnownHostsInvalidLine {
  line: number;
  reason: string;
}

export interface ParsedKnownHosts {
  entries: KnownHostsEntry[];
  /** Lines ssh would skip. They never accept or refuse anything. */
  invalid: KnownHostsInvalidLine[];
}

const DEFAULT_PORT = 22;
const SHA256_PREFIX = "SHA256:";

// ---------------------------------------------------------------------------------------------
// SSH wire format

class KeyFormatError extends Error {}

class WireReader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.offset === this.buf.length;
  }

  uint32(): number {
    if (this.offset + 4 > this.buf.length) throw new KeyFormatError("truncated key data");
    const value = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint64(): void {
    this.uint32();
    this.uint32();
  }

  string(): Buffer {
    const length = this.uint32();
    if (this.offset + length > this.buf.length) throw new KeyFormatError("truncated key data");
    const value = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** An mpint as a non-negative magnitude without leading zero bytes (what OpenSSH keeps). */
  mpint(): Buffer {
    const raw = this.string();
    if (raw.length > 0 && (raw[0]! & 0x80) !== 0) throw new KeyFormatError("negative number");
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    const magnitude = raw.subarray(start);
    if (magnitude.length > 16384 / 8) throw new KeyFormatError("number too large");
    return magnitude;
  }
}

function wireString(value: string | Buffer): Buffer {
  const body = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function wireMpint(magnitude: Buffer): Buffer {
  return wireString(
    magnitude.length > 0 && (magnitude[0]! & 0x80) !== 0
      ? Buffer.concat([Buffer.from([0]), magnitude])
      : magnitude,
  );
}

function bitLength(magnitude: Buffer): number {
  if (magnitude.length === 0) return 0;
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]!));
}

const EC_CURVES: Record<string, { jwk: string; coordinate: number }> = {
  nistp256: { jwk: "P-256", coordinate: 32 },
  nistp384: { jwk: "P-384", coordinate: 48 },
  nistp521: { jwk: "P-521", coordinate: 66 },
};

/** Key types OpenSSH 9 reads in known_hosts, with the curve an ECDSA type requires. */
const PLAIN_TYPES: Record<string, { curve?: string }> = {
  "ssh-ed25519": {},
  "sk-ssh-ed25519@openssh.com": {},
  "ecdsa-sha2-nistp256": { curve: "nistp256" },
  "ecdsa-sha2-nistp384": { curve: "nistp384" },
  "ecdsa-sha2-nistp521": { curve: "nistp521" },
  "sk-ecdsa-sha2-nistp256@openssh.com": { curve: "nistp256" },
  "ssh-rsa": {},
  "ssh-dss": {},
};

function certTypeOf(plainType: string): string {
  return `${plainType.replace(/@openssh\.com$/, "")}-cert-v01@openssh.com`;
}

const CERT_TYPES: Record<string, string> = Object.fromEntries(
  Object.keys(PLAIN_TYPES).map((plain) => [certTypeOf(plain), plain]),
);

/**
 * Names ssh accepts in the key-type field of a known_hosts line, mapped to the type the blob must
 * have. Besides the key types themselves, OpenSSH reads the RSA signature algorithm names as RSA
 * keys (checked: `host rsa-sha2-256 <rsa key>` accepts). Short names (`ED25519`, `RSA`) are rejected.
 */
const LINE_KEY_TYPES: Record<string, string> = {
  ...Object.fromEntries(Object.keys(PLAIN_TYPES).map((t) => [t, t])),
  ...Object.fromEntries(Object.keys(CERT_TYPES).map((t) => [t, t])),
  "rsa-sha2-256": "ssh-rsa",
  "rsa-sha2-512": "ssh-rsa",
};

function ecPointIsValid(curve: { jwk: string; coordinate: number }, point: Buffer): boolean {
  // OpenSSH only reads uncompressed points, and refuses points not on the curve.
  if (point.length !== 1 + 2 * curve.coordinate || point[0] !== 0x04) return false;
  const x = point.subarray(1, 1 + curve.coordinate);
  const y = point.subarray(1 + curve.coordinate);
  try {
    createPublicKey({
      key: { kty: "EC", crv: curve.jwk, x: x.toString("base64url"), y: y.toString("base64url") },
      format: "jwk",
    });
    return true;
  } catch {
    return false;
  }
}

/** Reads the public key fields of `plainType`; returns its canonical encoding (without type). */
function readPlainKeyFields(plainType: string, reader: WireReader): Buffer[] {
  switch (plainType) {
    case "ssh-ed25519":
    case "sk-ssh-ed25519@openssh.com": {
      const publicKey = reader.string();
      if (publicKey.length !== 32) throw new KeyFormatError("Ed25519 key is not 32 bytes");
      const fields = [wireString(publicKey)];
      if (plainType !== "ssh-ed25519") fields.push(wireString(reader.string()));
      return fields;
    }
    case "ecdsa-sha2-nistp256":
    case "ecdsa-sha2-nistp384":
    case "ecdsa-sha2-nistp521":
    case "sk-ecdsa-sha2-nistp256@openssh.com": {
      const expected = PLAIN_TYPES[plainType]!.curve!;
      const curveName = reader.string().toString("latin1");
      if (curveName !== expected) {
        throw new KeyFormatError(`curve ${curveName} does not match key type ${plainType}`);
      }
      const point = reader.string();
      if (!ecPointIsValid(EC_CURVES[expected]!, point)) {
        throw new KeyFormatError("ECDSA public point is not on the curve");
      }
      const fields = [wireString(curveName), wireString(point)];
      if (plainType.startsWith("sk-")) fields.push(wireString(reader.string()));
      return fields;
    }
    case "ssh-rsa": {
      const e = reader.mpint();
      const n = reader.mpint();
      const bits = bitLength(n);
      if (bits < 1024) throw new KeyFormatError(`RSA key of ${bits} bits (ssh requires 1024+)`);
      return [wireMpint(e), wireMpint(n)];
    }
    case "ssh-dss":
      return [reader.mpint(), reader.mpint(), reader.mpint(), reader.mpint()].map(wireMpint);
    default:
      throw new KeyFormatError(`unsupported key type ${JSON.stringify(plainType)}`);
  }
}

function readCertificateTail(reader: WireReader): void {
  reader.uint64(); // serial
  reader.uint32(); // type
  reader.string(); // key id
  reader.string(); // principals
  reader.uint64(); // valid after
  reader.uint64(); // valid before
  reader.string(); // critical options
  reader.string(); // extensions
  reader.string(); // reserved
  reader.string(); // signature key
  reader.string(); // signature
}

/**
 * Parses and validates a public key blob (SSH wire format) the way OpenSSH does when it reads
 * a known_hosts line. Certificates are checked for structure only (OpenSSH also verifies their
 * signature). Throws on anything OpenSSH would refuse.
 */
export function parsePublicKeyBlob(blob: Buffer): SshPublicKey {
  try {
    const reader = new WireReader(blob);
    const type = reader.string().toString("latin1");
    const certified = CERT_TYPES[type];
    const plainType = certified ?? type;
    if (!(plainType in PLAIN_TYPES)) {
      throw new KeyFormatError(`unsupported key type ${JSON.stringify(type)}`);
    }
    if (certified !== undefined) reader.string(); // nonce
    const plain = Buffer.concat([wireString(plainType), ...readPlainKeyFields(plainType, reader)]);
    if (certified !== undefined) readCertificateTail(reader);
    if (!reader.done) throw new KeyFormatError("trailing data after the key");
    return {
      type,
      certificate: certified !== undefined,
      plainType,
      plain,
      fingerprint: sha256Fingerprint(plain),
    };
  } catch (error) {
    if (error instanceof KeyFormatError)
      throw new Error(`Invalid SSH public key: ${error.message}`);
    throw error;
  }
}

/** The algorithm name at the start of a key blob (e.g. `ssh-ed25519`). Throws if there is none. */
export function keyTypeOf(keyBlob: Buffer): string {
  try {
    const type = new WireReader(keyBlob).string().toString("latin1");
    if (type.length === 0 || !/^[\x21-\x7e]+$/.test(type)) throw new KeyFormatError("bad type");
    return type;
  } catch {
    throw new Error("Invalid SSH public key: no key type at the start of the key data");
  }
}

function sha256Fingerprint(data: Buffer): string {
  return SHA256_PREFIX + createHash("sha256").update(data).digest("base64").replace(/=+$/, "");
}

/** `SHA256:` + base64(sha256(blob)) without `=` padding: what `ssh-keygen -lf` prints. */
export function fingerprintOf(keyBlob: Buffer): string {
  return sha256Fingerprint(keyBlob);
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

const FINGERPRINT_FORM =
  "SHA256: followed by 43 base64 characters, exactly as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` " +
  "prints it on the host (e.g. SHA256:3MkfGz3QLXues3ZsgbIwZ7DcsEhP6CBdazhRNgiJvN0)";

function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 20)}…` : value);
}

/**
 * Normalizes one fingerprint. Accepts `SHA256:` (any case) + the 43-character base64 digest,
 * with or without the single `=` padding character (both name the same digest; ssh-keygen prints
 * it without). Throws for anything else, MD5 fingerprints included.
 */
export function normalizeFingerprint(value: string): string {
  const token = value.trim();
  if (/^MD5:/i.test(token) || /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/i.test(token)) {
    throw new Error(
      `Host fingerprint ${shown(token)} is an MD5 fingerprint; MD5 is not accepted. Use the SHA256 ` +
        `form instead: ${FINGERPRINT_FORM}.`,
    );
  }
  const prefix = token.slice(0, SHA256_PREFIX.length);
  if (/^SHA(1|384|512):/i.test(token)) {
    throw new Error(
      `Host fingerprint ${shown(token)} uses ${token.split(":")[0]}; only SHA256 fingerprints are accepted. Expected ${FINGERPRINT_FORM}.`,
    );
  }
  const body = token.slice(SHA256_PREFIX.length).replace(/=$/, "");
  if (prefix.toUpperCase() === SHA256_PREFIX && /^[A-Za-z0-9+/]{43}$/.test(body)) {
    const digest = Buffer.from(body, "base64");
    if (digest.length === 32 && digest.toString("base64").replace(/=$/, "") === body) {
      return SHA256_PREFIX + body;
    }
  }
  const hint = /^\d+$/.test(token)
    ? " It looks like the key size column of `ssh-keygen -lf` output: give only the SHA256:... field."
    : "";
  throw new Error(
    `Host fingerprint ${shown(token)} is not valid. Expected ${FINGERPRINT_FORM}.${hint}`,
  );
}

/**
 * Parses a list of fingerprints separated by whitespace, newlines or commas. Validates each one
 * (see `normalizeFingerprint`); throws naming the first bad value. Duplicates are dropped.
 */
export function parseFingerprints(text: string): string[] {
  const out: string[] = [];
  for (const token of text.split(/[\s,]+/)) {
    if (token === "") continue;
    const fingerprint = normalizeFingerprint(token);
    if (!out.includes(fingerprint)) out.push(fingerprint);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Host name matching

/** ASCII-only lowercase, as OpenSSH's tolower() in the C locale. */
function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** OpenSSH compares bytes; a latin1 string has one character per UTF-8 byte. */
function bytewise(value: string): string {
  return Buffer.from(value, "utf8").toString("latin1");
}

/** The name ssh looks up in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const name = asciiLower(host);
  return port === DEFAULT_PORT ? name : `[${name}]:${port}`;
}

/** `*` matches any run of characters, `?` any one; everything else is literal. */
function globMatch(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      t++;
      p++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/** OpenSSH copies each sub-pattern into a 1024-byte buffer; longer ones end the list unmatched. */
const MAX_SUBPATTERN_BYTES = 1023;

function parseHostPatterns(text: string): HostPattern[] {
  const patterns: HostPattern[] = [];
  let i = 0;
  while (i < text.length) {
    const negated = text[i] === "!";
    if (negated) i++;
    let end = text.indexOf(",", i);
    if (end === -1) end = text.length;
    patterns.push({ pattern: asciiLower(text.slice(i, end)), negated });
    i = end + 1;
  }
  return patterns;
}

function patternsMatch(patterns: HostPattern[], name: string): boolean {
  const subject = bytewise(name);
  let positive = false;
  for (const { pattern, negated } of patterns) {
    const sub = bytewise(pattern);
    if (sub.length >= MAX_SUBPATTERN_BYTES) return false;
    if (globMatch(subject, sub)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

function hashedName(salt: Buffer, name: string): string {
  const digest = createHmac("sha1", salt).update(name, "utf8").digest("base64");
  return `|1|${salt.toString("base64")}|${digest}`;
}

/** Whether a known_hosts host field applies to `name` (as returned by `knownHostsName`). */
export function hostNamesMatch(hosts: HostNames, name: string): boolean {
  const lookup = asciiLower(name);
  if (hosts.kind === "hashed") return hashedName(hosts.salt, lookup) === hosts.text;
  return patternsMatch(hosts.patterns, lookup);
}

// ---------------------------------------------------------------------------------------------
// known_hosts parsing

/** Canonical base64 with padding, as OpenSSH's b64_pton requires. */
function strictBase64(text: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    return undefined;
  }
  const data = Buffer.from(text, "base64");
  return data.toString("base64") === text ? data : undefined;
}

function parseHostNames(text: string): HostNames | string {
  if (!text.startsWith("|")) return { kind: "patterns", text, patterns: parseHostPatterns(text) };
  const match = /^\|1\|([^|]*)\|/.exec(text);
  if (!match) return "hashed host name is not of the form |1|salt|hash";
  const salt = match[1]!.length <= 1024 ? strictBase64(match[1]!) : undefined;
  if (salt?.length !== 20) return "hashed host name has an invalid salt";
  return { kind: "hashed", text, salt };
}

const SPACE_OR_TAB = /[ \t]/;

function skipBlanks(text: string, from: number): number {
  let i = from;
  while (text[i] === " " || text[i] === "\t") i++;
  return i;
}

function tokenEnd(text: string, from: number): number {
  const rest = text.slice(from).search(SPACE_OR_TAB);
  return rest === -1 ? text.length : from + rest;
}

/** Reads `@marker` the way OpenSSH does, including its quirks; `undefined` = invalid marker. */
function readMarker(
  line: string,
  from: number,
): { marker: KnownHostsMarker; next: number } | undefined {
  let marker: KnownHostsMarker = null;
  let i = from;
  while (line[i] === "@") {
    if (marker !== null) return undefined; // only one marker is allowed
    // OpenSSH ends the marker at the first space of the rest of the line, and only looks for a
    // tab when there is no space at all: "@revoked<TAB>host key<SPACE>..." is an invalid marker.
    let end = line.indexOf(" ", i);
    if (end === -1) end = line.indexOf("\t", i);
    if (end === -1) return undefined;
    const word = line.slice(i, end);
    if (word === "@revoked") marker = "revoked";
    else if (word === "@cert-authority") marker = "cert-authority";
    else return undefined;
    i = skipBlanks(line, end);
  }
  return { marker, next: i };
}

type LineResult = KnownHostsEntry | { invalid: string } | null;

function parseLine(raw: string, lineNumber: number): LineResult {
  // A CR before the LF would end up in the key's base64, which OpenSSH ignores there; dropping
  // it also keeps CRLF blank lines from being reported (OpenSSH skips them as invalid).
  const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
  let i = skipBlanks(line, 0);
  if (i === line.length || line[i] === "#") return null;
  if (/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(line.slice(i))) {
    return { invalid: "this is the start of a PRIVATE key, not a known_hosts line" };
  }

  const marked = readMarker(line, i);
  if (!marked) {
    const tabQuirk = /^@(revoked|cert-authority)\t[^ ]* /.test(line.slice(i));
    return {
      invalid: tabQuirk
        ? "ssh reads a tab after the @marker as part of the marker when a space follows later on the line: put a space after the marker"
        : "unknown or malformed @marker (expected @revoked or @cert-authority followed by a space)",
    };
  }
  i = marked.next;

  const hostsEnd = tokenEnd(line, i);
  if (hostsEnd === line.length) return { invalid: "no key after the host names" };
  const hosts = parseHostNames(line.slice(i, hostsEnd));
  if (typeof hosts === "string") return { invalid: hosts };

  i = skipBlanks(line, hostsEnd);
  if (i === line.length || line[i] === "#") return { invalid: "no key after the host names" };
  const typeEnd = tokenEnd(line, i);
  if (typeEnd === line.length) return { invalid: "no key data after the key type" };
  const keyType = line.slice(i, typeEnd);
  const expectedType = LINE_KEY_TYPES[keyType];
  if (expectedType === undefined) return { invalid: `unknown key type ${shown(keyType)}` };

  i = skipBlanks(line, typeEnd);
  if (i === line.length) return { invalid: "no key data after the key type" };
  const blobEnd = tokenEnd(line, i);
  // b64_pton skips whitespace; only CR, VT and FF can be inside the token here.
  const blob = strictBase64(line.slice(i, blobEnd).replace(/[\r\v\f]/g, ""));
  if (!blob) return { invalid: "key data is not valid base64" };

  let key: SshPublicKey;
  try {
    key = parsePublicKeyBlob(blob);
  } catch (error) {
    return { invalid: (error as Error).message };
  }
  if (key.type !== expectedType) {
    return { invalid: `key type ${keyType} does not match the key, which is ${key.type}` };
  }
  return {
    line: lineNumber,
    marker: marked.marker,
    hosts,
    keyType,
    key,
    comment: line.slice(skipBlanks(line, blobEnd)),
  };
}

/**
 * Parses known_hosts content. Never throws: lines ssh would skip are returned in `invalid`
 * (with their 1-based line number and why), and skipped here too.
 */
export function parseKnownHosts(text: string): ParsedKnownHosts {
  const entries: KnownHostsEntry[] = [];
  const invalid: KnownHostsInvalidLine[] = [];
  text.split("\n").forEach((raw, index) => {
    const result = parseLine(raw, index + 1);
    if (result === null) return;
    if ("invalid" in result) invalid.push({ line: index + 1, reason: result.invalid });
    else entries.push(result);
  });
  return { entries, invalid };
}

// ---------------------------------------------------------------------------------------------
// Decision

interface NameCheck {
  name: string;
  status: "ok" | "revoked" | "changed" | "new";
  /** The accepting line (ok) or the revoking line (revoked). */
  by?: KnownHostsEntry;
  /** Plain-key lines for the name with another key. */
  others: KnownHostsEntry[];
  authorities: KnownHostsEntry[];
}

/** What OpenSSH's check for one looked-up name concludes (HOST_OK/REVOKED/CHANGED/NEW). */
function checkName(entries: KnownHostsEntry[], name: string, presented: SshPublicKey): NameCheck {
  const forName = entries.filter((e) => hostNamesMatch(e.hosts, name));
  const check: NameCheck = { name, status: "new", others: [], authorities: [] };
  for (const entry of forName) {
    if (entry.marker === "cert-authority") check.authorities.push(entry);
    if (entry.marker !== null) continue;
    if (!entry.key.certificate && entry.key.plain.equals(presented.plain)) {
      if (check.status !== "ok") {
        check.status = "ok";
        check.by = entry;
      }
    } else {
      check.others.push(entry);
      if (check.status === "new") check.status = "changed";
    }
  }
  const revoker = forName.find(
    (e) => e.marker === "revoked" && e.key.plain.equals(presented.plain),
  );
  if (revoker) {
    check.status = "revoked";
    check.by = revoker;
  }
  return check;
}

interface KnownHostsVerdict {
  status: "ok" | "revoked" | "changed" | "new";
  by?: KnownHostsEntry;
  /** Set when the verdict came from the port-less fallback lookup. */
  viaFallback: boolean;
  primary: NameCheck;
  fallback?: NameCheck;
}

/** ssh's decision for the known_hosts content, including the port-less retry. */
function checkKnownHosts(
  entries: KnownHostsEntry[],
  host: string,
  port: number,
  presented: SshPublicKey,
): KnownHostsVerdict {
  const primary = checkName(entries, knownHostsName(host, port), presented);
  const verdict: KnownHostsVerdict = { status: primary.status, viaFallback: false, primary };
  if (primary.by) verdict.by = primary.by;
  if (primary.status !== "new" || port === DEFAULT_PORT) return verdict;
  const fallback = checkName(entries, knownHostsName(host, DEFAULT_PORT), presented);
  verdict.fallback = fallback;
  if (fallback.status === "ok" || fallback.status === "revoked") {
    verdict.status = fallback.status;
    verdict.viaFallback = true;
    if (fallback.by) verdict.by = fallback.by;
  }
  // A fallback "changed" leaves ssh at "not known for [host]:port".
  return verdict;
}

function displayHost(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function hostKeyFile(type: string): string {
  const plain = CERT_TYPES[type] ?? type;
  if (plain.includes("ed25519")) return "/etc/ssh/ssh_host_ed25519_key.pub";
  if (plain.includes("ecdsa")) return "/etc/ssh/ssh_host_ecdsa_key.pub";
  if (plain === "ssh-rsa") return "/etc/ssh/ssh_host_rsa_key.pub";
  if (plain === "ssh-dss") return "/etc/ssh/ssh_host_dsa_key.pub";
  return "/etc/ssh/ssh_host_*_key.pub";
}

function describeEntry(entry: KnownHostsEntry): string {
  const certificate = entry.key.certificate ? " (a certificate)" : "";
  return `${entry.key.plainType} ${entry.key.fingerprint}${certificate} (known-hosts line ${entry.line})`;
}

function lineList(entries: KnownHostsEntry[]): string {
  return entries.map((e) => e.line).join(", ");
}

function invalidNote(invalid: KnownHostsInvalidLine[]): string | undefined {
  if (invalid.length === 0) return undefined;
  const shownLines = invalid
    .slice(0, 5)
    .map((i) => `line ${i.line}: ${i.reason}`)
    .join("; ");
  const more = invalid.length > 5 ? `; and ${invalid.length - 5} more` : "";
  return `known-hosts has lines ssh ignores (${shownLines}${more}).`;
}

function normalizePolicy(policy: HostKeyPolicy): {
  knownHosts: ParsedKnownHosts | undefined;
  fingerprints: string[] | undefined;
} {
  const knownHosts =
    policy.knownHosts !== undefined && policy.knownHosts.trim() !== ""
      ? parseKnownHosts(policy.knownHosts)
      : undefined;
  const fingerprints =
    policy.fingerprints !== undefined && policy.fingerprints.length > 0
      ? [...new Set(policy.fingerprints.map(normalizeFingerprint))]
      : undefined;
  if (!knownHosts && !fingerprints) {
    throw new Error(
      "No host key to verify against: give known-hosts content or at least one host fingerprint.",
    );
  }
  return { knownHosts, fingerprints };
}

/**
 * Decides whether the key the server presented (`keyBlob`, SSH wire format: what ssh2's
 * hostVerifier receives without `hostHash`) is accepted for `host` on `port`.
 *
 * Throws only for bad arguments: a policy with neither known-hosts content nor fingerprints, an
 * invalid fingerprint in the policy, a port outside 1-65535, or a blob without a key type.
 */
export function decideHostKey(
  policy: HostKeyPolicy,
  host: string,
  port: number,
  keyBlob: Buffer,
): HostKeyDecision {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Invalid SSH port ${port}`);
  }
  if (host === "") throw new Error("Host name is empty");
  const { knownHosts, fingerprints } = normalizePolicy(policy);
  const type = keyTypeOf(keyBlob);
  let presented: SshPublicKey;
  try {
    presented = parsePublicKeyBlob(keyBlob);
  } catch {
    // A key type this module cannot validate: compare the blob as it is.
    presented = {
      type,
      certificate: false,
      plainType: type,
      plain: keyBlob,
      fingerprint: fingerprintOf(keyBlob),
    };
  }

  const verdict = knownHosts
    ? checkKnownHosts(knownHosts.entries, host, port, presented)
    : undefined;
  const where = displayHost(host, port);
  const lookup = knownHostsName(host, port);
  const bare = knownHostsName(host, DEFAULT_PORT);
  const presentedText = `The server presented ${presented.type} ${presented.fingerprint}.`;
  const checkOnHost = `ssh-keygen -lf ${hostKeyFile(presented.type)}`;

  if (verdict?.status === "revoked") {
    const by = verdict.by!;
    return {
      ok: false,
      reason: "revoked",
      message: [
        `The host key of ${where} is REVOKED: known-hosts line ${by.line} marks it @revoked for ${by.hosts.kind === "hashed" ? "this host" : JSON.stringify(by.hosts.text)}.`,
        presentedText,
        "A revoked key being presented can mean that a stolen key is used to impersonate the host. Refusing to connect, whatever else known-hosts or host-fingerprint accept.",
        "Give the host a new key, check it on the host and pin that one.",
      ].join(" "),
    };
  }
  if (verdict?.status === "ok") {
    const by = verdict.by!;
    const note = verdict.viaFallback
      ? ` (entry for ${bare} without port: no entry for ${lookup} decided, so ssh checks the bare host name too)`
      : "";
    return { ok: true, matched: `known_hosts line ${by.line}${note}` };
  }
  const pinned = fingerprints?.find((f) => f === presented.fingerprint);
  if (pinned) return { ok: true, matched: `fingerprint ${pinned}` };

  const changed = verdict?.status === "changed";
  const fingerprintMismatch = fingerprints !== undefined;
  const authorities = [
    ...(verdict?.primary.authorities ?? []),
    ...(verdict?.fallback?.authorities ?? []),
  ];
  const reason: HostKeyRefusal =
    changed || fingerprintMismatch
      ? "mismatch"
      : authorities.length > 0
        ? "cert-authority-unsupported"
        : "unknown";

  const details: string[] = [];
  if (changed) {
    details.push(
      `Expected per known-hosts: ${verdict.primary.others.map(describeEntry).join(", ")}.`,
    );
  }
  if (fingerprintMismatch) {
    details.push(
      `Expected per host-fingerprint: ${fingerprints.join(", ")}. A fingerprint pins one key and a host has one key per type; if you pinned another of its keys, pin its ${presented.plainType} key instead.`,
    );
  }
  if (verdict && !changed) {
    if (authorities.length > 0) {
      details.push(
        `It trusts a certificate authority for the host (@cert-authority, line ${lineList(authorities)}), but host certificates are not supported here: pin the host key itself instead.`,
      );
    }
    const fallbackOthers = verdict.fallback?.others ?? [];
    if (fallbackOthers.length > 0) {
      details.push(
        `known-hosts has a different key for ${bare} without port (${fallbackOthers.map(describeEntry).join(", ")})); like ssh, a line without port only counts for port ${port} when it has the same key.`,
      );
    } else if (!changed && authorities.length === 0) {
      details.push(
        `No known-hosts line applies to ${lookup}${lookup === bare ? "" : ` or ${bare}`}.`,
      );
    }
    const note = invalidNote(knownHosts!.invalid);
    if (note) details.push(note);
  }

  const heads: Record<HostKeyRefusal, string> = {
    unknown: `Host key for ${where} is not known.`,
    "cert-authority-unsupported": `Host key for ${where} cannot be verified: known-hosts only has @cert-authority lines for it.`,
    mismatch: `WARNING: the host key of ${where} CHANGED: it is not the key you pinned.`,
    revoked: "",
  };
  const advice =
    reason === "mismatch"
      ? `This can mean someone is intercepting the connection (man-in-the-middle attack), or that the host was reinstalled or its keys regenerated. Check the key on the host (${checkOnHost}) before you update known-hosts or host-fingerprint.`
      : `Verify it out of band (on the host: ${checkOnHost}) and pin it with the host-fingerprint input, or add a line for it to known-hosts (host field: ${lookup}).`;

  return {
    ok: false,
    reason,
    message: [heads[reason], presentedText, ...details, advice].join(" "),
  };
}

// ---------------------------------------------------------------------------------------------
// Algorithm order

/** ssh2 1.17's default host key algorithm order (lib/protocol/constants.js). */
export const SSH2_DEFAULT_HOST_KEY_ALGORITHMS: readonly string[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
];

const ALGORITHM_KEY_TYPES: Record<string, string> = {
  "rsa-sha2-256": "ssh-rsa",
  "rsa-sha2-512": "ssh-rsa",
};

/**
 * Host key algorithms in the order to offer them, as ssh orders its HostKeyAlgorithms: when the
 * first algorithm's key type is known for `[host]:port` (plain, non-revoked lines), the list is
 * kept; otherwise algorithms whose key type known_hosts has for the host move to the front (in
 * their original order). Without this, a server whose only pinned key is RSA would negotiate
 * ed25519 and be refused where ssh connects. Fingerprints carry no key type, so they do not
 * reorder anything.
 */
export function preferredHostKeyAlgorithms(
  policy: HostKeyPolicy,
  host: string,
  port: number,
  algorithms: readonly string[] = SSH2_DEFAULT_HOST_KEY_ALGORITHMS,
): string[] {
  if (policy.knownHosts === undefined) return [...algorithms];
  const name = knownHostsName(host, port);
  const known = new Set(
    parseKnownHosts(policy.knownHosts)
      .entries.filter(
        (e) => e.marker === null && !e.key.certificate && hostNamesMatch(e.hosts, name),
      )
      .map((e) => e.key.type),
  );
  const isKnown = (algorithm: string) => known.has(ALGORITHM_KEY_TYPES[algorithm] ?? algorithm);
  if (algorithms.length === 0 || isKnown(algorithms[0]!)) return [...algorithms];
  return [...algorithms.filter(isKnown), ...algorithms.filter((a) => !isKnown(a))];
}
