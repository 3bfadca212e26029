import { ActionError, InputError } from "../errors.js";
import { phaseOf } from "../log.js";

// Guards against cause cycles and absurdly deep chains.
const MAX_CAUSES = 8;

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [error];
  let current = error;
  while (current instanceof Error && current.cause !== undefined && chain.length < MAX_CAUSES) {
    current = current.cause;
    if (chain.includes(current)) break;
    chain.push(current);
  }
  return chain;
}

/** Text for anything thrown, including non-Error values (`throw "oops"`, `throw {code: 1}`). */
function messageOf(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message || thrown.name;
  if (typeof thrown === "string") return thrown;
  if (typeof thrown === "object" && thrown !== null) {
    try {
      return JSON.stringify(thrown);
    } catch {
      return Object.prototype.toString.call(thrown);
    }
  }
  return String(thrown);
}

/**
 * Errors that say what failed and what to do: ActionError, and the domain errors of other
 * packages (remote, deploy) that carry a `hint` field without depending on this kit.
 */
function isDescribed(error: unknown): error is Error & { hint?: unknown } {
  return error instanceof ActionError || (error instanceof Error && "hint" in error);
}

function hintOf(error: unknown): string | undefined {
  return isDescribed(error) && typeof error.hint === "string" && error.hint !== ""
    ? error.hint
    : undefined;
}

/**
 * The one message a failure ends in: `<what failed>: <why>` and, on its own line, what to do.
 *
 * - what failed: the phase the error escaped from (`Pull images failed`); outside any phase
 *   an ActionError's message already says it, anything else is called unexpected.
 * - why: the messages down the cause chain, each once.
 * - what to do: the first `hint` found down the chain.
 */
export function describeFailure(error: unknown): string {
  const where = phaseOf(error);
  let what: string | undefined;
  if (where !== undefined) what = `${where} failed`;
  else if (error instanceof Error) what = isDescribed(error) ? undefined : "Unexpected error";
  else what = "Unexpected error (a non-Error value was thrown)";

  const reasons: string[] = [];
  let hint: string | undefined;
  for (const link of causeChain(error)) {
    const message = messageOf(link);
    // Wrappers often repeat their cause's message; say each thing once.
    if (message !== "" && !reasons.some((reason) => reason.includes(message))) {
      reasons.push(message);
    }
    hint ??= hintOf(link);
  }
  const line = [...(what === undefined ? [] : [what]), ...reasons].join(": ");
  return hint === undefined ? line : `${line}\n${hint}`;
}

/** Stack traces of the error and its causes, for core.debug. */
export function describeStacks(error: unknown): string[] {
  return causeChain(error).flatMap((link) => {
    if (!(link instanceof Error) || link.stack === undefined) return [];
    // An InputError's stack adds nothing the message does not say.
    return link instanceof InputError ? [] : [link.stack];
  });
}
