/** Options shared by every error an action throws on purpose. */
export interface ActionErrorOptions {
  /** What the user should do about it; printed on its own line under the failure. */
  hint?: string;
  /** The lower-level error that explains why; its message is appended after a colon. */
  cause?: unknown;
}

/**
 * A failure the action anticipated. `message` says what failed ("Could not reach 10.0.0.5:22"),
 * `cause` says why, `hint` says what to do. `run()` prints `<message>: <cause>` and the hint.
 */
export class ActionError extends Error {
  readonly hint: string | undefined;

  constructor(message: string, options: ActionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ActionError";
    this.hint = options.hint;
  }
}

export interface InputErrorOptions {
  /** The offending value, shown as `(got "...")` unless the input is secret. */
  value?: string;
  /** When true the value is never shown: the message says `(value hidden)` instead. */
  secret?: boolean;
  hint?: string;
}

// Long values (a pasted file, a whole key) would drown the message; the start is enough.
const SHOWN_VALUE_LIMIT = 120;

function describeValue(value: string | undefined, secret: boolean): string {
  if (value === undefined) return "";
  if (secret) return " (value hidden)";
  const shown = value.length > SHOWN_VALUE_LIMIT ? `${value.slice(0, SHOWN_VALUE_LIMIT)}…` : value;
  return ` (got ${JSON.stringify(shown)})`;
}

/**
 * An input broke a rule: `Input "<input>" <rule> (got "<value>")`. The value itself is not
 * kept on the error, so a secret cannot leak through inspection or serialisation either.
 */
export class InputError extends ActionError {
  readonly input: string;
  readonly rule: string;

  constructor(input: string, rule: string, options: InputErrorOptions = {}) {
    super(
      `Input "${input}" ${rule}${describeValue(options.value, options.secret === true)}`,
      options.hint === undefined ? {} : { hint: options.hint },
    );
    this.name = "InputError";
    this.input = input;
    this.rule = rule;
  }
}
