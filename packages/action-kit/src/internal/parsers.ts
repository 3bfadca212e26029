/**
 * Text-to-value parsers behind `input.*`. They know nothing about input names or secrecy: a
 * broken rule is thrown as a RuleViolation, which getInputs turns into an InputError (and
 * the builders into a programming error when a default is invalid).
 */
export class RuleViolation extends Error {
  readonly rule: string;
  /** The offending text, shown to the user unless the input is secret; omitted when useless. */
  readonly value: string | undefined;

  constructor(rule: string, value?: string) {
    super(rule);
    this.name = "RuleViolation";
    this.rule = rule;
    this.value = value;
  }
}

// YAML 1.2 core schema booleans, the same set core.getBooleanInput accepts.
const TRUE_WORDS = new Set(["true", "True", "TRUE"]);
const FALSE_WORDS = new Set(["false", "False", "FALSE"]);

export function parseBoolean(raw: string): boolean {
  const text = raw.trim();
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  throw new RuleViolation("must be true or false", text);
}

export interface Range<T> {
  min?: T | undefined;
  max?: T | undefined;
}

function rangeWords(min: string | undefined, max: string | undefined): string {
  if (min !== undefined && max !== undefined) return `from ${min} to ${max}`;
  if (min !== undefined) return `at least ${min}`;
  if (max !== undefined) return `at most ${max}`;
  return "";
}

export function parseInteger(raw: string, range: Range<number> = {}): number {
  const text = raw.trim();
  const words = rangeWords(range.min?.toString(), range.max?.toString());
  const rule = words === "" ? "must be an integer" : `must be an integer ${words}`;
  if (!/^[+-]?\d+$/.test(text)) throw new RuleViolation(rule, text);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RuleViolation(rule, text);
  if (range.min !== undefined && value < range.min) throw new RuleViolation(rule, text);
  if (range.max !== undefined && value > range.max) throw new RuleViolation(rule, text);
  return value;
}

export function parseEnum<V extends string>(raw: string, values: readonly V[]): V {
  const text = raw.trim();
  const match = values.find((value) => value === text);
  if (match === undefined) throw new RuleViolation(`must be one of: ${values.join(", ")}`, text);
  return match;
}

export interface StringRules {
  /** Anchored whole-value match (see anchored()). */
  pattern?: RegExp | undefined;
  /** The pattern as the spec author wrote it, for the message. */
  patternText?: string | undefined;
  maxLength?: number | undefined;
}

/**
 * The spec's pattern must match the WHOLE value, whether or not its author wrote ^ and $;
 * a partial match is how "1.0;touch /tmp/pwn" slips through /[0-9.]+/. Stateful (g, y) and
 * line-anchor (m) flags would change that meaning, so they are dropped.
 */
export function anchored(pattern: RegExp): RegExp {
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gym]/g, ""));
}

export function parseString(raw: string, rules: StringRules = {}): string {
  const text = raw.trim();
  if (rules.maxLength !== undefined && text.length > rules.maxLength) {
    // The value is not echoed: it is long by definition.
    throw new RuleViolation(
      `must be at most ${rules.maxLength} characters long (got ${text.length})`,
    );
  }
  if (rules.pattern !== undefined && !rules.pattern.test(text)) {
    throw new RuleViolation(`must match ${rules.patternText ?? rules.pattern.source}`, text);
  }
  return text;
}

export const DURATION_FORMS =
  "must be a duration such as 250ms, 90s, 5m, 1h or 1m30s (a bare number means seconds)";

const BARE_SECONDS = /^\d+(?:\.\d+)?$/;
// Units in descending order, each at most once; `m(?!s)` keeps "250ms" from reading as minutes.
const COMPOUND = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Milliseconds for `250ms`, `90s`, `5m`, `1h`, `1h2m3s4ms` or bare seconds (`1.5`). */
export function durationToMs(text: string): number | undefined {
  if (BARE_SECONDS.test(text)) {
    const ms = Math.round(Number(text) * 1000);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  const match = COMPOUND.exec(text);
  if (match === null) return undefined;
  const [, hours, minutes, seconds, millis] = match;
  if ([hours, minutes, seconds, millis].every((part) => part === undefined)) return undefined;
  const ms =
    Number(hours ?? 0) * 3_600_000 +
    Number(minutes ?? 0) * 60_000 +
    Number(seconds ?? 0) * 1000 +
    Number(millis ?? 0);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

export interface DurationRange {
  min?: { text: string; ms: number } | undefined;
  max?: { text: string; ms: number } | undefined;
}

export function parseDuration(raw: string, range: DurationRange = {}): number {
  const text = raw.trim();
  const ms = durationToMs(text);
  if (ms === undefined) throw new RuleViolation(DURATION_FORMS, text);
  const tooShort = range.min !== undefined && ms < range.min.ms;
  const tooLong = range.max !== undefined && ms > range.max.ms;
  if (tooShort || tooLong) {
    throw new RuleViolation(`must be ${rangeWords(range.min?.text, range.max?.text)}`, text);
  }
  return ms;
}

export type ListSeparator = "newline" | "comma-or-newline";

function isSkippable(line: string): boolean {
  return line === "" || line.startsWith("#");
}

/** One item per line (or per comma too); items trimmed; blank and `#` comment lines dropped. */
export function parseList(raw: string, separator: ListSeparator = "newline"): string[] {
  const lines = raw
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => !isSkippable(line));
  const items = separator === "newline" ? lines : lines.flatMap((line) => line.split(","));
  return items.map((item) => item.trim()).filter((item) => item !== "");
}

export const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `KEY=VALUE` per line. Leading indentation and a trailing `\r` are ignored; the value is the
 * raw rest of the line after the first `=` (no quoting, no escapes, no trimming), so it may
 * itself contain `=`. Errors name the 1-based line number in the input as written.
 */
export function parseKeyValues(raw: string): Map<string, string> {
  const pairs = new Map<string, string>();
  const firstLineOf = new Map<string, number>();
  raw.split("\n").forEach((rawLine, index) => {
    const lineNumber = index + 1;
    const line = rawLine.replace(/\r$/, "").trimStart();
    if (isSkippable(line.trimEnd())) return;
    const equals = line.indexOf("=");
    if (equals < 0) throw new RuleViolation(`line ${lineNumber}: must be KEY=VALUE`, line);
    const key = line.slice(0, equals);
    if (!KEY_PATTERN.test(key)) {
      throw new RuleViolation(`line ${lineNumber}: key must match ${KEY_PATTERN.source}`, key);
    }
    const earlier = firstLineOf.get(key);
    if (earlier !== undefined) {
      throw new RuleViolation(`line ${lineNumber}: repeats the key of line ${earlier}`, key);
    }
    firstLineOf.set(key, lineNumber);
    pairs.set(key, line.slice(equals + 1));
  });
  return pairs;
}
