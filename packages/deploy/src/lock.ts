import { randomBytes } from "node:crypto";
import { and, cmd, type Remote, type RemoteLog, redirect, type Script, seq } from "@smoker/remote";

/**
 * The deploy lock: one directory per project on the host, created with mkdir (atomic on every
 * POSIX filesystem), holding a JSON description of who holds it. Only the holder's token
 * removes it, and a holder older than the longest possible deploy is stale: reported, and
 * taken over only when the user says so (force-unlock).
 */
export interface LockHolder {
  run: string;
  actor: string;
  commit: string;
  version: string;
  /** Machine the deploy runs from (the runner). */
  runner: string;
  /** When the holder took the lock, by the runner's clock (ISO 8601). */
  started: string;
  /** Process id of the deploy on its runner: lets a later deploy on the same runner see it died. */
  pid: number;
  /** Identifies this acquisition; release removes the lock only while it still holds it. */
  token: string;
}

export interface LockOptions {
  /** Remote project directory; the lock lives in `<projectDir>/.smoker/lock`. */
  projectDir: string;
  holder: Omit<LockHolder, "started" | "token" | "pid">;
  /** How long to wait for another deploy to finish (lock-timeout). */
  waitMs: number;
  /** A lock older than this (by the host's clock) can only belong to a dead deploy. */
  staleAfterMs: number;
  /** Take a stale lock over (force-unlock). A live lock is never taken. */
  forceUnlock?: boolean;
  /** First poll interval; doubles up to 5 s. */
  pollMs?: number;
  log?: RemoteLog;
  /** For tests: the clock used for waiting. */
  now?: () => number;
}

export class LockError extends Error {
  override name = "LockError";
  constructor(
    message: string,
    readonly hint: string,
    readonly holder: Partial<LockHolder> | undefined,
  ) {
    super(message);
  }
}

/** What the host says about an existing lock. */
export interface LockState {
  held: boolean;
  holder: Partial<LockHolder> | undefined;
  /** Seconds since the lock directory was made, by the host's clock. */
  ageSeconds: number;
}

export function lockPaths(projectDir: string) {
  const dir = `${projectDir.replace(/\/+$/, "")}/.smoker/lock`;
  return { dir, holder: `${dir}/holder.json` };
}

/** `mkdir lock && cat > lock/holder.json` (holder JSON on stdin): one round trip, atomic. */
export function takeCommand(projectDir: string): Script {
  const p = lockPaths(projectDir);
  return and(
    cmd("mkdir", "-p", "--", p.dir.replace(/\/lock$/, "")),
    cmd("mkdir", "--", p.dir),
    redirect(cmd("cat"), { stdout: p.holder }),
  );
}

/** Prints the host's clock, the lock's age and its holder (the last two may be missing). */
export function inspectCommand(projectDir: string): Script {
  const p = lockPaths(projectDir);
  return seq(
    cmd("date", "+%s"),
    redirect(cmd("stat", "-c", "%Y", "--", p.dir), { stderr: "/dev/null" }),
    redirect(cmd("cat", "--", p.holder), { stderr: "/dev/null" }),
  );
}

/** Removes the lock only while it still carries `token`. */
export function releaseCommand(projectDir: string, token: string): Script {
  const p = lockPaths(projectDir);
  return and(cmd("grep", "-qF", "--", token, p.holder), cmd("rm", "-rf", "--", p.dir));
}

export function parseLockState(stdout: string): LockState {
  const [now, made, ...rest] = stdout.split("\n");
  const nowSeconds = Number(now);
  const madeSeconds = Number(made);
  if (!made || !Number.isFinite(madeSeconds))
    return { held: false, holder: undefined, ageSeconds: 0 };
  let holder: Partial<LockHolder> | undefined;
  try {
    holder = JSON.parse(rest.join("\n")) as Partial<LockHolder>;
  } catch {
    // Held, but the holder is being written right now (or was lost with its deploy).
    holder = undefined;
  }
  return { held: true, holder, ageSeconds: Math.max(0, nowSeconds - madeSeconds) };
}

export function describeHolder(h: Partial<LockHolder> | undefined): string {
  if (!h) return "an unknown holder (no holder.json)";
  return `run ${h.run ?? "?"} by ${h.actor ?? "?"} (version ${h.version ?? "?"}, commit ${h.commit?.slice(0, 12) ?? "?"}, from ${h.runner ?? "?"}, started ${h.started ?? "?"})`;
}

/** True when the holder ran on `runner` (this machine) and its process no longer exists. */
export function diedOnThisRunner(holder: Partial<LockHolder> | undefined, runner: string): boolean {
  if (
    !holder?.token ||
    holder.runner !== runner ||
    typeof holder.pid !== "number" ||
    holder.pid === process.pid
  ) {
    return false;
  }
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

function seconds(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 6_000) / 10} min` : `${Math.round(ms / 100) / 10} s`;
}

/** A held deploy lock. */
export class DeployLock {
  #released = false;
  constructor(
    private readonly remote: Remote,
    readonly projectDir: string,
    readonly holder: LockHolder,
  ) {}

  get released(): boolean {
    return this.#released;
  }

  /**
   * Removes the lock if this deploy still holds it. Safe to call twice. `first` runs in the
   * same round trip just before (the audit line, written while the lock is still held).
   */
  async release(first?: { script: Script; stdin: string }): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const release = releaseCommand(this.projectDir, this.holder.token);
    await this.remote.tryRun(first ? seq(first.script, release) : release, {
      timeoutMs: 5_000,
      ...(first ? { stdin: first.stdin } : {}),
    });
  }
}

/**
 * Takes the project's deploy lock, waiting up to `waitMs` for another deploy to finish.
 * Fails naming the holder when it does not, and at once when the lock is stale (unless
 * `forceUnlock`).
 */
export async function acquireLock(remote: Remote, options: LockOptions): Promise<DeployLock> {
  const now = options.now ?? Date.now;
  const started = now();
  let interval = options.pollMs ?? 1_000;
  let lastReport = 0;
  let forced = false;
  let vanished = 0;
  for (;;) {
    const holder: LockHolder = {
      ...options.holder,
      pid: process.pid,
      started: new Date().toISOString(),
      token: randomBytes(12).toString("hex"),
    };
    const took = await remote.tryRun(takeCommand(options.projectDir), {
      stdin: `${JSON.stringify(holder, null, 2)}\n`,
    });
    if (took.code === 0) {
      options.log?.info(`Deploy lock taken (${lockPaths(options.projectDir).dir})`);
      return new DeployLock(remote, options.projectDir, holder);
    }
    const state = parseLockState((await remote.tryRun(inspectCommand(options.projectDir))).stdout);
    if (!state.held) {
      // The holder released it between our mkdir and this look: simply try again.
      if (/exists/i.test(took.stderr) && vanished++ < 20) continue;
      throw new LockError(
        `Could not create the deploy lock in ${options.projectDir}: ${took.stderr.trim()}`,
        "Check that project-dir is a directory the SSH user can write to.",
        undefined,
      );
    }
    const who = describeHolder(state.holder);
    if (diedOnThisRunner(state.holder, options.holder.runner) && !forced) {
      // The holder ran on this very runner and its process is gone (a partition or a kill
      // ended it before it could release): provably dead, so no force-unlock is needed.
      options.log?.warn(
        `Taking over the deploy lock of ${who}: its process ${state.holder?.pid} on this runner is gone.`,
      );
      await remote.tryRun(releaseCommand(options.projectDir, state.holder!.token!));
      forced = true;
      continue;
    }
    if (state.ageSeconds * 1_000 > options.staleAfterMs) {
      if (!options.forceUnlock || forced) {
        throw new LockError(
          `The deploy lock on ${remote.where} is stale: held by ${who} for ${seconds(state.ageSeconds * 1_000)}, longer than any deploy can take (${seconds(options.staleAfterMs)}).`,
          "If no deploy is running on this host, run again with force-unlock: true to take it over.",
          state.holder,
        );
      }
      options.log?.warn(
        `Taking over a stale deploy lock (force-unlock): it was held by ${who} for ${seconds(state.ageSeconds * 1_000)}.`,
      );
      // Removed only if it is still that holder's (another deploy may have just replaced it).
      const token = state.holder?.token;
      if (token) await remote.tryRun(releaseCommand(options.projectDir, token));
      else await remote.tryRun(cmd("rm", "-rf", "--", lockPaths(options.projectDir).dir));
      forced = true; // once: a lock that is still stale after this cannot be removed by us
      continue;
    }
    const waited = now() - started;
    if (waited >= options.waitMs) {
      throw new LockError(
        `Another deploy holds the lock on ${remote.where}: ${who}. Waited ${seconds(waited)} (lock-timeout).`,
        "Wait for that deploy to finish, or raise lock-timeout. Deploys to one host run one at a time.",
        state.holder,
      );
    }
    if (lastReport === 0 || now() - lastReport >= 10_000) {
      options.log?.info(`Waiting for the deploy lock, held by ${who} (${seconds(waited)} so far)`);
      lastReport = now();
    }
    await new Promise((r) => setTimeout(r, Math.min(interval, options.waitMs - waited)));
    interval = Math.min(interval * 2, 5_000);
  }
}

/**
 * Releases the lock when the runner cancels the job. GitHub sends SIGINT, then SIGTERM, and
 * kills the step 7.5 s after the first signal, so the release gets a 5 s budget. `onSignal`
 * may record the outcome first; `exit` ends the process (injected for tests).
 */
export function releaseOnSignals(
  lock: DeployLock,
  options: {
    onSignal?: (signal: NodeJS.Signals) => Promise<void>;
    exit?: (code: number) => void;
    log?: RemoteLog;
  } = {},
): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let handling = false;
  const handler = (signal: NodeJS.Signals) => {
    if (handling) return;
    handling = true;
    options.log?.warn(`Received ${signal}: releasing the deploy lock before exiting.`);
    const budget = new Promise<void>((r) => setTimeout(r, 5_000).unref());
    const work = (async () => {
      try {
        await options.onSignal?.(signal);
      } finally {
        await lock.release();
      }
    })().catch((e: unknown) =>
      options.log?.warn(`Cleanup after ${signal} failed: ${(e as Error).message}`),
    );
    void Promise.race([work, budget]).then(() => exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
