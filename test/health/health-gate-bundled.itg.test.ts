import { detectCompose, up } from "@smoker/compose";
import { cmd, connect, type Remote } from "@smoker/remote";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connectionInputs, image, removeProject, runAction } from "../deploy/support.js";
import { host, options } from "../remote/support.js";

// The bundled action under node 24, as a runner runs it, watching a real stack's containers.
const h = host("dev-cloud");
const project = `hg-watch-${process.pid}`;
const dir = `/opt/${project}`;
let remote: Remote;

async function startStack(tag: string, port: number) {
  const tool = await detectCompose(remote);
  await remote.run(cmd("mkdir", "-p", dir));
  await remote.writeFile(
    `${dir}/docker-compose.yml`,
    `services:\n  backend:\n    image: ${image("backend")}:${tag}\n    restart: always\n    ports:\n      - "${port}:3001"\n`,
    0o644,
  );
  await remote.run(up({ tool, dir, name: project, files: ["docker-compose.yml"] }));
}

describe("health-gate, bundled, with the stack's containers watched", () => {
  beforeAll(async () => {
    remote = await connect(options(h));
  });
  afterAll(async () => {
    await removeProject(remote, project);
    remote.close();
  });

  test("a healthy stack passes, with the report and time to healthy", async () => {
    await startStack("1.0.0", 18141);
    const result = await runAction("health-gate", {
      ...connectionInputs(h),
      "project-name": project,
      urls: `http://${h.ip}:18141/health`,
      timeout: "60s",
      "stable-for": "2s",
    });
    expect(result.exitCode, result.log).toBe(0);
    expect(result.outputs.healthy).toBe("true");
    expect(Number(result.outputs["time-to-healthy-ms"])).toBeGreaterThan(0);
    expect(JSON.parse(result.outputs.report ?? "{}").checks[0].healthy).toBe(true);
    expect(result.log).toContain(`Containers of ${project} up: backend`);
    expect(result.log).toContain(`Containers of ${project} stayed up for 2.0 s: backend`);
  });

  test("stable-for: a service that crashes soon after turning healthy fails the gate", async () => {
    // backend:flaky is healthy at once and exits 5 s later (restart: always brings it back).
    await startStack("flaky", 18143);
    const result = await runAction("health-gate", {
      ...connectionInputs(h),
      "project-name": project,
      urls: `http://${h.ip}:18143/health`,
      timeout: "60s",
      "success-threshold": "1",
      "stable-for": "15s",
    });
    expect(result.exitCode, result.log).not.toBe(0);
    expect(result.log).toContain(`Containers of ${project} up: backend`);
    expect(result.log).toMatch(
      /Service backend (exited with code 1|restarted 1x|is crash-looping)/,
    );
    expect(result.outputs.healthy).toBe("false");
  });

  test("a crash-looping container fails the gate within seconds, long before its timeout", async () => {
    await startStack("crash", 18142);
    const started = Date.now();
    const result = await runAction("health-gate", {
      ...connectionInputs(h),
      "project-name": project,
      urls: `http://${h.ip}:18142/health`,
      timeout: "120s",
    });
    const took = Date.now() - started;
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toMatch(/backend/);
    expect(result.log).toMatch(/exited|restart/i);
    expect(result.outputs.healthy).toBe("false");
    // Fail fast versus the 120 s timeout (not a speed benchmark: see bench/).
    expect(took).toBeLessThan(30_000);
  });
});
