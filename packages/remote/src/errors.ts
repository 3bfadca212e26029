/** Errors from the remote layer. Each says what failed and, in `hint`, what to do about it. */
export class RemoteError extends Error {
  override name = "RemoteError";
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
  }
}

/** The host presented a key that the policy does not accept. Raised before authentication. */
export class HostKeyError extends RemoteError {
  override name = "HostKeyError";
  constructor(
    message: string,
    readonly fingerprint: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/**
 * Why a connection did not come up. "unreachable": no answer in time, refused, or no route
 * (the host is off or away: worth trying later); the others need someone to fix something.
 */
export type ConnectFailure = "unreachable" | "not-ssh" | "login" | "key" | "other";

/** TCP connect, handshake or authentication did not complete. */
export class ConnectError extends RemoteError {
  override name = "ConnectError";
  readonly reason: ConnectFailure;
  constructor(
    message: string,
    options: { hint?: string; cause?: unknown; reason?: ConnectFailure } = {},
  ) {
    super(message, options);
    this.reason = options.reason ?? "other";
  }
}

/** The connection died (keepalive timeout, reset, host gone) while it was in use. */
export class ConnectionLostError extends RemoteError {
  override name = "ConnectionLostError";
}

/** A remote command exited non-zero (or was killed by a signal). */
export class RemoteCommandError extends RemoteError {
  override name = "RemoteCommandError";
  constructor(
    message: string,
    readonly command: string,
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** A remote command ran longer than its timeout; its channel was closed. */
export class CommandTimeoutError extends RemoteError {
  override name = "CommandTimeoutError";
}
