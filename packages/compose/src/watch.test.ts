import { describe, expect, test } from "vitest";
import type { ContainerState } from "./containers.js";
import { UnhealthyError } from "./errors.js";
import { FakeRunner, fail, ok } from "./internal/fake-runner.js";
import {
  baselineOf,
  type Failure,
  judge,
  observe,
  type Snapshot,
  type Verdict,
  watchProject,
} from "./watch.js";

const STARTED = new Date("2026-11-30T23:00:00Z");

function box(service: string, over: Partial<ContainerState> = {}): ContainerState {
  return {
    id: `id-${service}`,
    name: `p-${service}-1`,
    project: "p",
    service,
    state: "running",
    health: "healthy",
    restartCount: 0,
    exitCode: 0,
    oomKilled: false,
    startedAt: STARTED,
    imageId: "sha256:1",
    imageRef: `registry/${service}:1`,
    oneOff: false,
    restartPolicy: "",
    ...over,
  };
}

const OPTIONS = { timeoutMs: 60_000, settleMs: 2_000 };

interface Case {
  oneShot?: string[];
  /** Containers when the watch began (default: `now`'s ids, healthy, no restarts). */
  before?: ContainerState[];
  now: ContainerState[];
  services?: string[];
  /** ms since the watch began (default 1000). */
  at?: number;
  /** ms since the watch began when each running container was first seen running (default 0). */
  runningSince?: number;
}

function decide(c: Case): Verdict {
  const before = c.before ?? c.now.map((x) => ({ ...x, restartCount: 0 }));
  const baseline = baselineOf("p", before, 0, c.services);
  const at = c.at ?? 1_000;
  const first = observe(undefined, c.now, c.runningSince ?? 0);
  const current: Snapshot = observe(first, c.now, at);
  return judge(baseline, current, at, { ...OPTIONS, ...(c.oneShot ? { oneShot: c.oneShot } : {}) });
}

const failure = (reason: Failure["reason"], service: string, detail: string | RegExp) => ({
  reason,
  service,
  detail: typeof detail === "string" ? detail : expect.stringMatching(detail),
});

describe("judge: the watch's decision for one snapshot", () => {
  test.each<[string, Case, Verdict | ReturnType<typeof failure>]>([
    ["every service healthy", { now: [box("a"), box("b")] }, "ok"],
    ["one still starting", { now: [box("a"), box("b", { health: "starting" })] }, "wait"],
    [
      "created, not yet started",
      { now: [box("a", { state: "created", health: undefined })] },
      "wait",
    ],
    ["paused", { now: [box("a", { state: "paused" })] }, "wait"],
    [
      "no healthcheck, running for less than settleMs",
      { now: [box("a", { health: undefined })], at: 1_999 },
      "wait",
    ],
    [
      "no healthcheck, running for settleMs",
      { now: [box("a", { health: undefined })], at: 2_000 },
      "ok",
    ],
    [
      "exited",
      { now: [box("a"), box("crash", { state: "exited", exitCode: 1, health: "unhealthy" })] },
      failure("exited", "crash", "Service crash exited with code 1 (container p-crash-1)"),
    ],
    [
      "exited with code 0 is still an exit",
      { now: [box("job", { state: "exited", health: undefined })] },
      failure("exited", "job", /exited with code 0/),
    ],
    [
      "a one-shot service that exited 0 is done",
      {
        now: [box("a"), box("migrate", { state: "exited", health: undefined })],
        oneShot: ["migrate"],
      },
      "ok",
    ],
    [
      "a one-shot service still running is waited for",
      { now: [box("migrate", { health: undefined })], oneShot: ["migrate"], at: 5_000 },
      "wait",
    ],
    [
      "a one-shot service that failed is an exit",
      { now: [box("migrate", { state: "exited", exitCode: 2 })], oneShot: ["migrate"] },
      failure("exited", "migrate", /exited with code 2/),
    ],
    [
      "killed for memory",
      { now: [box("a", { state: "exited", exitCode: 137, oomKilled: true })] },
      failure("exited", "a", /lack of memory \(OOMKilled, exit code 137\)/),
    ],
    ["dead", { now: [box("a", { state: "dead" })] }, failure("exited", "a", /is dead/)],
    [
      "could not start (created, with the engine's error)",
      {
        now: [
          box("a", {
            state: "created",
            health: undefined,
            exitCode: 128,
            error: "port is already allocated",
          }),
        ],
      },
      failure(
        "exited",
        "a",
        "Service a could not start: port is already allocated (container p-a-1)",
      ),
    ],
    [
      "restarting (a restart policy on a crashing container)",
      {
        now: [
          box("loop", {
            state: "restarting",
            exitCode: 1,
            restartCount: 3,
            restartPolicy: "always",
          }),
        ],
      },
      failure("restarting", "loop", /crash-looping: it exited with code 1 .*restart 3/),
    ],
    [
      "running again, but restarted since the watch began",
      {
        before: [box("loop", { restartCount: 1 })],
        now: [box("loop", { restartCount: 2, health: "starting" })],
      },
      failure("restarting", "loop", /restarted 1x during the watch/),
    ],
    [
      "restarts from before the watch are not held against it",
      { before: [box("a", { restartCount: 4 })], now: [box("a", { restartCount: 4 })] },
      "ok",
    ],
    [
      "a container new since the watch began is compared with zero restarts",
      { before: [box("a")], now: [box("a", { id: "id-new", restartCount: 1 })] },
      failure("restarting", "a", /restarted 1x/),
    ],
    [
      "unhealthy",
      { now: [box("a"), box("sick", { health: "unhealthy" })] },
      failure(
        "unhealthy",
        "sick",
        "Service sick is unhealthy: its healthcheck fails (container p-sick-1)",
      ),
    ],
    [
      "a selected service without a container",
      { before: [box("a")], now: [box("a")], services: ["a", "db"] },
      failure("missing", "db", "Service db has no container in project p"),
    ],
    [
      "its container removed during the watch",
      { before: [box("a"), box("b")], now: [box("a")] },
      failure("missing", "b", /no container/),
    ],
    [
      "being removed",
      { now: [box("a", { state: "removing" })] },
      failure("missing", "a", /removed/),
    ],
    [
      "a project with no containers",
      { before: [], now: [] },
      failure("missing", "", "Project p has no containers"),
    ],
    [
      "services not selected are not judged",
      { now: [box("a"), box("other", { state: "exited", exitCode: 1 })], services: ["a"] },
      "ok",
    ],
    [
      "one-off (compose run) containers are not judged",
      {
        now: [
          box("a"),
          box("a", { id: "id-run", name: "p-a-run-1", oneOff: true, state: "exited", exitCode: 1 }),
        ],
      },
      "ok",
    ],
    [
      "the timeout names every service still starting",
      {
        now: [
          box("a"),
          box("slow", { health: "starting" }),
          box("db", { state: "created", health: undefined }),
          box("web", { health: undefined }),
        ],
        at: 60_000,
        runningSince: 59_000,
      },
      failure(
        "timeout",
        "db",
        "Still starting after 60 s: db (p-db-1, created), slow (p-slow-1, health: starting), web (p-web-1, running, not yet settled)",
      ),
    ],
    [
      "a failure at the timeout is reported as what it is",
      { now: [box("a", { state: "exited", exitCode: 2 })], at: 61_000 },
      failure("exited", "a", /exited with code 2/),
    ],
  ])("%s", (_name, c, expected) => {
    const verdict = decide(c);
    if (typeof expected === "string") expect(verdict).toBe(expected);
    else expect(verdict).toMatchObject(expected);
  });

  test("a failure carries the container, for its logs", () => {
    const verdict = decide({ now: [box("a", { state: "exited", exitCode: 1 })] }) as Failure;
    expect(verdict.container?.name).toBe("p-a-1");
  });
});

describe("observe: when a container without healthcheck began running, by this clock", () => {
  test("kept while the container runs, restarted when it restarts", () => {
    const a = box("a", { health: undefined });
    const s1 = observe(undefined, [a], 100);
    const s2 = observe(s1, [a], 900);
    expect([...s2.runningSince.values()]).toEqual([100]);
    const restarted = { ...a, startedAt: new Date(STARTED.getTime() + 5_000) };
    const s3 = observe(s2, [restarted], 1_500);
    expect([...s3.runningSince.values()]).toEqual([1_500]);
    expect(observe(s3, [{ ...a, state: "exited" }], 2_000).runningSince.size).toBe(0);
  });
});

// docker inspect output for a list of containers, as parseContainers reads it.
function inspectJson(containers: ContainerState[]): string {
  return JSON.stringify(
    containers.map((c) => ({
      Id: c.id,
      Name: `/${c.name}`,
      Image: c.imageId,
      RestartCount: c.restartCount,
      State: {
        Status: c.state,
        ExitCode: c.exitCode,
        Error: c.error ?? "",
        OOMKilled: c.oomKilled,
        StartedAt: c.startedAt.toISOString(),
        FinishedAt: "0001-01-01T00:00:00Z",
        ...(c.health ? { Health: { Status: c.health, FailingStreak: 0, Log: [] } } : {}),
      },
      Config: {
        Image: c.imageRef,
        Labels: {
          "com.docker.compose.project": c.project,
          "com.docker.compose.service": c.service,
          "com.docker.compose.oneoff": c.oneOff ? "True" : "False",
        },
      },
      HostConfig: { RestartPolicy: { Name: c.restartPolicy } },
    })),
  );
}

/** A host whose containers go through `polls`, one state per docker inspect (the last one stays). */
function host(polls: ContainerState[][], logs = "line 1\nline 2\n") {
  let inspections = 0;
  let listed = polls[0]!;
  const runner = new FakeRunner((command) => {
    if (command.startsWith("docker ps")) {
      listed = polls[Math.min(inspections, polls.length - 1)]!;
      return ok(listed.map((c) => `${c.id}\n`).join(""));
    }
    if (command.startsWith("docker inspect")) {
      const now = polls[Math.min(inspections++, polls.length - 1)]!;
      const asked = command.split(" ").slice(4);
      const found = now.filter((c) => asked.includes(c.id));
      if (found.length === asked.length) return ok(inspectJson(found));
      inspections--; // the listing that follows sees the same moment
      return fail(1, "Error response from daemon: No such container: x", inspectJson(found));
    }
    if (command.startsWith("docker logs")) return ok(logs);
    return fail(127, `unexpected command ${command}`);
  });
  let now = 0;
  const sleeps: number[] = [];
  const clock = {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  return { runner, clock, sleeps };
}

const PS =
  "docker ps -a --no-trunc --filter 'label=com.docker.compose.project=p' --format '{{.ID}}'";

describe("watchProject", () => {
  test("waits, backing off, until every service is up; reports when each was", async () => {
    const { runner, clock, sleeps } = host([
      [box("a", { health: "starting" }), box("b", { health: "starting" })],
      [box("a"), box("b", { health: "starting" })],
      [box("a"), box("b", { health: "starting" })],
      [box("a"), box("b")],
    ]);
    const progress: string[][] = [];
    const result = await watchProject(runner, "p", {
      timeoutMs: 60_000,
      clock,
      onProgress: (states) => progress.push(states.map((s) => `${s.service}:${s.health}`)),
    });
    expect(sleeps).toEqual([250, 500, 1_000]);
    const { containers, ...rest } = result;
    expect(rest).toEqual({
      services: [
        { service: "a", container: "p-a-1", msToHealthy: 250 },
        { service: "b", container: "p-b-1", msToHealthy: 1_750 },
      ],
      ms: 1_750,
    });
    // The last look is handed back, so the caller needs no second inspection for digests.
    expect(containers.map((c) => `${c.service}:${c.state}:${c.health}`)).toEqual([
      "a:running:healthy",
      "b:running:healthy",
    ]);
    expect(progress[0]).toEqual(["a:starting", "b:starting"]);
    // One docker ps at the start, then one docker inspect per poll.
    expect(runner.commands).toEqual([
      PS,
      "docker inspect --type container id-a id-b",
      "docker inspect --type container id-a id-b",
      "docker inspect --type container id-a id-b",
      "docker inspect --type container id-a id-b",
    ]);
  });

  test("the backoff stops at maxPollMs", async () => {
    const starting = [box("a", { health: "starting" })];
    const { runner, clock, sleeps } = host([...Array(7).fill(starting), [box("a")]]);
    await watchProject(runner, "p", { timeoutMs: 60_000, clock });
    expect(sleeps).toEqual([250, 500, 1_000, 2_000, 2_000, 2_000, 2_000]);
  });

  test("a crash loop fails at the next poll, with the container's last log lines", async () => {
    const { runner, clock } = host(
      [
        [box("a"), box("loop", { health: "starting", restartPolicy: "always" })],
        [box("a"), box("loop", { state: "restarting", exitCode: 1, restartCount: 1 })],
      ],
      "boom\nexiting with status 1\n",
    );
    const error = (await watchProject(runner, "p", { timeoutMs: 60_000, clock }).catch(
      (e: unknown) => e,
    )) as UnhealthyError;
    expect(error).toBeInstanceOf(UnhealthyError);
    expect(error).toMatchObject({ service: "loop", reason: "restarting", container: "p-loop-1" });
    expect(error.message).toBe(
      "Service loop is crash-looping: it exited with code 1 and Docker is restarting it (restart 1) (container p-loop-1)\n" +
        "Last log lines of p-loop-1:\nboom\nexiting with status 1",
    );
    expect(error.hint).toMatch(/keeps crashing/);
    expect(clock.now()).toBe(250);
    expect(runner.commands.at(-1)).toBe("docker logs --tail 20 id-loop 2>&1");
  });

  test("stableMs: up for that long passes; a crash inside the window fails", async () => {
    const up = [box("a")];
    const steady = host([up]);
    const held = await watchProject(steady.runner, "p", {
      timeoutMs: 60_000,
      stableMs: 3_000,
      clock: steady.clock,
    });
    // Up at the first look (0), then watched until 3 s had passed with every look up.
    expect(steady.sleeps).toEqual([250, 500, 1_000, 1_250]);
    expect(held.ms).toBe(3_000);

    const flaky = host([up, up, up, [box("a", { state: "exited", exitCode: 1 })]]);
    const error = await watchProject(flaky.runner, "p", {
      timeoutMs: 60_000,
      stableMs: 3_000,
      clock: flaky.clock,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnhealthyError);
    expect(error).toMatchObject({ service: "a", reason: "exited" });
  });

  test("the timeout, when nothing fails but something never comes up", async () => {
    const { runner, clock, sleeps } = host([[box("a"), box("slow", { health: "starting" })]]);
    const error = (await watchProject(runner, "p", { timeoutMs: 1_000, clock, logLines: 5 }).catch(
      (e: unknown) => e,
    )) as UnhealthyError;
    expect(error).toMatchObject({ reason: "timeout", service: "slow" });
    expect(error.message).toMatch(
      /^Still starting after 1 s: slow \(p-slow-1, health: starting\)\n/,
    );
    expect(sleeps).toEqual([250, 500, 250]);
    expect(runner.commands.at(-1)).toBe("docker logs --tail 5 id-slow 2>&1");
  });

  test("only the selected services are watched", async () => {
    const { runner, clock } = host([[box("a"), box("b", { state: "exited", exitCode: 1 })]]);
    const result = await watchProject(runner, "p", { services: ["a"], timeoutMs: 1_000, clock });
    expect(result.services.map((s) => s.service)).toEqual(["a"]);
  });

  test("a replaced container: listed again, and judged as the new one", async () => {
    const { runner, clock } = host([
      [box("a", { health: "starting" })],
      [box("a", { id: "id-a2", health: "starting" })],
      [box("a", { id: "id-a2" })],
    ]);
    const result = await watchProject(runner, "p", { timeoutMs: 60_000, clock });
    expect(result.services).toEqual([{ service: "a", container: "p-a-1", msToHealthy: 750 }]);
    expect(runner.commands).toEqual([
      PS,
      "docker inspect --type container id-a",
      "docker inspect --type container id-a",
      PS,
      "docker inspect --type container id-a2",
      "docker inspect --type container id-a2",
    ]);
  });

  test("a failure is reported even when its logs cannot be read", async () => {
    const { runner, clock } = host([[box("a", { state: "exited", exitCode: 3 })]]);
    const flaky = {
      run: runner.run.bind(runner),
      tryRun: async (...args: Parameters<typeof runner.tryRun>) => {
        if (runner.commands.length >= 2) throw new Error("connection lost");
        return runner.tryRun(...args);
      },
    };
    const error = (await watchProject(flaky, "p", { timeoutMs: 1_000, clock }).catch(
      (e: unknown) => e,
    )) as UnhealthyError;
    expect(error).toMatchObject({ reason: "exited", service: "a" });
    expect(error.logs).toBe("(could not read the logs: connection lost)");
  });
});
