// Compose v2 (dev-cloud) and v1 (smoker-pi) driven through @smoker/compose against lab hosts:
// detection, config, pull + up + watch, capturing digests, failing fast, pinning by digest.
import { randomBytes } from "node:crypto";
import {
  type ComposeProject,
  type ComposeTool,
  captureRunning,
  configServices,
  detectCompose,
  down,
  listProjectContainers,
  pinnedOverride,
  pull,
  UnhealthyError,
  up,
  watchProject,
} from "@smoker/compose";
import { cmd, connect, type Remote } from "@smoker/remote";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { host, lab, options } from "../remote/support.js";

const image = (tag: string) => `${lab().registry}/smoker/${tag}`;
const digestOf = (tag: string) => {
  const digest = lab().images[tag];
  if (digest === undefined) throw new Error(`lab.json has no image ${tag}`);
  return digest;
};

/** A compose file with one service `name` running `tag`, plus extra service lines. */
const serviceFile = (services: Record<string, string[]>) =>
  [
    "services:",
    ...Object.entries(services).flatMap(([name, lines]) => [
      `  ${name}:`,
      ...lines.map((l) => `    ${l}`),
    ]),
    "",
  ].join("\n");

describe.each([
  { hostName: "dev-cloud", prefer: "v2", kind: "v2" },
  { hostName: "smoker-pi", prefer: "v1", kind: "v1" },
] as const)("Compose $kind on $hostName", ({ hostName, prefer, kind }) => {
  let remote: Remote;
  let tool: ComposeTool;
  const made: ComposeProject[] = [];

  beforeAll(async () => {
    remote = await connect(options(host(hostName)));
    tool = await detectCompose(remote, { prefer });
  });

  afterEach(async () => {
    for (const p of made.splice(0)) {
      await remote.tryRun(down(p, { volumes: true, removeOrphans: true, timeoutSeconds: 0 }));
      // `down` leaves `compose run` containers under v2; nothing of the test may stay behind.
      const left = await listProjectContainers(remote, p.name);
      if (left.length > 0) await remote.run(cmd("docker", "rm", "-f", ...left.map((c) => c.id)));
      await remote.run(cmd("rm", "-rf", "--", p.dir));
    }
  });

  afterAll(() => remote?.close());

  /** A fresh project directory under /opt with these files, removed after the test. */
  async function project(
    files: Record<string, string>,
    env?: Record<string, string>,
  ): Promise<ComposeProject> {
    const name = `itgc${kind}${randomBytes(4).toString("hex")}`;
    const dir = `/opt/${name}`;
    const p: ComposeProject = {
      tool,
      dir,
      name,
      files: Object.keys(files),
      ...(env ? { env } : {}),
    };
    made.push(p);
    await remote.run(cmd("mkdir", "-p", dir));
    for (const [file, content] of Object.entries(files)) {
      await remote.writeFile(`${dir}/${file}`, content, 0o644);
    }
    return p;
  }

  async function deploy(p: ComposeProject) {
    await remote.run(pull(p));
    await remote.run(up(p));
  }

  async function failure(p: ComposeProject): Promise<{ error: UnhealthyError; ms: number }> {
    await deploy(p);
    const started = performance.now();
    const error = await watchProject(remote, p.name, { timeoutMs: 60_000 }).catch(
      (e: unknown) => e,
    );
    const ms = performance.now() - started;
    console.info();
    expect(error).toBeInstanceOf(UnhealthyError);
    return { error: error as UnhealthyError, ms };
  }

  test("detection finds this flavour", () => {
    expect(tool.kind).toBe(kind);
    if (kind === "v2") {
      expect(tool.argv).toEqual(["docker", "compose"]);
      expect(tool.version).toMatch(/^2\.26\.1/);
    } else {
      expect(tool.argv).toEqual(["docker-compose"]);
      expect(tool.version).toBe("1.29.2");
    }
  });

  test("config lists the services of a valid file and refuses invalid ones", async () => {
    const p = await project({
      "compose.yaml": serviceFile({
        backend: [`image: ${image("backend:1.0.0")}`],
        frontend: [`image: ${image("frontend:1.0.0")}`],
      }),
      "broken.yaml": "services:\n  backend: [\n",
      "unknown-key.yaml": serviceFile({ backend: ["imagex: nope"] }),
    });
    const valid = await remote.run(configServices({ ...p, files: ["compose.yaml"] }));
    expect(valid.stdout.trim().split("\n").sort()).toEqual(["backend", "frontend"]);

    const broken = await remote.tryRun(configServices({ ...p, files: ["broken.yaml"] }));
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(/yaml|parse/i);

    const unknown = await remote.tryRun(configServices({ ...p, files: ["unknown-key.yaml"] }));
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/imagex/);
  });

  test("pull + up, then the watch sees it healthy and captureRunning pins its digest", async () => {
    const p = await project(
      {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolates it
        "compose.yaml": serviceFile({ backend: [`image: ${image("backend:${VERSION}")}`] }),
      },
      { VERSION: "1.0.0" },
    );
    await deploy(p);
    const seen: string[] = [];
    const result = await watchProject(remote, p.name, {
      timeoutMs: 60_000,
      onProgress: (states) => seen.push(states.map((s) => s.health ?? s.state).join(",")),
    });
    expect(result.services).toHaveLength(1);
    const [backend] = result.services;
    expect(backend?.service).toBe("backend");
    expect(backend?.msToHealthy).toBeGreaterThanOrEqual(0);
    expect(backend?.msToHealthy).toBeLessThan(60_000);
    expect(seen.at(-1)).toBe("healthy");

    const running = await captureRunning(remote, p.name);
    expect(running).toEqual([
      {
        service: "backend",
        container: backend?.container,
        imageRef: image("backend:1.0.0"),
        imageId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        digest: digestOf("backend:1.0.0"),
      },
    ]);
  });

  test("an image that exits at start fails fast: exited, with its log lines", async () => {
    const p = await project({
      "compose.yaml": serviceFile({
        backend: [`image: ${image("backend:1.0.0")}`],
        crash: [`image: ${image("backend:crash")}`],
      }),
    });
    const { error, ms } = await failure(p);
    expect(error).toMatchObject({ service: "crash", reason: "exited" });
    expect(error.message).toMatch(/Service crash exited with code 1/);
    expect(error.message).toMatch(/exiting with status 1 at start/);
    // Fail-fast, not a speed benchmark: far below the 60 s timeout.
    expect(ms).toBeLessThan(10_000);
  });

  test("a crash loop under `restart: always` fails fast: restarting", async () => {
    const p = await project({
      "compose.yaml": serviceFile({
        loop: [`image: ${image("backend:crash")}`, "restart: always"],
      }),
    });
    const { error, ms } = await failure(p);
    expect(error.service).toBe("loop");
    expect(["restarting", "exited"]).toContain(error.reason);
    expect(error.message).toMatch(/exiting with status 1 at start/);
    expect(ms).toBeLessThan(10_000);
  });

  test("an image whose healthcheck never passes: unhealthy", async () => {
    const p = await project({
      "compose.yaml": serviceFile({ sick: [`image: ${image("backend:unhealthy")}`] }),
    });
    const { error, ms } = await failure(p);
    expect(error).toMatchObject({ service: "sick", reason: "unhealthy" });
    expect(error.message).toMatch(/the health check never passes/);
    expect(ms).toBeLessThan(20_000);
  });

  test("a one-shot service that exits 0 is done when named so, an exit otherwise", async () => {
    const p = await project({
      "compose.yaml": serviceFile({
        backend: [`image: ${image("backend:1.0.0")}`],
        migrate: [`image: ${image("backend:1.0.0")}`, 'command: ["true"]'],
      }),
    });
    await deploy(p);
    const result = await watchProject(remote, p.name, { timeoutMs: 60_000, oneShot: ["migrate"] });
    expect(result.services.map((s) => s.service)).toEqual(["backend", "migrate"]);
    const error = await watchProject(remote, p.name, { timeoutMs: 60_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ service: "migrate", reason: "exited" });
    expect((error as Error).message).toMatch(/exited with code 0/);
  });

  test("the pinned override wins over the file's tag: 2.0.0 in the file, 1.0.0 runs", async () => {
    const pinned = digestOf("backend:1.0.0");
    const p = await project({
      "compose.yaml": serviceFile({ backend: [`image: ${image("backend:2.0.0")}`] }),
      "pins.yaml": pinnedOverride([{ service: "backend", digest: pinned }]),
    });
    const config = await remote.run(configServices(p));
    expect(config.stdout.trim()).toBe("backend");
    await deploy(p);
    await watchProject(remote, p.name, { timeoutMs: 60_000 });

    const expectedId = await remote.run(
      cmd("docker", "image", "inspect", "--format", "{{.Id}}", pinned),
    );
    const [running] = await captureRunning(remote, p.name);
    expect(running?.imageId).toBe(expectedId.stdout.trim());
    expect(running?.imageRef).toBe(pinned);
    expect(running?.digest).toBe(pinned);
    // And the process inside says so.
    const version = await remote.run(
      cmd("docker", "exec", running!.container, "wget", "-qO-", "http://127.0.0.1:3001/version"),
    );
    expect(version.stdout.trim()).toBe("1.0.0");
  });
});

describe("detection on a host with both flavours", () => {
  test("v2 by default, v1 when preferred, strict picks only the one asked for", async () => {
    const remote = await connect(options(host("prod-cloud")));
    try {
      expect((await detectCompose(remote)).kind).toBe("v2");
      expect((await detectCompose(remote, { prefer: "v1" })).kind).toBe("v1");
      expect((await detectCompose(remote, { prefer: "v1", strict: true })).argv).toEqual([
        "docker-compose",
      ]);
      expect((await detectCompose(remote, { prefer: "v2", strict: true })).argv).toEqual([
        "docker",
        "compose",
      ]);
    } finally {
      remote.close();
    }
  });
});
