// Must stay the first import: it defines what ssh2 needs while it loads.
import "./internal/cjs-globals.js";
import { randomBytes } from "node:crypto";
import { NodeSSH } from "node-ssh";
import type { ClientChannel, ServerHostKeyAlgorithm, SFTPWrapper } from "ssh2";
import { render, type Script } from "./command.js";
import {
  CommandTimeoutError,
  ConnectError,
  ConnectionLostError,
  HostKeyError,
  RemoteCommandError,
} from "./errors.js";
import {
  decideHostKey,
  fingerprintOf,
  type HostKeyDecision,
  type HostKeyPolicy,
  keyTypeOf,
  parseFingerprints,
  preferredHostKeyAlgorithms,
} from "./internal/host-keys.js";

export interface RemoteLog {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

const silent: RemoteLog = { info() {}, warn() {}, debug() {} };

export interface ConnectOptions {
  host: string;
  port?: number;
  username?: string;
  /** OpenSSH or PEM private key text (never a path: the key stays in memory). */
  privateKey: string;
  passphrase?: string;
  /** Which host keys to accept. `"insecure-skip"` accepts any key and warns on every connect. */
  hostKeys: HostKeyPolicy | "insecure-skip";
  /** Limit for TCP connect + handshake + authentication. */
  connectTimeoutMs?: number;
  /** A dead peer is detected after interval x (count + 1). */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  log?: RemoteLog;
}

export interface RunOptions {
  /** Sent on the command's stdin, then closed. The place for secrets (never argv). */
  stdin?: string | Buffer;
  /** Closes the channel and fails after this long. Default: no limit. */
  timeoutMs?: number;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const DEFAULTS = {
  port: 22,
  username: "root",
  connectTimeoutMs: 20_000,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
} as const;

/** Upper bound for noticing that a connected host went silent (a partition, a frozen host). */
export function deadPeerBoundMs(
  o: Pick<ConnectOptions, "keepaliveIntervalMs" | "keepaliveCountMax">,
) {
  const interval = o.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs;
  return interval * ((o.keepaliveCountMax ?? DEFAULTS.keepaliveCountMax) + 1);
}

/**
 * Opens one SSH connection, verifying the host key before authenticating. Every command of an
 * action run goes over the connection this returns.
 */
export async function connect(options: ConnectOptions): Promise<Remote> {
  const log = options.log ?? silent;
  const port = options.port ?? DEFAULTS.port;
  const where = `${options.host}:${port}`;
  let presented: { type: string; fingerprint: string } | undefined;
  let refusal: HostKeyDecision | undefined;

  const hostVerifier = (key: Buffer): boolean => {
    presented = { type: keyTypeOf(key), fingerprint: fingerprintOf(key) };
    if (options.hostKeys === "insecure-skip") {
      log.warn(
        `Host key checking is DISABLED for ${where} (insecure-skip-host-key-check: true). Anyone ` +
          `on the network path can impersonate this host and receive your key's signature, ` +
          `the .env and the commands. It presented ${presented.type} ${presented.fingerprint}: ` +
          `pin that with host-fingerprint once you have checked it on the host.`,
      );
      return true;
    }
    const decision = decideHostKey(options.hostKeys, options.host, port, key);
    if (!decision.ok) refusal = decision;
    else log.debug(`host key of ${where} accepted: ${decision.matched}`);
    return decision.ok;
  };

  if (options.hostKeys !== "insecure-skip") {
    const { knownHosts, fingerprints } = options.hostKeys;
    if (!knownHosts && !fingerprints?.length) {
      // Checked here, before any packet is sent, rather than inside the handshake.
      throw new ConnectError(`No host key to verify ${where} against`, {
        hint: "Pass host-fingerprint (SHA256:... from `ssh-keygen -lf` on the host) or known-hosts.",
      });
    }
    if (fingerprints) parseFingerprints(fingerprints.join("\n"));
  }

  const ssh = new NodeSSH();
  const config = {
    host: options.host,
    port,
    username: options.username ?? DEFAULTS.username,
    privateKey: options.privateKey,
    readyTimeout: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    keepaliveInterval: options.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
    keepaliveCountMax: options.keepaliveCountMax ?? DEFAULTS.keepaliveCountMax,
    hostVerifier,
    // Offer first the key types the policy knows for this host, as ssh does; otherwise a host
    // with several keys could present one we have no line for and be refused.
    ...(options.hostKeys === "insecure-skip"
      ? {}
      : {
          algorithms: {
            serverHostKey: preferredHostKeyAlgorithms(
              options.hostKeys,
              options.host,
              port,
            ) as ServerHostKeyAlgorithm[],
          },
        }),
    tryKeyboard: false,
    ...(options.passphrase ? { passphrase: options.passphrase } : {}),
  };
  const started = Date.now();
  try {
    await ssh.connect(config);
  } catch (error) {
    ssh.dispose();
    if (refusal && !refusal.ok) {
      throw new HostKeyError(refusal.message, presented?.fingerprint ?? "", refusal.reason);
    }
    throw describeConnectFailure(error, where, options, Date.now() - started);
  }
  const connection = ssh.connection;
  if (!connection) throw new ConnectError(`SSH to ${where} closed right after connecting`);
  log.debug(`connected to ${where} in ${Date.now() - started} ms`);
  return new Remote(ssh, where, presented?.fingerprint ?? "", log);
}

function describeConnectFailure(
  error: unknown,
  where: string,
  options: ConnectOptions,
  elapsedMs: number,
): ConnectError {
  const raw = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const timeout = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  if (code === "ECONNREFUSED") {
    return new ConnectError(`SSH to ${where} was refused`, {
      hint: "Is sshd running on the host and listening on that port? Check the host and port inputs.",
      cause: error,
      reason: "unreachable",
    });
  }
  if (/timed out|ETIMEDOUT/i.test(raw) || elapsedMs >= timeout) {
    return new ConnectError(`SSH to ${where} did not answer within ${timeout} ms`, {
      hint: "The host may be down or unreachable from this runner (is it on the tailnet?). Raise connect-timeout only if the network is merely slow.",
      cause: error,
      reason: "unreachable",
    });
  }
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH" || code === "ECONNRESET") {
    return new ConnectError(`SSH to ${where} failed: ${raw}`, {
      hint: "The host is unreachable from this runner (is it on the tailnet, and up?).",
      cause: error,
      reason: "unreachable",
    });
  }
  if (/handshake/i.test(raw)) {
    // ssh2's "Connection lost before handshake": something answered, then hung up at once.
    return new ConnectError(`SSH to ${where} closed the connection before the SSH handshake`, {
      hint: "Something listens on that port but does not speak SSH (or drops this client at once, e.g. MaxStartups or a firewall): check the port input.",
      cause: error,
      reason: "not-ssh",
    });
  }
  if (/passphrase|encrypted/i.test(raw)) {
    return new ConnectError(`The private key for ${where} could not be decrypted: ${raw}`, {
      hint: "Set the passphrase input to the key's passphrase, or use a key without one.",
      cause: error,
      reason: "key",
    });
  }
  if (/authentication methods failed/i.test(raw)) {
    return new ConnectError(
      `SSH login to ${where} was rejected: the host does not accept this key`,
      {
        hint: "Add the public half of private-key to the user's ~/.ssh/authorized_keys on the host, and check the username input.",
        cause: error,
        reason: "login",
      },
    );
  }
  if (/Cannot parse privateKey|Unsupported key format|privateKey/i.test(raw)) {
    return new ConnectError(`The private-key input could not be read: ${raw}`, {
      hint: "Paste the whole key, including the BEGIN and END lines, as a secret.",
      cause: error,
      reason: "key",
    });
  }
  return new ConnectError(`SSH to ${where} failed: ${raw}`, { cause: error });
}

/** One live SSH connection to a host. */
export class Remote {
  #sftp: Promise<SFTPWrapper> | undefined;
  #lost: Error | undefined;
  readonly #lostListeners = new Set<(e: Error) => void>();

  constructor(
    private readonly ssh: NodeSSH,
    /** `host:port`, for messages. */
    readonly where: string,
    /** SHA256 fingerprint of the key the host presented. */
    readonly fingerprint: string,
    private readonly log: RemoteLog,
  ) {
    const connection = ssh.connection!;
    const onGone = (reason: string) => {
      if (this.#lost) return;
      this.#lost = new ConnectionLostError(`The SSH connection to ${where} was lost: ${reason}`, {
        hint: "The host stopped answering (network partition, reboot or crash). Nothing further was run on it.",
      });
      for (const listener of this.#lostListeners) listener(this.#lost);
    };
    connection.on("error", (e: Error) => onGone(e.message));
    connection.on("close", () => onGone("the connection closed"));
  }

  get connected(): boolean {
    return this.#lost === undefined;
  }

  /** Runs a command and fails unless it exits 0. */
  async run(script: Script, options: RunOptions = {}): Promise<RunResult> {
    const command = render(script);
    const result = await this.exec(command, options);
    if (result.code !== 0) {
      const tail = lastLines(result.stderr || result.stdout, 20);
      throw new RemoteCommandError(
        `Command failed on ${this.where} with exit code ${result.code}: ${command}${tail ? `\n${tail}` : ""}`,
        command,
        result.code,
        result.stdout,
        result.stderr,
      );
    }
    return result;
  }

  /** Runs a command and returns its exit code instead of failing on non-zero. */
  async tryRun(script: Script, options: RunOptions = {}): Promise<RunResult> {
    return this.exec(render(script), options);
  }

  private async exec(command: string, options: RunOptions): Promise<RunResult> {
    if (this.#lost) throw this.#lost;
    this.log.debug(`${this.where}$ ${command}`);
    let channel: ClientChannel | undefined;
    let timer: NodeJS.Timeout | undefined;
    let onLost: ((e: Error) => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      onLost = reject;
      this.#lostListeners.add(onLost);
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          channel?.signal("KILL");
          channel?.close();
          reject(
            new CommandTimeoutError(
              `Command on ${this.where} ran past ${options.timeoutMs} ms: ${command}`,
            ),
          );
        }, options.timeoutMs);
      }
    });
    try {
      const response = await Promise.race([
        this.ssh.execCommand(command, {
          noTrim: true,
          onChannel: (c) => {
            channel = c;
          },
          ...(options.stdin !== undefined ? { stdin: bufferToString(options.stdin) } : {}),
          ...(options.onStdout ? { onStdout: options.onStdout } : {}),
          ...(options.onStderr ? { onStderr: options.onStderr } : {}),
        }),
        stopped,
      ]);
      if (response.code === null) {
        // node-ssh resolves a channel that closed without an exit status: never a success.
        if (response.signal) {
          return {
            code: 128 + signalNumber(response.signal),
            stdout: response.stdout,
            stderr: response.stderr,
          };
        }
        throw (
          this.#lost ??
          new ConnectionLostError(
            `The command on ${this.where} ended without an exit status: ${command}`,
          )
        );
      }
      return { code: response.code, stdout: response.stdout, stderr: response.stderr };
    } finally {
      clearTimeout(timer);
      if (onLost) this.#lostListeners.delete(onLost);
    }
  }

  private sftp(): Promise<SFTPWrapper> {
    this.#sftp ??= this.ssh.requestSFTP();
    return this.#sftp;
  }

  /**
   * Writes a file over SFTP, atomically: a temporary file created with `mode` (0600 by
   * default) from its first byte, then renamed over the target. Content never appears on any
   * command line, so this is how secrets reach a host.
   */
  async writeFile(path: string, content: string | Buffer, mode = 0o600): Promise<void> {
    if (this.#lost) throw this.#lost;
    const sftp = await this.sftp();
    const temp = `${path}.smoker-${randomBytes(6).toString("hex")}`;
    const data = typeof content === "string" ? Buffer.from(content) : content;
    await new Promise<void>((resolve, reject) => {
      sftp.open(temp, "wx", { mode }, (openError, handle) => {
        if (openError) return reject(sftpError(openError, "create", temp, this.where));
        sftp.write(handle, data, 0, data.length, 0, (writeError) => {
          // fchmod pins the exact mode whatever the remote umask did to it.
          sftp.fchmod(handle, mode, (chmodError) => {
            sftp.close(handle, (closeError) => {
              const e = writeError ?? chmodError ?? closeError;
              if (e) return reject(sftpError(e, "write", temp, this.where));
              resolve();
            });
          });
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      sftp.ext_openssh_rename(temp, path, (e) => {
        if (!e) return resolve();
        sftp.unlink(temp, () => reject(sftpError(e, "rename into place", path, this.where)));
      });
    });
  }

  /** Reads a whole remote file. */
  async readFile(path: string): Promise<Buffer> {
    if (this.#lost) throw this.#lost;
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => {
      sftp.readFile(path, (e: Error | null | undefined, data: Buffer) =>
        e ? reject(sftpError(e, "read", path, this.where)) : resolve(data),
      );
    });
  }

  /** Closes the connection. Safe to call twice. */
  close(): void {
    this.#lost ??= new ConnectionLostError(`The SSH connection to ${this.where} was closed`);
    this.ssh.dispose();
  }
}

function sftpError(e: Error, action: string, path: string, where: string): Error {
  return new RemoteCommandError(
    `Could not ${action} ${path} on ${where}: ${e.message}`,
    `sftp ${action} ${path}`,
    null,
    "",
    e.message,
  );
}

function bufferToString(value: string | Buffer): string {
  return typeof value === "string" ? value : value.toString("utf8");
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, TERM: 15, PIPE: 13 };
function signalNumber(signal: string): number {
  return SIGNALS[signal.replace(/^SIG/, "")] ?? 0;
}
