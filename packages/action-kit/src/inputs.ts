import * as core from "@actions/core";
import { InputError } from "./errors.js";
import { maskLines } from "./internal/mask.js";
import {
  anchored,
  durationToMs,
  type ListSeparator,
  parseBoolean,
  parseDuration,
  parseEnum,
  parseInteger,
  parseKeyValues,
  parseList,
  parseString,
  RuleViolation,
} from "./internal/parsers.js";

declare const presence: unique symbol;

/**
 * One input of an action: how to parse its text and what to do when it is empty. `Present` is
 * true when the input is required or has a default, so its parsed value is never undefined.
 */
export interface InputDef<T, Present extends boolean = boolean> {
  readonly kind: string;
  readonly required: boolean;
  readonly secret: boolean;
  /** Already parsed; getInputs hands out a copy so callers cannot alter the next run's. */
  readonly default: T | undefined;
  /** Parses the raw, untrimmed text of a non-empty input; throws RuleViolation. */
  readonly parse: (raw: string) => T;
  /** Type-level only: never set at run time. */
  readonly [presence]?: Present;
}

export type InputSpec = Readonly<Record<string, InputDef<unknown>>>;

/** The parsed inputs of a spec: `T` where required or defaulted, otherwise `T | undefined`. */
export type Inputs<S extends InputSpec> = {
  -readonly [K in keyof S]: S[K] extends InputDef<infer T, infer P>
    ? P extends true
      ? T
      : T | undefined
    : never;
};

/** Reads the raw value of an input by its action.yml name; "" when not set. */
export type InputSource = (name: string) => string;

interface Common {
  required?: boolean;
}

interface Secretive {
  /** Mask the value (and each line, and for keyValues each value) the moment it is read. */
  secret?: boolean;
}

type Presence<O> = O extends { required: true }
  ? true
  : O extends { default: infer D }
    ? undefined extends D
      ? false
      : true
    : false;

export interface StringOptions extends Common, Secretive {
  default?: string;
  /** The whole (trimmed) value must match; ^ and $ are implied. */
  pattern?: RegExp;
  maxLength?: number;
}

export interface IntegerOptions extends Common {
  default?: number;
  min?: number;
  max?: number;
}

export interface BooleanOptions extends Common {
  default?: boolean;
}

export interface EnumOptions<V extends string> extends Common {
  default?: V;
}

export interface DurationOptions extends Common {
  /** Written as a user would write it: "120s", "1m30s". The parsed value is milliseconds. */
  default?: string;
  min?: string;
  max?: string;
}

export interface ListOptions extends Common, Secretive {
  default?: readonly string[];
  /** "newline" (the default) or "comma-or-newline" to also split each line on commas. */
  separator?: ListSeparator;
}

export interface KeyValuesOptions extends Common, Secretive {
  default?: Readonly<Record<string, string>>;
}

function define<T, P extends boolean>(
  kind: string,
  options: Common & Secretive & { default?: unknown },
  parse: (raw: string) => T,
  defaultValue: T | undefined,
): InputDef<T, P> {
  if (options.required === true && defaultValue !== undefined) {
    throw new Error(`A ${kind} input cannot be both required and defaulted`);
  }
  return {
    kind,
    required: options.required === true,
    secret: options.secret === true,
    default: defaultValue,
    parse,
  };
}

/** Checks a default against the input's own rules when the spec is defined, not at run time. */
function checkedDefault<T>(kind: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof RuleViolation) {
      const got = error.value === undefined ? "" : ` (got ${JSON.stringify(error.value)})`;
      throw new Error(`Invalid default for ${kind} input: ${error.rule}${got}`);
    }
    throw error;
  }
}

function durationBound(which: string, text: string | undefined) {
  if (text === undefined) return undefined;
  const ms = durationToMs(text);
  if (ms === undefined) throw new Error(`Invalid ${which} for duration input: "${text}"`);
  return { text, ms };
}

function string<const O extends StringOptions>(options?: O): InputDef<string, Presence<O>> {
  const opts: StringOptions = options ?? {};
  const rules = {
    pattern: opts.pattern === undefined ? undefined : anchored(opts.pattern),
    patternText: opts.pattern?.source,
    maxLength: opts.maxLength,
  };
  const parse = (raw: string) => parseString(raw, rules);
  const fallback = opts.default;
  return define(
    "string",
    opts,
    parse,
    checkedDefault("string", () => (fallback === undefined ? undefined : parse(fallback))),
  );
}

function integer<const O extends IntegerOptions>(options?: O): InputDef<number, Presence<O>> {
  const opts: IntegerOptions = options ?? {};
  const parse = (raw: string) => parseInteger(raw, opts);
  const fallback = opts.default;
  return define(
    "integer",
    opts,
    parse,
    checkedDefault("integer", () => (fallback === undefined ? undefined : parse(String(fallback)))),
  );
}

function boolean<const O extends BooleanOptions>(options?: O): InputDef<boolean, Presence<O>> {
  const opts: BooleanOptions = options ?? {};
  return define("boolean", opts, parseBoolean, opts.default);
}

function enumOf<const V extends readonly string[], const O extends EnumOptions<V[number]>>(
  values: V,
  options?: O,
): InputDef<V[number], Presence<O>> {
  const opts: EnumOptions<V[number]> = options ?? {};
  if (values.length === 0) throw new Error("An enum input needs at least one value");
  const parse = (raw: string) => parseEnum(raw, values);
  const fallback = opts.default;
  return define(
    "enum",
    opts,
    parse,
    checkedDefault("enum", () => (fallback === undefined ? undefined : parse(fallback))),
  );
}

function duration<const O extends DurationOptions>(options?: O): InputDef<number, Presence<O>> {
  const opts: DurationOptions = options ?? {};
  const range = { min: durationBound("min", opts.min), max: durationBound("max", opts.max) };
  const parse = (raw: string) => parseDuration(raw, range);
  const fallback = opts.default;
  return define(
    "duration",
    opts,
    parse,
    checkedDefault("duration", () => (fallback === undefined ? undefined : parse(fallback))),
  );
}

function list<const O extends ListOptions>(options?: O): InputDef<string[], Presence<O>> {
  const opts: ListOptions = options ?? {};
  const parse = (raw: string) => parseList(raw, opts.separator);
  return define("list", opts, parse, opts.default === undefined ? undefined : [...opts.default]);
}

function keyValues<const O extends KeyValuesOptions>(
  options?: O,
): InputDef<Map<string, string>, Presence<O>> {
  const opts: KeyValuesOptions = options ?? {};
  const fallback = opts.default;
  const checked = checkedDefault("keyValues", () =>
    fallback === undefined
      ? undefined
      : parseKeyValues(
          Object.entries(fallback)
            .map(([key, value]) => `${key}=${value}`)
            .join("\n"),
        ),
  );
  return define("keyValues", opts, parseKeyValues, checked);
}

/**
 * Builders for an action's input spec. Each returns a definition; `getInputs(spec)` reads and
 * parses them all. Empty (after trimming) means "not supplied": the default if there is one,
 * an InputError if required, otherwise undefined.
 *
 * - `string`: trimmed; `pattern` must match the whole value; `maxLength`.
 * - `integer`: decimal digits with optional sign; `min`/`max` inclusive.
 * - `boolean`: true|True|TRUE|false|False|FALSE (YAML 1.2 core schema, like getBooleanInput).
 * - `enum`: exactly one of the listed values (case-sensitive).
 * - `duration`: `250ms`, `90s`, `5m`, `1h`, `1m30s` or bare seconds; parsed to milliseconds.
 * - `list`: one item per line (or per comma too with `separator: "comma-or-newline"`); items
 *   trimmed; blank lines and lines starting with `#` dropped. No inline comments.
 * - `keyValues`: `KEY=VALUE` lines into a Map; keys `^[A-Za-z_][A-Za-z0-9_]*$`, unique; the
 *   value is the raw text after the first `=` (not trimmed, quotes kept literally).
 */
export const input = {
  string,
  integer,
  boolean,
  enum: enumOf,
  duration,
  list,
  keyValues,
};

function readActionInput(name: string): string {
  // Untrimmed: each parser trims what it should and keeps a multi-line value's inner lines.
  return core.getInput(name, { trimWhitespace: false });
}

/**
 * Reads and parses every input of `spec`. All raw values are read first, and secret ones are
 * masked right then; only then are they parsed, in spec order, and the FIRST failing input
 * throws its InputError. Nothing else happens here, so an action that calls getInputs before
 * doing anything has validated every input before its first side effect.
 *
 * This is the only caller of core.getInput; `source` replaces it in tests and in the CLI.
 * `mask: false` is for the CLI: outside a runner `::add-mask::` would print the secret itself.
 */
export function getInputs<const S extends InputSpec>(
  spec: S,
  source: InputSource = readActionInput,
  options: { mask?: boolean } = {},
): Inputs<S> {
  const mask = options.mask ?? true;
  const raws = Object.entries(spec).map(([name, def]) => {
    const raw = source(name);
    if (mask && def.secret && raw.trim() !== "") maskLines(raw);
    return { name, def, raw };
  });

  const parsed: Record<string, unknown> = {};
  for (const { name, def, raw } of raws) {
    parsed[name] = parseOne(name, def, raw, mask);
  }
  return parsed as Inputs<S>;
}

function parseOne(name: string, def: InputDef<unknown>, raw: string, mask: boolean): unknown {
  if (raw.trim() === "") {
    if (def.default !== undefined) return structuredClone(def.default);
    if (def.required) throw new InputError(name, "is required", { secret: def.secret });
    return undefined;
  }
  let value: unknown;
  try {
    value = def.parse(raw);
  } catch (error) {
    if (!(error instanceof RuleViolation)) throw error;
    const options = error.value === undefined ? {} : { value: error.value };
    throw new InputError(name, error.rule, { ...options, secret: def.secret });
  }
  // Lines were masked on reading; the parts a value splits into are masked one by one too.
  if (mask && def.secret && (value instanceof Map || Array.isArray(value))) {
    for (const part of value.values()) {
      if (typeof part === "string" && part !== "") maskLines(part);
    }
  }
  if (def.required && isEmptyCollection(value)) {
    throw new InputError(name, "is required and must list at least one entry", {
      secret: def.secret,
    });
  }
  return value;
}

function isEmptyCollection(value: unknown): boolean {
  return (Array.isArray(value) && value.length === 0) || (value instanceof Map && value.size === 0);
}
