// The cloud stack, deployed for real: infra/stacks/cloud/docker-compose.yml unchanged, by the
// bundled deploy-compose, to a lab host, with the lab's images in place of the real ones (the
// lab's backend and frontend serve /health on the same ports; its db keeps state in a volume).
// Only MongoDB itself cannot run here: a small override gives the db stand-in a probe it can
// answer, since mongosh is not in it. Everything else (VERSION, REGISTRY, secrets from the env
// input, depends_on healthy, the healthchecks, the named volume, the init-script mount, ports on
// 127.0.0.1) is the file as production runs it.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ActionResult, assertNoSecrets } from "@smoker/action-kit/testing";
import { cmd, connect, type Remote } from "@smoker/remote";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectionInputs,
  httpText,
  image,
  outputsOf,
  ROOT,
  removeProject,
  runAction,
  workspace,
} from "../deploy/support.js";
import { host, lab, options } from "../remote/support.js";

const HOST = "prod-cloud";
const project = `cloud-stack-${process.pid}`;
const secrets = {
  MONGO_INITDB_ROOT_PASSWORD: `root-${process.pid}-Zq81`,
  MONGO_ADMIN_PASSWORD: `admin-${process.pid}-Wm42`,
  MONGO_APP_PASSWORD: `app-${process.pid}-Kt07`,
};
const env = {
  MONGO_INITDB_ROOT_USERNAME: "root",
  MONGO_ADMIN_USERNAME: "ops",
  MONGO_APP_USERNAME: "smoker-app",
  ...secrets,
  REGISTRY: image("").replace(/\/$/, ""),
  MONGO_IMAGE: `${image("db")}:1.0.0`,
  // The lab host's address stands for its tailnet address.
  TAILNET_ADDRESS: host(HOST).ip,
};

const OVERRIDE = `services:
  mongo:
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:5432/health"]
      interval: 1s
      start_period: 10s
`;

let remote: Remote;
let result: ActionResult;

async function inspect(id: string, format: string): Promise<string> {
  return (await remote.run(cmd("docker", "inspect", "--format", format, id))).stdout.trim();
}

async function containerOf(service: string): Promise<string> {
  return (
    await remote.run(
      cmd(
        "docker",
        "ps",
        "-q",
        "--filter",
        `label=com.docker.compose.project=${project}`,
        "--filter",
        `label=com.docker.compose.service=${service}`,
      ),
    )
  ).stdout.trim();
}

beforeAll(async () => {
  const ws = workspace(project, {});
  copyFileSync(
    join(ROOT, "infra/stacks/cloud/docker-compose.yml"),
    join(ws, project, "docker-compose.yml"),
  );
  writeFileSync(join(ws, project, "lab.override.yml"), OVERRIDE);
  remote = await connect(options(host(HOST)));
  await removeProject(remote, project);
  // What the README asks of an operator once per host: the init scripts beside the stack.
  await remote.run(cmd("mkdir", "-p", `/opt/${project}/mongo-init`));
  await remote.writeFile(
    `/opt/${project}/mongo-init/01-users.js`,
    readFileSync(join(ROOT, "infra/stacks/cloud/mongo-init/01-users.js")),
    0o644,
  );
  result = await runAction(
    "deploy-compose",
    {
      ...connectionInputs(host(HOST)),
      "compose-files": `${project}/docker-compose.yml\n${project}/lab.override.yml`,
      version: "1.0.0",
      env: Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join("\n"),
      "backup-volumes": "mongo-data",
      "backup-image": `${image("tools")}:1`,
      "wait-timeout": "90s",
    },
    { GITHUB_WORKSPACE: ws },
  );
}, 240_000);

afterAll(async () => {
  if (remote) {
    await removeProject(remote, project);
    remote.close();
  }
});

describe("infra/stacks/cloud deployed by deploy-compose", () => {
  it("turns healthy: every service's own healthcheck passes", async () => {
    expect(result.exitCode, result.log).toBe(0);
    for (const service of ["mongo", "backend", "frontend"]) {
      const id = await containerOf(service);
      expect(id, service).not.toBe("");
      expect(await inspect(id, "{{.State.Health.Status}}"), service).toBe("healthy");
    }
  });

  it("runs the released VERSION's images from REGISTRY, recorded by digest", () => {
    const { images } = outputsOf(result);
    const digests = lab().images;
    expect(images.backend?.digest).toBe(digests["backend:1.0.0"]);
    expect(images.frontend?.digest).toBe(digests["frontend:1.0.0"]);
    expect(images.backend?.image).toBe(`${image("backend")}:1.0.0`);
  });

  it("gives each container only its own secrets, and logs none", async () => {
    const envOf = async (service: string) =>
      JSON.parse(await inspect(await containerOf(service), "{{json .Config.Env}}")) as string[];
    const mongo = await envOf("mongo");
    expect(mongo).toContain(`MONGO_INITDB_ROOT_PASSWORD=${secrets.MONGO_INITDB_ROOT_PASSWORD}`);
    expect(mongo).toContain(`MONGO_APP_PASSWORD=${secrets.MONGO_APP_PASSWORD}`);
    const backend = await envOf("backend");
    expect(backend).toContain(`MONGO_PASSWORD=${secrets.MONGO_APP_PASSWORD}`);
    expect(backend.join("\n")).not.toContain(secrets.MONGO_INITDB_ROOT_PASSWORD);
    expect(backend.join("\n")).not.toContain(secrets.MONGO_ADMIN_PASSWORD);
    expect((await envOf("frontend")).join("\n")).not.toMatch(/PASSWORD/);
    assertNoSecrets(result, Object.values(secrets));
  });

  it("keeps the data in the named volume and mounts the init scripts read-only", async () => {
    const mounts = JSON.parse(
      await inspect(await containerOf("mongo"), "{{json .Mounts}}"),
    ) as Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>;
    expect(mounts).toContainEqual(
      expect.objectContaining({
        Type: "volume",
        Name: `${project}_mongo-data`,
        Destination: "/data/db",
      }),
    );
    expect(mounts).toContainEqual(
      expect.objectContaining({
        Type: "bind",
        Destination: "/docker-entrypoint-initdb.d",
        RW: false,
      }),
    );
  });

  it("publishes backend and frontend on 127.0.0.1 (serve/funnel) and the tailnet address only", async () => {
    const ports = async (service: string) =>
      (await remote.run(cmd("docker", "port", await containerOf(service)))).stdout
        .trim()
        .split("\n")
        .sort();
    expect(await ports("backend")).toEqual(
      [`3001/tcp -> ${host(HOST).ip}:3001`, "3001/tcp -> 127.0.0.1:3001"].sort(),
    );
    expect(await ports("frontend")).toEqual(
      [`80/tcp -> ${host(HOST).ip}:80`, "80/tcp -> 127.0.0.1:80"].sort(),
    );
    expect(await ports("mongo")).toEqual([""]);
    // What the deploy workflows' health gate does: reach the backend over the host's address.
    expect(await httpText(`http://${host(HOST).ip}:3001/health`)).toBe("ok");
  });
});
