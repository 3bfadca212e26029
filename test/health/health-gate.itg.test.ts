import { type ActionResult, runInProcess } from "@smoker/action-kit/testing";
import { cmd, type Remote } from "@smoker/remote";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { main } from "../../actions/health-gate/src/main.js";
import { host, lab, withRemote } from "../remote/support.js";

// The gate in process, for its HTTP checks; health-gate-bundled.itg.test.ts runs the bundle
// under node 24 with the container watch.

const HOST = "dev-cloud";
const SLOW = { name: "hg-test", port: 18080, image: "backend:slow" };
const UNHEALTHY = { name: "hg-test-unhealthy", port: 18081, image: "backend:unhealthy" };

function image(tag: string): string {
  const ref = lab().images[tag];
  if (ref === undefined) throw new Error(`the lab has no image ${tag}: run \`npm run lab -- up\``);
  return ref;
}

function healthUrl(port: number): string {
  return `http://${host(HOST).ip}:${port}/health`;
}

async function removeContainers(r: Remote): Promise<void> {
  // rm -f of a missing container fails; that is fine here.
  await r.tryRun(cmd("docker", "rm", "-f", SLOW.name, UNHEALTHY.name));
}

/** Starts one lab container with its port published on the host. */
function start(spec: typeof SLOW, env: string[] = []): Promise<unknown> {
  return withRemote(host(HOST), (r) =>
    r.run(
      cmd(
        "docker",
        "run",
        "-d",
        "--rm",
        "-p",
        `${spec.port}:3001`,
        "--name",
        spec.name,
        ...env,
        image(spec.image),
      ),
    ),
  );
}

function gate(inputs: Record<string, string>): Promise<ActionResult> {
  return runInProcess(main, { inputs });
}

beforeAll(async () => {
  await withRemote(host(HOST), async (r) => {
    await removeContainers(r);
    // Pulled ahead, so a pull never counts towards the service's start-up time.
    for (const tag of [SLOW.image, UNHEALTHY.image]) await r.run(cmd("docker", "pull", image(tag)));
  });
});

afterEach(async () => {
  await withRemote(host(HOST), removeContainers);
});

afterAll(async () => {
  await withRemote(host(HOST), removeContainers);
});

describe("health-gate against a lab host", () => {
  test("a slow backend passes once it turns healthy, about 3 s after it starts", async () => {
    await start(SLOW, ["-e", "SLOW_SECONDS=3"]);
    const result = await gate({ urls: healthUrl(SLOW.port), timeout: "30s" });

    expect(result.failed, result.log).toBe(false);
    expect(result.outputs.healthy).toBe("true");
    const ms = Number(result.outputs["time-to-healthy-ms"]);
    expect(ms).toBeGreaterThanOrEqual(3_000);
    expect(ms).toBeLessThan(15_000);
    const report = JSON.parse(result.outputs.report!);
    expect(report.checks[0]).toMatchObject({
      url: healthUrl(SLOW.port),
      healthy: true,
      lastStatus: 200,
      consecutivePasses: 2,
      msToHealthy: ms,
    });
    // Before /health existed busybox httpd answered 404 (or nothing, while starting).
    expect(report.checks[0].attempts).toBeGreaterThan(2);
    expect(result.log).toMatch(/^✓ .*:18080\/health is healthy after /m);
  });

  test("a backend that never turns healthy fails the gate at its timeout", async () => {
    await start(UNHEALTHY);
    const started = performance.now();
    const result = await gate({ urls: healthUrl(UNHEALTHY.port), timeout: "5s" });
    const took = performance.now() - started;

    expect(result.failed).toBe(true);
    expect(took).toBeGreaterThanOrEqual(5_000);
    expect(took).toBeLessThan(10_000);
    const errors = result.annotations.filter((a) => a.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(
      /^Check health failed: 1 of 1 check not healthy within 5\.0 s: .*:18081\/health: status 404, expected 200 \(\d+ attempts\)\n/,
    );
    expect(result.outputs.healthy).toBe("false");
    expect(result.outputs["time-to-healthy-ms"]).toBe("");
    expect(JSON.parse(result.outputs.report!).checks[0]).toMatchObject({
      healthy: false,
      lastStatus: 404,
      lastError: "status 404, expected 200",
    });
  });
});
