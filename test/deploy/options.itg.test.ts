import { cmd, connect, type Remote } from "@smoker/remote";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { host, options } from "../remote/support.js";
import {
  connectionInputs,
  containers,
  httpText,
  image,
  outputsOf,
  removeProject,
  runAction,
  workspace,
} from "./support.js";

// pre-deploy, services and keep-releases, on a lab host with Compose v2.
const h = host("dev-cloud");
const project = `opts-${process.pid}`;
const stack = (backend: string, frontend: string) => `services:
  backend:
    image: ${image("backend")}:${backend}
    ports:
      - "18161:3001"
  frontend:
    image: ${image("frontend")}:${frontend}
    ports:
      - "18162:80"
`;

describe("deploy-compose options", () => {
  let remote: Remote;
  const deploy = (backend: string, frontend: string, extra: Record<string, string> = {}) =>
    runAction(
      "deploy-compose",
      {
        ...connectionInputs(h),
        "compose-files": `${project}/docker-compose.yml`,
        version: `${backend}-${frontend}`,
        "wait-timeout": "30s",
        ...extra,
      },
      { GITHUB_WORKSPACE: workspace(project, { "docker-compose.yml": stack(backend, frontend) }) },
    );

  beforeAll(async () => {
    remote = await connect(options(h));
    const first = await deploy("1.0.0", "1.0.0");
    expect(first.exitCode, first.log).toBe(0);
  });
  afterAll(async () => {
    await removeProject(remote, project);
    remote.close();
  });

  test("a failing pre-deploy command aborts before anything changes", async () => {
    const before = await containers(remote, project);
    const result = await deploy("2.0.0", "2.0.0", { "pre-deploy": "echo dumping; exit 7" });
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toMatch(/Pre-deploy command failed/);
    expect(result.log).toContain("exit code 7");
    expect(await containers(remote, project)).toEqual(before);
    expect(await httpText(`http://${h.ip}:18161/version`)).toBe("1.0.0");
  });

  test("a passing pre-deploy command runs on the host, in the project directory", async () => {
    const result = await deploy("1.0.0", "1.0.0", { "pre-deploy": "pwd > pre-deploy-ran" });
    expect(result.exitCode, result.log).toBe(0);
    expect((await remote.run(cmd("cat", `/opt/${project}/pre-deploy-ran`))).stdout.trim()).toBe(
      `/opt/${project}`,
    );
  });

  test("services deploys only the named services; the others keep their containers", async () => {
    const before = await containers(remote, project);
    const result = await deploy("2.0.0", "2.0.0", { services: "backend" });
    expect(result.exitCode, result.log).toBe(0);
    const after = await containers(remote, project);
    expect(after.frontend).toEqual(before.frontend);
    expect(after.backend?.id).not.toBe(before.backend?.id);
    expect(await httpText(`http://${h.ip}:18161/version`)).toBe("2.0.0");
    expect(await httpText(`http://${h.ip}:18162/version`)).toBe("1.0.0");
    expect(Object.keys(outputsOf(result).images).sort()).toEqual(["backend", "frontend"]);
  });

  test("a service not in the compose files is refused before anything changes", async () => {
    const result = await deploy("2.0.0", "2.0.0", { services: "backend\nworker" });
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toMatch(/services lists worker, not in the compose files/);
  });

  test("keep-releases keeps the newest records and their files", async () => {
    for (let k = 0; k < 3; k++) {
      const r = await deploy("1.0.0", k % 2 ? "2.0.0" : "1.0.0", { "keep-releases": "2" });
      expect(r.exitCode, r.log).toBe(0);
    }
    const listing = (await remote.run(cmd("ls", "-1", `/opt/${project}/.smoker/releases`))).stdout
      .trim()
      .split("\n");
    const records = listing.filter((f) => f.endsWith(".json"));
    expect(records).toHaveLength(2);
    // Each kept record has its folder; no folder outlives its record.
    expect(listing.filter((f) => !f.endsWith(".json")).sort()).toEqual(
      records.map((f) => f.slice(0, -5)).sort(),
    );
  });
});
