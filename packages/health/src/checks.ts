import { LineCounter, parseDocument } from "yaml";
import { parseJsonPath } from "./internal/json-path.js";

export type JsonScalar = string | number | boolean | null;

/** One HTTP health check: GET `url`, then judge the status and (optionally) the body. */
export interface Check {
  /** Unique within a list of checks; the URL's host and path unless set. */
  name: string;
  /** http: or https:, without user:password@. */
  url: string;
  /** Statuses that count as a pass. Redirects are not followed: a 301 is just a status. */
  expectStatus: number[];
  /** The body (its first 64 KiB) must contain this text. */
  contains?: string;
  /** With `equals`: the JSON body's value at this path must equal `equals` (same type). */
  jsonPath?: string;
  equals?: JsonScalar;
}

/**
 * A list of checks broke a rule. `entry` is 1-based (the first check is entry 1) and absent
 * when the whole list is wrong (not YAML, not a list).
 */
export class CheckSpecError extends Error {
  readonly entry: number | undefined;
  readonly rule: string;

  constructor(entry: number | undefined, rule: string) {
    super(
      entry === undefined ? `Health check list ${rule}` : `Health check entry ${entry}: ${rule}`,
    );
    this.name = "CheckSpecError";
    this.entry = entry;
    this.rule = rule;
  }
}

/** Enough for any real stack; the bound keeps one gate's request loops countable. */
export const MAX_CHECKS = 50;
const MAX_NAME_LENGTH = 100;
const KEYS = ["name", "url", "expect-status", "contains", "json-path", "equals"] as const;
const DEFAULT_STATUS = [200];

/**
 * Reads checks written as a YAML list of maps:
 *
 * ```yaml
 * - url: https://app.example.com/health
 * - name: api
 *   url: http://10.0.0.5:3001/health
 *   expect-status: [200, 204]
 *   contains: ok
 * - url: http://10.0.0.5:3001/status
 *   json-path: $.database.ready
 *   equals: true
 * ```
 *
 * Throws CheckSpecError naming the entry and the rule it breaks.
 */
export function parseChecks(yamlText: string): Check[] {
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, {
    prettyErrors: false,
    uniqueKeys: true,
    lineCounter: lines,
  });
  const error = doc.errors[0];
  if (error !== undefined) {
    const pos = lines.linePos(error.pos[0]);
    const where = ` (line ${pos.line}, column ${pos.col})`;
    throw new CheckSpecError(undefined, `is not valid YAML${where}: ${error.message}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    throw new CheckSpecError(undefined, `is not valid YAML: ${(cause as Error).message}`);
  }
  if (value === null || value === undefined) {
    throw new CheckSpecError(undefined, "must list at least one check");
  }
  if (!Array.isArray(value)) {
    throw new CheckSpecError(
      undefined,
      `must be a YAML list of checks ("- url: ..." per check), not ${kindOf(value)}`,
    );
  }
  checkCount(value.length);
  const checks = value.map((entry, i) => checkFromEntry(entry, i + 1));
  rejectDuplicateNames(checks);
  return checks;
}

/** One check per URL (each expecting 200), as the `urls` input lists them. */
export function checksFromUrls(urls: readonly string[]): Check[] {
  checkCount(urls.length);
  const checks = urls.map((text, i) => {
    const url = parseUrl(text.trim(), i + 1);
    return { name: defaultName(url), url: url.href, expectStatus: [...DEFAULT_STATUS] };
  });
  rejectDuplicateNames(checks);
  return checks;
}

function checkCount(count: number): void {
  if (count === 0) throw new CheckSpecError(undefined, "must list at least one check");
  if (count > MAX_CHECKS) {
    throw new CheckSpecError(undefined, `must list at most ${MAX_CHECKS} checks (got ${count})`);
  }
}

function checkFromEntry(entry: unknown, n: number): Check {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    const got = typeof entry === "string" ? ` (got the string ${JSON.stringify(entry)})` : "";
    throw new CheckSpecError(n, `must be a map with at least "url: ..."${got}`);
  }
  const fields = entry as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      const near = KEYS.find((known) => squash(known) === squash(key));
      const advice =
        near === undefined ? `known keys: ${KEYS.join(", ")}` : `did you mean ${near}?`;
      throw new CheckSpecError(n, `has an unknown key "${key}" (${advice})`);
    }
  }

  if (fields.url === undefined || fields.url === null) {
    throw new CheckSpecError(n, `needs a "url"`);
  }
  if (typeof fields.url !== "string") {
    throw new CheckSpecError(n, `"url" must be a string, not ${kindOf(fields.url)}`);
  }
  const url = parseUrl(fields.url.trim(), n);
  const check: Check = {
    name: fields.name === undefined ? defaultName(url) : parseName(fields.name, n),
    url: url.href,
    expectStatus:
      fields["expect-status"] === undefined
        ? [...DEFAULT_STATUS]
        : parseStatuses(fields["expect-status"], n),
  };

  if (fields.contains !== undefined) {
    if (typeof fields.contains !== "string" || fields.contains === "") {
      throw new CheckSpecError(n, `"contains" must be a non-empty string`);
    }
    check.contains = fields.contains;
  }

  const hasPath = fields["json-path"] !== undefined;
  const hasEquals = Object.hasOwn(fields, "equals");
  if (hasPath !== hasEquals) {
    throw new CheckSpecError(
      n,
      hasPath
        ? `"json-path" needs "equals" (the value expected there; use equals: null for null)`
        : `"equals" needs "json-path" (where in the JSON body to look)`,
    );
  }
  if (hasPath) {
    const path = fields["json-path"];
    if (typeof path !== "string") {
      throw new CheckSpecError(n, `"json-path" must be a string, not ${kindOf(path)}`);
    }
    try {
      parseJsonPath(path.trim());
    } catch (cause) {
      throw new CheckSpecError(n, `"json-path" ${(cause as Error).message}`);
    }
    const equals = fields.equals;
    if (!isScalar(equals)) {
      throw new CheckSpecError(
        n,
        `"equals" must be a string, number, boolean or null, not ${kindOf(equals)}`,
      );
    }
    check.jsonPath = path.trim();
    check.equals = equals;
  }
  return check;
}

function parseUrl(text: string, n: number): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CheckSpecError(n, `"url" must be an absolute http or https URL (got ${show(text)})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CheckSpecError(n, `"url" must use http or https (got ${show(url.protocol)})`);
  }
  if (url.username !== "" || url.password !== "") {
    // They would be printed in logs, the report and the summary.
    throw new CheckSpecError(n, `"url" must not carry credentials (user:password@)`);
  }
  return url;
}

function defaultName(url: URL): string {
  return `${url.host}${url.pathname}`;
}

function parseName(value: unknown, n: number): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new CheckSpecError(n, `"name" must be a non-empty string`);
  }
  const name = value.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new CheckSpecError(n, `"name" must be one line of printable text`);
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new CheckSpecError(n, `"name" must be at most ${MAX_NAME_LENGTH} characters long`);
  }
  return name;
}

function parseStatuses(value: unknown, n: number): number[] {
  const rule = `"expect-status" must be an HTTP status (100-599) or a list of them`;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new CheckSpecError(n, `${rule} (got an empty list)`);
  const statuses: number[] = [];
  for (const item of list) {
    if (typeof item !== "number" || !Number.isInteger(item) || item < 100 || item > 599) {
      throw new CheckSpecError(n, `${rule} (got ${show(item)})`);
    }
    if (!statuses.includes(item)) statuses.push(item);
  }
  return statuses;
}

function rejectDuplicateNames(checks: readonly Check[]): void {
  const firstUse = new Map<string, number>();
  checks.forEach((check, i) => {
    const earlier = firstUse.get(check.name);
    if (earlier !== undefined) {
      throw new CheckSpecError(
        i + 1,
        `has the same name as entry ${earlier} (${show(check.name)}); give one of them a "name"`,
      );
    }
    firstUse.set(check.name, i + 1);
  });
}

function isScalar(value: unknown): value is JsonScalar {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return `a ${typeof value}`;
}

function squash(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, "");
}

function show(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
