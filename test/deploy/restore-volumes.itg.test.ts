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

const h = host("smoker-pi");
const project = `rv-${process.pid}`;
const port = 18151;
const tools = () => `${image("tools")}:1`;
const file = (tag: string) => `services:
  backend:
    image: ${image("backend")}:${tag}
    ports:
      - "${port}:3001"
  db:
    image: ${image("db")}:1.0.0
    volumes:
      - data:/data
volumes:
  data: {}
`;

describe("rollback with restore-volumes", () => {
  let remote: Remote;
  const volume = `${project}_data`;
  const files = async () =>
    (
      await remote.run(
        cmd("docker", "run", "--rm", "-v", `${volume}:/d`, tools(), "ls", "-1", "/d"),
      )
    ).stdout.split("\n");
  const touch = (name: string) =>
    remote.run(cmd("docker", "run", "--rm", "-v", `${volume}:/d`, tools(), "touch", `/d/${name}`));
  const deploy = async (tag: string) => {
    const result = await runAction(
      "deploy-compose",
      {
        ...connectionInputs(h),
        "compose-files": `${project}/docker-compose.yml`,
        version: tag,
        "backup-volumes": "data",
        "backup-image": tools(),
        "wait-timeout": "30s",
      },
      { GITHUB_WORKSPACE: workspace(project, { "docker-compose.yml": file(tag) }) },
    );
    expect(result.exitCode, result.log).toBe(0);
    return outputsOf(result)["deployment-id"]!;
  };

  beforeAll(async () => {
    remote = await connect(options(h));
  });
  afterAll(async () => {
    await removeProject(remote, project);
    remote.close();
  });

  test("puts back the data of the release, after archiving the current data", async () => {
    const v1 = await deploy("1.0.0");
    await touch("written-by-1.0.0");
    await deploy("2.0.0");
    // 2.0.0 "migrates" the data.
    await touch("written-by-2.0.0");
    const result = await runAction("rollback", {
      ...connectionInputs(h),
      "project-name": project,
      "restore-volumes": "true",
      "backup-image": tools(),
      "wait-timeout": "30s",
    });
    expect(result.exitCode, result.log).toBe(0);
    expect(outputsOf(result)["rolled-back-to"]).toBe(v1);
    expect(await httpText(`http://${h.ip}:${port}/version`)).toBe("1.0.0");
    const now = await files();
    expect(now).toContain("written-by-1.0.0");
    expect(now).not.toContain("written-by-2.0.0");
    // The data it replaced was archived first: the restore can be undone.
    const backups = (await remote.run(cmd("ls", "-1", `/opt/${project}/.smoker/backups`))).stdout;
    const safety = backups.split("\n").find((d) => d.includes("-pre-rollback-"));
    expect(safety).toBeDefined();
    const listing = (
      await remote.run(cmd("tar", "-tzf", `/opt/${project}/.smoker/backups/${safety}/data.tar.gz`))
    ).stdout;
    expect(listing).toContain("./written-by-2.0.0");
  });

  test("a release whose replacement took no backup cannot restore volumes, and nothing changes", async () => {
    const before = await containers(remote, project);
    const result = await runAction("rollback", {
      ...connectionInputs(h),
      "project-name": project,
      to: "previous",
      "restore-volumes": "true",
      "backup-image": tools(),
    });
    expect(result.exitCode).not.toBe(0);
    expect(await containers(remote, project)).toEqual(before);
  });
});
