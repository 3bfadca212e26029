import { spawnSync } from "node:child_process";
import {
  acquireLock,
  LockError,
  type LockOptions,
  lockPaths,
  releaseOnSignals,
} from "@smoker/deploy";
import { cmd, connect, type Remote, redirect } from "@smoker/remote";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { host, options } from "../remote/support.js";

const dir = `/opt/lock-test-${process.pid}`;
const paths = lockPaths(dir);
let a: Remote;
let b: Remote;

function lockOptions(run: string, extra: Partial<LockOptions> = {}): LockOptions {
  return {
    projectDir: dir,
    holder: {
      run,
      actor: "octocat",
      commit: "0123456789abcdef",
      version: `v-${run}`,
      runner: "lab-runner",
    },
    waitMs: 2_000,
    staleAfterMs: 60 * 60_000,
    pollMs: 200,
    ...extra,
  };
}

async function lockExists(): Promise<boolean> {
  return (await a.tryRun(cmd("test", "-d", paths.dir))).code === 0;
}

beforeAll(async () => {
  // Two connections: two deploys from two runners.
  a = await connect(options(host("dev-cloud")));
  b = await connect(options(host("dev-cloud")));
});
beforeEach(async () => {
  await a.run(cmd("rm", "-rf", dir));
});
afterAll(async () => {
  await a.run(cmd("rm", "-rf", dir));
  a.close();
  b.close();
});

describe("the deploy lock on a real host", () => {
  test("taking it writes the holder; releasing removes it", async () => {
    const lock = await acquireLock(a, lockOptions("1"));
    const holder = JSON.parse((await a.run(cmd("cat", paths.holder))).stdout);
    expect(holder).toMatchObject({
      run: "1",
      actor: "octocat",
      version: "v-1",
      runner: "lab-runner",
    });
    expect(holder.token).toBe(lock.holder.token);
    await lock.release();
    expect(await lockExists()).toBe(false);
  });

  test("a second deploy waits up to lock-timeout, then fails naming the holder", async () => {
    const first = await acquireLock(a, lockOptions("first"));
    const started = Date.now();
    const error = await acquireLock(b, lockOptions("second")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockError);
    expect((error as Error).message).toContain("run first by octocat (version v-first");
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    // The first holder still holds it, untouched.
    expect(JSON.parse((await a.run(cmd("cat", paths.holder))).stdout).token).toBe(
      first.holder.token,
    );
    await first.release();
  });

  test("a waiting deploy gets the lock as soon as the holder releases it", async () => {
    const first = await acquireLock(a, lockOptions("first"));
    setTimeout(() => void first.release(), 700);
    const second = await acquireLock(b, lockOptions("second", { waitMs: 10_000 }));
    expect(JSON.parse((await a.run(cmd("cat", paths.holder))).stdout).run).toBe("second");
    await second.release();
  });

  test("two deploys racing for a free lock: exactly one wins", async () => {
    const results = await Promise.allSettled([
      acquireLock(a, lockOptions("a", { waitMs: 0 })),
      acquireLock(b, lockOptions("b", { waitMs: 0 })),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    await (
      won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>
    ).value.release();
  });

  test("release never removes a lock another deploy holds now", async () => {
    const first = await acquireLock(a, lockOptions("first"));
    // Someone force-unlocked and took it meanwhile.
    await a.run(cmd("rm", "-rf", paths.dir));
    const second = await acquireLock(b, lockOptions("second"));
    await first.release();
    expect(await lockExists()).toBe(true);
    await second.release();
    expect(await lockExists()).toBe(false);
  });

  test("a stale lock is reported, and taken over only with force-unlock", async () => {
    await acquireLock(a, lockOptions("dead"));
    // The dead deploy took it two hours ago (by the host's clock).
    await a.run(cmd("touch", "-d", `@${Math.floor(Date.now() / 1000) - 7_200}`, paths.dir));
    const stale = await acquireLock(b, lockOptions("next")).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(LockError);
    expect((stale as Error).message).toMatch(/stale: held by run dead/);
    expect((stale as LockError).hint).toMatch(/force-unlock: true/);
    const warnings: string[] = [];
    const log = { info() {}, debug() {}, warn: (m: string) => warnings.push(m) };
    const taken = await acquireLock(b, lockOptions("next", { forceUnlock: true, log }));
    expect(warnings.join("\n")).toMatch(
      /stale deploy lock \(force-unlock\): it was held by run dead/,
    );
    expect(JSON.parse((await a.run(cmd("cat", paths.holder))).stdout).run).toBe("next");
    await taken.release();
  });

  test("a holder whose process died on this runner is taken over without force-unlock", async () => {
    // A pid that surely no longer exists: a process that has already exited.
    const dead = spawnSync("true").pid!;
    const holder = {
      run: "ghost",
      actor: "x",
      commit: "c",
      version: "v",
      runner: "lab-runner",
      started: "",
      token: "t0k3n",
      pid: dead,
    };
    await a.run(cmd("mkdir", "-p", paths.dir));
    await a.writeFile(paths.holder, JSON.stringify(holder));
    const warnings: string[] = [];
    const log = { info() {}, debug() {}, warn: (m: string) => warnings.push(m) };
    const taken = await acquireLock(b, lockOptions("next", { log }));
    expect(warnings.join("\n")).toMatch(new RegExp(`its process ${dead} on this runner is gone`));
    await taken.release();
    // The same holder on ANOTHER runner is not ours to judge: it waits and fails as usual.
    await a.run(cmd("mkdir", "-p", paths.dir));
    await a.writeFile(paths.holder, JSON.stringify({ ...holder, runner: "other-runner" }));
    const error = await acquireLock(b, lockOptions("next", { waitMs: 300 })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LockError);
  });

  test("force-unlock never takes a live lock", async () => {
    const live = await acquireLock(a, lockOptions("live"));
    const error = await acquireLock(
      b,
      lockOptions("forcer", { forceUnlock: true, waitMs: 500 }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockError);
    expect((error as Error).message).toMatch(/Another deploy holds the lock/);
    await live.release();
  });

  test("SIGTERM releases the lock and records the outcome first", async () => {
    const lock = await acquireLock(a, lockOptions("cancelled"));
    const events: string[] = [];
    let exited: (code: number) => void = () => {};
    const exitCode = new Promise<number>((r) => {
      exited = r;
    });
    const dispose = releaseOnSignals(lock, {
      onSignal: async (signal) => {
        await a.run(redirect(cmd("echo", signal), { stdout: `${dir}/cancelled` }));
        events.push(signal);
      },
      exit: (code) => exited(code),
    });
    try {
      const started = Date.now();
      process.emit("SIGTERM", "SIGTERM");
      expect(await exitCode).toBe(143);
      expect(Date.now() - started).toBeLessThan(7_500);
      expect(events).toEqual(["SIGTERM"]);
      expect(await lockExists()).toBe(false);
      expect((await a.run(cmd("cat", `${dir}/cancelled`))).stdout).toBe("SIGTERM\n");
    } finally {
      dispose();
    }
  });
});
