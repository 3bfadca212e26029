import { describe, expect, test } from "vitest";
import type { ComposeProject } from "./commands.js";
import type { ContainerState } from "./containers.js";
import { FakeRunner, fail, ok } from "./internal/fake-runner.js";
import { recreateStale, staleServices } from "./stale.js";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;

function container(service: string, imageRef: string, imageId: string, state = "running") {
  return {
    id: `${service}-id`,
    name: `p-${service}-1`,
    project: "p",
    service,
    state,
    restartCount: 0,
    exitCode: 0,
    oomKilled: false,
    startedAt: new Date(0),
    imageId,
    imageRef,
    oneOff: false,
    restartPolicy: "unless-stopped",
  } as ContainerState;
}

/** Answers `docker image inspect --format {{.Id}} -- REF` from a map; unknown refs fail. */
const resolver = (ids: Record<string, string>) => (command: string) => {
  const ref = command.split(" -- ")[1];
  if (command.startsWith("docker image inspect") && ref !== undefined && ids[ref]) {
    return ok(`${ids[ref]}\n`);
  }
  return fail(1, `Error: No such image: ${ref}`);
};

describe("staleServices", () => {
  test("a container on another image than its reference resolves to is stale", async () => {
    const runner = new FakeRunner(resolver({ "reg/app:1": A, "reg/web:1": A }));
    const stale = await staleServices(runner, [
      container("app", "reg/app:1", B),
      container("web", "reg/web:1", A),
    ]);
    expect(stale).toEqual(["app"]);
    expect(runner.commands.sort()).toEqual([
      "docker image inspect --format '{{.Id}}' -- reg/app:1",
      "docker image inspect --format '{{.Id}}' -- reg/web:1",
    ]);
  });

  test("stopped containers, other services and references the host lacks are left alone", async () => {
    const runner = new FakeRunner(resolver({ "reg/app:1": A }));
    const stale = await staleServices(
      runner,
      [
        container("app", "reg/app:1", B, "exited"),
        container("gone", "reg/gone:1", B),
        container("other", "reg/app:1", B),
      ],
      ["app", "gone"],
    );
    expect(stale).toEqual([]);
    expect(runner.commands).toEqual(["docker image inspect --format '{{.Id}}' -- reg/gone:1"]);
  });

  test("one inspect per reference, however many containers use it", async () => {
    const runner = new FakeRunner(resolver({ "reg/app:1": A }));
    const stale = await staleServices(runner, [
      container("app", "reg/app:1", B),
      container("worker", "reg/app:1", B),
    ]);
    expect(stale).toEqual(["app", "worker"]);
    expect(runner.commands).toHaveLength(1);
  });
});

describe("recreateStale", () => {
  const project: ComposeProject = {
    tool: { kind: "v2", version: "2.26.1", argv: ["docker", "compose"] },
    dir: "/opt/p",
    name: "p",
    files: ["docker-compose.yml"],
  };
  const inspect = (containers: ContainerState[]) =>
    JSON.stringify(
      containers.map((c) => ({
        Id: c.id,
        Name: `/${c.name}`,
        Image: c.imageId,
        Config: {
          Image: c.imageRef,
          Labels: {
            "com.docker.compose.project": "p",
            "com.docker.compose.service": c.service,
            "com.docker.compose.oneoff": "False",
          },
        },
        State: {
          Status: c.state,
          Running: c.state === "running",
          Restarting: false,
          OOMKilled: false,
          ExitCode: 0,
          Error: "",
          StartedAt: "2026-12-01T00:00:00Z",
          FinishedAt: "0001-01-01T00:00:00Z",
        },
        RestartCount: 0,
        HostConfig: { RestartPolicy: { Name: "unless-stopped" } },
      })),
    );
  const host = (containers: ContainerState[], ids: Record<string, string>) =>
    new FakeRunner((command) => {
      if (command.startsWith("docker ps")) return ok(containers.map((c) => c.id).join("\n"));
      if (command.startsWith("docker inspect")) return ok(inspect(containers));
      if (command.startsWith("cd -- /opt/p && docker compose")) return ok();
      return resolver(ids)(command);
    });

  test("recreates only the stale services, without their dependencies", async () => {
    const runner = host([container("app", "reg/app:1", B), container("web", "reg/web:1", A)], {
      "reg/app:1": A,
      "reg/web:1": A,
    });
    expect(await recreateStale(runner, project, ["app", "web"])).toEqual(["app"]);
    expect(runner.commands.at(-1)).toBe(
      "cd -- /opt/p && docker compose -p p -f docker-compose.yml up -d --force-recreate --no-deps app",
    );
  });

  test("everything current: no up at all", async () => {
    const runner = host([container("app", "reg/app:1", A)], { "reg/app:1": A });
    expect(await recreateStale(runner, project)).toEqual([]);
    expect(runner.commands.some((c) => c.includes(" up "))).toBe(false);
  });
});
