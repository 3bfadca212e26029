/**
 * A deliberately tiny subset of JSONPath, enough to point at one value in a health response:
 *
 * - an optional `$` for the document root, then
 * - `.name` steps, where a name is a letter or `_` followed by letters, digits, `_` or `-`
 *   (the first step may omit the dot when there is no `$`: `data.items[0].ok`), and
 * - `[n]` steps, where n is a non-negative decimal index into an array.
 *
 * No wildcards, filters, slices, negative indexes, quoted keys or recursive descent: a health
 * check compares exactly one value, and anything more is a query language to get wrong.
 */

export type PathStep = { key: string } | { index: number };

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*/;
const INDEX = /^\[(0|[1-9][0-9]{0,8})\]/;

/** Parses a path into its steps; throws an Error saying what is wrong and where. */
export function parseJsonPath(path: string): PathStep[] {
  const steps: PathStep[] = [];
  let rest = path;
  if (rest.startsWith("$")) rest = rest.slice(1);
  else {
    // Without `$`, a bare first name is allowed: `status` means `$.status`.
    const first = NAME.exec(rest);
    if (first === null) throw new Error(unexpected(path, rest));
    steps.push({ key: first[0] });
    rest = rest.slice(first[0].length);
  }
  while (rest !== "") {
    if (rest.startsWith(".")) {
      const name = NAME.exec(rest.slice(1));
      if (name === null) throw new Error(unexpected(path, rest));
      steps.push({ key: name[0] });
      rest = rest.slice(1 + name[0].length);
      continue;
    }
    const index = INDEX.exec(rest);
    if (index === null) throw new Error(unexpected(path, rest));
    steps.push({ index: Number(index[1]) });
    rest = rest.slice(index[0].length);
  }
  return steps;
}

function unexpected(path: string, rest: string): string {
  const at = path.length - rest.length;
  return (
    `cannot read ${JSON.stringify(path)} at character ${at + 1}: ` +
    "use $, .name and [n] steps only (like $.status or data.items[0].ok)"
  );
}

/** Writes steps back as a canonical path (`$.data.items[0]`), for messages. */
export function formatJsonPath(steps: readonly PathStep[]): string {
  return `$${steps.map((step) => ("key" in step ? `.${step.key}` : `[${step.index}]`)).join("")}`;
}

export type Lookup =
  | { found: true; value: unknown }
  | { found: false /** The deepest path that did exist. */; at: string; missing: string };

/** Follows `steps` into a parsed JSON document. Only own properties count (no `constructor`). */
export function lookUp(document: unknown, steps: readonly PathStep[]): Lookup {
  let current: unknown = document;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const at = formatJsonPath(steps.slice(0, i));
    if ("key" in step) {
      const isObject = typeof current === "object" && current !== null && !Array.isArray(current);
      if (!isObject || !Object.hasOwn(current as object, step.key)) {
        return { found: false, at, missing: `no key "${step.key}" in ${describeKind(current)}` };
      }
      current = (current as Record<string, unknown>)[step.key];
    } else {
      if (!Array.isArray(current) || step.index >= current.length) {
        const what = Array.isArray(current)
          ? `an array of ${current.length}`
          : describeKind(current);
        return { found: false, at, missing: `no index ${step.index} in ${what}` };
      }
      current = current[step.index];
    }
  }
  return { found: true, value: current };
}

export function describeKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}
