/**
 * Errors of the Proxmox client. Each carries a `hint` (what to do), which action-kit's run()
 * prints under the failure without this package depending on it.
 */

/** Proxmox answered with an HTTP error: its status, its message and per-parameter errors. */
export class ProxmoxApiError extends Error {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  /** Proxmox's own message (JSON `message`, else the reason phrase), trimmed. */
  readonly pveMessage: string;
  /** Per-parameter reasons of a 400 "Parameter verification failed." */
  readonly errors: Record<string, string>;
  readonly hint: string | undefined;

  constructor(options: {
    status: number;
    method: string;
    path: string;
    pveMessage: string;
    errors?: Record<string, string>;
  }) {
    const errors = options.errors ?? {};
    const details = Object.entries(errors)
      .map(([param, reason]) => `${param}: ${reason.trim()}`)
      .join("; ");
    const said = options.pveMessage === "" ? "" : ` ${options.pveMessage}`;
    super(
      `${options.method} ${options.path} failed with HTTP ${options.status}:${said}${details ? ` (${details})` : ""}`,
    );
    this.name = "ProxmoxApiError";
    this.status = options.status;
    this.method = options.method;
    this.path = options.path;
    this.pveMessage = options.pveMessage;
    this.errors = errors;
    this.hint = hintFor(options.status);
  }
}

function hintFor(status: number): string | undefined {
  if (status === 401) {
    return "Check token-id (USER@REALM!TOKENID) and token-secret: Proxmox did not accept the API token.";
  }
  if (status === 403) {
    return "The token lacks a privilege: grant it on the path named above (Datacenter > Permissions), or give the token the privileges of its user (no privilege separation).";
  }
  return undefined;
}

/** A task (UPID) ended with an exit status other than OK or WARNINGS. */
export class ProxmoxTaskError extends Error {
  readonly upid: string;
  readonly exitstatus: string;
  /** The last lines of the task log. */
  readonly logTail: string[];
  readonly hint: string;

  constructor(what: string, upid: string, exitstatus: string, logTail: string[]) {
    super(
      `${what}: task ${upid} ended with "${exitstatus}"${logTail.length > 0 ? `; task log ends:\n${logTail.join("\n")}` : ""}`,
    );
    this.name = "ProxmoxTaskError";
    this.upid = upid;
    this.exitstatus = exitstatus;
    this.logTail = logTail;
    this.hint = "See the task log above (also under Tasks in the Proxmox web interface).";
  }
}

/** The API could not be reached (refused, reset, TLS failure, timeout). */
export class ProxmoxConnectionError extends Error {
  readonly hint: string | undefined;

  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ProxmoxConnectionError";
    this.hint = options.hint;
  }
}

/** The certificate presented does not have the pinned fingerprint. */
export class FingerprintMismatchError extends Error {
  readonly code = "ERR_PVE_FINGERPRINT_MISMATCH";
  readonly hint: string;

  constructor(expected: string[], got: string) {
    super(
      `the server's certificate has SHA-256 fingerprint ${got}, not the pinned ${expected.join(" or ")}; no request was sent`,
    );
    this.name = "FingerprintMismatchError";
    this.hint =
      "If the node's certificate was renewed on purpose, update tls-fingerprint (Node > System > Certificates shows it); otherwise something else answered at api-url.";
  }
}

/** A guest spec broke a rule; `field` names where ("guests[2].network.ip"). */
export class SpecError extends Error {
  readonly field: string;
  readonly rule: string;

  constructor(field: string, rule: string) {
    super(`${field} ${rule}`);
    this.name = "SpecError";
    this.field = field;
    this.rule = rule;
  }
}
