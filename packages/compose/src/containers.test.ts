import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  type ContainerState,
  captureRunning,
  digestFor,
  imageDigests,
  listProjectContainers,
  parseContainers,
  parseImages,
  repositoryOf,
} from "./containers.js";
import { ComposeError } from "./errors.js";
import { FakeRunner, fail, ok } from "./internal/fake-runner.js";

// Recorded on lab hosts; fixtures/README.md says how.
const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const V2 = fixture("docker-inspect-v2.json");
const V1 = fixture("docker-inspect-v1.json");
const START_FAILURE = fixture("docker-inspect-start-failure.json");
const IMAGES = fixture("docker-image-inspect.json");

const R = "10.231.0.1:5000/smoker";
const BACKEND_1 = `${R}/backend@sha256:301463b25665be26bac92181de98162b51526a5367dcfa9e3cbbfea3348bd93f`;
const BACKEND_1_ID = "sha256:d5041d1a69112348403bd10d75524c1d850ddc79154c928614f759bd9759ea32";

type Row = [
  string,
  string,
  ContainerState["state"],
  ContainerState["health"],
  number,
  number,
  boolean,
];
const summary = (c: ContainerState): Row => [
  c.name,
  c.service,
  c.state,
  c.health,
  c.restartCount,
  c.exitCode,
  c.oneOff,
];

describe("parseContainers reads docker inspect as both Composes label it", () => {
  test("Compose v2: every state the watcher judges", () => {
    const containers = parseContainers(V2);
    expect(containers.map(summary)).toEqual<Row[]>([
      ["cmpx2-backend-run-0d74893bedca", "backend", "exited", "unhealthy", 0, 0, true],
      ["cmpx2-slow-1", "slow", "running", "starting", 0, 0, false],
      ["cmpx2-crash-1", "crash", "exited", "unhealthy", 0, 1, false],
      ["cmpx2-loop-1", "loop", "restarting", "unhealthy", 6, 1, false],
      ["cmpx2-sick-1", "sick", "running", "unhealthy", 0, 0, false],
      ["cmpx2-plain-1", "plain", "running", undefined, 0, 0, false],
      ["cmpx2-backend-1", "backend", "running", "healthy", 0, 0, false],
    ]);
    const backend = containers.find((c) => c.name === "cmpx2-backend-1")!;
    expect(backend).toMatchObject({
      project: "cmpx2",
      imageId: BACKEND_1_ID,
      imageRef: `${R}/backend:1.0.0`,
      restartPolicy: "",
      oomKilled: false,
    });
    expect(backend.id).toMatch(/^1f3d2a4d2843[0-9a-f]{52}$/);
    expect(backend.startedAt.toISOString()).toBe("2026-11-30T23:00:58.615Z");
    expect(backend.finishedAt).toBeUndefined();
    expect(backend.error).toBeUndefined();
    const loop = containers.find((c) => c.service === "loop")!;
    expect(loop.restartPolicy).toBe("always");
    expect(loop.finishedAt?.toISOString()).toBe("2026-11-30T23:01:04.224Z");
  });

  test("Compose v1: the same labels (oneoff True/False), v1's container names", () => {
    expect(parseContainers(V1).map(summary)).toEqual<Row[]>([
      ["cmpx1_backend_run_9f4fbde97f68", "backend", "exited", "unhealthy", 0, 0, true],
      ["cmpx1_plain_1", "plain", "running", undefined, 0, 0, false],
      ["cmpx1_backend_1", "backend", "running", "healthy", 0, 0, false],
      ["cmpx1_crash_1", "crash", "restarting", "unhealthy", 6, 1, false],
    ]);
  });

  test("a container the engine could not start: created, with the engine's error", () => {
    const a = parseContainers(START_FAILURE).find((c) => c.service === "a")!;
    expect(a).toMatchObject({ state: "created", exitCode: 128 });
    expect(a.health).toBeUndefined();
    expect(a.error).toMatch(/port is already allocated/);
    expect(a.startedAt.getUTCFullYear()).toBe(1);
  });

  test.each([
    ["not JSON", "Error: no such object", /did not print JSON/],
    ["not an array", "{}", /not print a JSON array/],
    ["no State", '[{"Id":"x","Name":"/x","Config":{}}]', /State of x is not an object/],
    [
      "an unknown state",
      '[{"Id":"x","Name":"/x","Image":"sha256:1","Config":{},"State":{"Status":"zombie","StartedAt":"0001-01-01T00:00:00Z"}}]',
      /unknown state "zombie"/,
    ],
  ])("refuses %s", (_name, stdout, message) => {
    expect(() => parseContainers(stdout)).toThrow(message);
    expect(() => parseContainers(stdout)).toThrow(ComposeError);
  });
});

describe("listProjectContainers", () => {
  const PS =
    "docker ps -a --no-trunc --filter 'label=com.docker.compose.project=cmpx2' --format '{{.ID}}'";

  test("one docker ps, one docker inspect of every id; one-off containers left out", async () => {
    const ids = parseContainers(V2).map((c) => c.id);
    const runner = new FakeRunner((command) =>
      command.startsWith("docker ps") ? ok(`${ids.join("\n")}\n`) : ok(V2),
    );
    const containers = await listProjectContainers(runner, "cmpx2");
    expect(runner.commands).toEqual([PS, `docker inspect --type container ${ids.join(" ")}`]);
    expect(containers.map((c) => c.name)).toEqual([
      "cmpx2-backend-1",
      "cmpx2-crash-1",
      "cmpx2-loop-1",
      "cmpx2-plain-1",
      "cmpx2-sick-1",
      "cmpx2-slow-1",
    ]);
  });

  test("no containers: no docker inspect", async () => {
    const runner = new FakeRunner(() => ok(""));
    expect(await listProjectContainers(runner, "cmpx2")).toEqual([]);
    expect(runner.commands).toEqual([PS]);
  });

  test("a container removed between the two commands: listed again", async () => {
    let lists = 0;
    const runner = new FakeRunner((command) => {
      if (command.startsWith("docker ps")) return ok(lists++ === 0 ? "gone\nkept\n" : "kept\n");
      if (command.endsWith("gone kept")) {
        return fail(1, "Error response from daemon: No such container: gone", "[]\n");
      }
      return ok("[]");
    });
    await listProjectContainers(runner, "cmpx2");
    expect(runner.commands.slice(1)).toEqual([
      "docker inspect --type container gone kept",
      PS,
      "docker inspect --type container kept",
    ]);
  });

  test("any other docker inspect failure is an error", async () => {
    const runner = new FakeRunner((command) =>
      command.startsWith("docker ps") ? ok("a\n") : fail(1, "Cannot connect to the Docker daemon"),
    );
    await expect(listProjectContainers(runner, "cmpx2")).rejects.toThrow(/Cannot connect/);
  });

  test("refuses a project name Compose would not use as is", async () => {
    await expect(listProjectContainers(new FakeRunner(() => ok()), "Bad Name")).rejects.toThrow(
      ComposeError,
    );
  });
});

describe("image digests", () => {
  test("parseImages: image id -> RepoDigests and RepoTags", () => {
    const images = parseImages(IMAGES);
    expect(images.size).toBe(5);
    expect(images.get(BACKEND_1_ID)).toEqual({
      repoDigests: [BACKEND_1],
      repoTags: [`${R}/backend:1.0.0`],
    });
  });

  test("imageDigests: one docker image inspect of the distinct ids", async () => {
    const runner = new FakeRunner(() => ok(IMAGES));
    await imageDigests(runner, ["sha256:a", "sha256:b", "sha256:a"]);
    expect(runner.commands).toEqual(["docker image inspect sha256:a sha256:b"]);
  });

  test.each([
    ["nginx", "docker.io/library/nginx"],
    ["nginx:1.25", "docker.io/library/nginx"],
    ["library/nginx:1.25", "docker.io/library/nginx"],
    ["docker.io/library/nginx", "docker.io/library/nginx"],
    ["index.docker.io/library/nginx:latest", "docker.io/library/nginx"],
    [`nginx@sha256:${"0".repeat(64)}`, "docker.io/library/nginx"],
    ["user/app:2", "docker.io/user/app"],
    ["ghcr.io/owner/app:2", "ghcr.io/owner/app"],
    ["10.231.0.1:5000/smoker/backend:1.0.0", "10.231.0.1:5000/smoker/backend"],
    [BACKEND_1, "10.231.0.1:5000/smoker/backend"],
    ["localhost/app", "localhost/app"],
    ["localhost:5000/app:tag", "localhost:5000/app"],
  ])("repositoryOf(%s) = %s", (ref, repository) => {
    expect(repositoryOf(ref)).toBe(repository);
  });

  test.each<[string, string, string[], string | undefined]>([
    ["a registry image", `${R}/backend:1.0.0`, [BACKEND_1], BACKEND_1],
    ["already pinned", BACKEND_1, [BACKEND_1], BACKEND_1],
    [
      "the digest of the repository the service names, of several",
      "nginx:1.25",
      [`other.example/nginx@sha256:${"1".repeat(64)}`, `nginx@sha256:${"2".repeat(64)}`],
      `nginx@sha256:${"2".repeat(64)}`,
    ],
    ["built on the host: no digest", "app-web", [], undefined],
    ["retagged from another repository: no digest", "mine/app:1", [BACKEND_1], undefined],
    ["run by image id", BACKEND_1_ID, [BACKEND_1], undefined],
  ])("digestFor: %s", (_name, imageRef, repoDigests, expected) => {
    expect(digestFor(imageRef, repoDigests)).toBe(expected);
  });
});

describe("captureRunning", () => {
  test("per running service: container, image, id and the digest to pin", async () => {
    const runner = new FakeRunner((command) => {
      if (command.startsWith("docker ps")) return ok("ids\n");
      if (command.startsWith("docker inspect")) return ok(V2);
      return ok(IMAGES);
    });
    const running = await captureRunning(runner, "cmpx2");
    expect(running.map((r) => [r.service, r.container, r.digest?.split("@")[0]])).toEqual([
      ["backend", "cmpx2-backend-1", `${R}/backend`],
      ["plain", "cmpx2-plain-1", `${R}/frontend`],
      ["sick", "cmpx2-sick-1", `${R}/backend`],
      ["slow", "cmpx2-slow-1", `${R}/backend`],
    ]);
    expect(running[0]).toEqual({
      service: "backend",
      container: "cmpx2-backend-1",
      imageRef: `${R}/backend:1.0.0`,
      imageId: BACKEND_1_ID,
      digest: BACKEND_1,
    });
    // The one-off container of backend runs the same image: one image inspect, distinct ids.
    expect(runner.commands[2]).toMatch(/^docker image inspect (sha256:[0-9a-f]{64} ?){4}$/);
  });
});
