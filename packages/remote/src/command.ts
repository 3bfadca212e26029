/**
 * Remote commands as data.
 *
 * A command is built from argument arrays and tagged operators; nothing here runs anything.
 * `render` turns it into the one string the remote POSIX shell sees, and `quote` is the only
 * function that decides how a value is written into that string. No value can become an
 * operator, a redirection or an assignment: operators are not strings, they are tagged parts.
 */

const SCRIPT = Symbol("smoker.script");

type Operator = "&&" | "||" | "|" | ";";

type Part =
  | { readonly kind: "argv"; readonly argv: readonly string[] }
  | { readonly kind: "op"; readonly op: Operator }
  | { readonly kind: "group"; readonly script: Script }
  | {
      readonly kind: "redirect";
      readonly script: Script;
      readonly fd: 0 | 1 | 2;
      readonly mode: "<" | ">" | ">>";
      readonly target: string;
    }
  | { readonly kind: "dup"; readonly script: Script; readonly from: 2; readonly to: 1 }
  | {
      readonly kind: "env";
      readonly vars: readonly (readonly [string, string])[];
      readonly argv: readonly string[];
    };

export interface Script {
  readonly [SCRIPT]: true;
  readonly parts: readonly Part[];
}

export class UnsafeValueError extends Error {
  override name = "UnsafeValueError";
}

function script(parts: Part[]): Script {
  return Object.freeze({ [SCRIPT]: true as const, parts: Object.freeze(parts) });
}

export function isScript(value: unknown): value is Script {
  return typeof value === "object" && value !== null && SCRIPT in value;
}

/** A simple command: program and arguments, each one token. */
export function cmd(program: string, ...args: readonly string[]): Script {
  return script([{ kind: "argv", argv: [program, ...args] }]);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A command run with extra environment variables (`NAME=value program args`). Values appear on
 * the remote command line, so never pass a secret here: secrets go on stdin or in 0600 files.
 */
export function withEnv(vars: Record<string, string>, program: string, ...args: string[]): Script {
  const entries = Object.entries(vars);
  for (const [name] of entries) {
    if (!ENV_NAME.test(name)) {
      throw new UnsafeValueError(
        `environment variable name ${JSON.stringify(name)} must match ${ENV_NAME}`,
      );
    }
  }
  return script([{ kind: "env", vars: entries, argv: [program, ...args] }]);
}

function join(op: Operator, scripts: readonly Script[]): Script {
  if (scripts.length === 0) throw new UnsafeValueError(`"${op}" needs at least one command`);
  const parts: Part[] = [];
  scripts.forEach((s, i) => {
    if (i > 0) parts.push({ kind: "op", op });
    // Each operand is grouped when it is itself compound, so `and(or(a, b), c)` keeps its meaning.
    parts.push(s.parts.length === 1 ? s.parts[0]! : { kind: "group", script: s });
  });
  return script(parts);
}

/** `a && b && c`: stops at the first failure. */
export const and = (...scripts: Script[]): Script => join("&&", scripts);
/** `a || b`. */
export const or = (...scripts: Script[]): Script => join("||", scripts);
/** `a | b`: the exit status is the last command's (POSIX sh has no pipefail). */
export const pipe = (...scripts: Script[]): Script => join("|", scripts);
/** `a ; b`: runs every command whatever the status. */
export const seq = (...scripts: Script[]): Script => join(";", scripts);

/** Redirect stdin from, or stdout/stderr to, a remote path. */
export function redirect(
  s: Script,
  spec: { stdin?: string; stdout?: string; append?: boolean; stderr?: string | "stdout" },
): Script {
  let out = s;
  if (spec.stdin !== undefined) {
    out = script([{ kind: "redirect", script: out, fd: 0, mode: "<", target: spec.stdin }]);
  }
  if (spec.stdout !== undefined) {
    out = script([
      { kind: "redirect", script: out, fd: 1, mode: spec.append ? ">>" : ">", target: spec.stdout },
    ]);
  }
  if (spec.stderr === "stdout") {
    out = script([{ kind: "dup", script: out, from: 2, to: 1 }]);
  } else if (spec.stderr !== undefined) {
    out = script([{ kind: "redirect", script: out, fd: 2, mode: ">", target: spec.stderr }]);
  }
  return out;
}

/**
 * Run `s` inside `dir`, failing when the directory is missing. (node-ssh's `cwd` option runs
 * `cd dir ;` and carries on in $HOME when dir does not exist; this never does.)
 */
export function inDir(dir: string, s: Script): Script {
  return and(cmd("cd", "--", dir), s);
}

// Characters that are never special to a POSIX shell anywhere in a word. `=` is left out
// (a first word `A=b` is an assignment), so are `~` (tilde expansion), globs, `#`, and spaces.
const BARE = /^[A-Za-z0-9_@%+:,./-]+$/;

/**
 * THE quoting function: every value that reaches a remote command line passes through here.
 * Single quotes make every byte literal in POSIX sh; a single quote itself is written as
 * `'\''`. NUL cannot be passed in an argument at all, so it is rejected.
 */
export function quote(value: string): string {
  if (value.includes("\0")) {
    throw new UnsafeValueError("a command argument cannot contain a NUL character");
  }
  if (value !== "" && BARE.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function renderPart(p: Part): string {
  switch (p.kind) {
    case "argv":
      return p.argv.map(quote).join(" ");
    case "env":
      return [...p.vars.map(([k, v]) => `${k}=${quote(v)}`), ...p.argv.map(quote)].join(" ");
    case "op":
      return p.op;
    case "group":
      return `{ ${render(p.script)}; }`;
    case "redirect":
      return `${renderOperand(p.script)} ${p.fd === 1 ? "" : p.fd}${p.mode} ${quote(p.target)}`;
    case "dup":
      return `${renderOperand(p.script)} 2>&1`;
  }
}

function renderOperand(s: Script): string {
  return s.parts.length === 1 ? renderPart(s.parts[0]!) : `{ ${render(s)}; }`;
}

/** The command line the remote shell receives. */
export function render(s: Script): string {
  if (!isScript(s))
    throw new UnsafeValueError("render() takes a command built with cmd()/and()/pipe()");
  return s.parts.map(renderPart).join(" ");
}
