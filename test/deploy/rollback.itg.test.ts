import { cmd, connect, type Remote } from "@smoker/remote";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { acceptedLogins, host, lab, options } from "../remote/support.js";
import {
  connectionInputs,
  httpText,
  image,
  outputsOf,
  removeProject,
  runAction,
  workspace,
} from "./support.js";

const h = host("prod-cloud");
const project = `rb-${process.pid}`;
const port = 18111;
const file = (tag: string) => `services:
  backend:
    image: ${image("backend")}:${tag}
    ports:
      - "${port}:3001"
`;

describe("the rollback action on a host deployed by deploy-compose", () => {
  let remote: Remote;
  const ids: Record<string, string> = {};
  const deployVersion = async (tag: string) => {
    const ws = workspace(project, { "docker-compose.yml": file(tag) });
    const result = await runAction(
      "deploy-compose",
      {
        ...connectionInputs(h),
        "compose-files": `${project}/docker-compose.yml`,
        version: tag,
        "wait-timeout": "30s",
      },
      { GITHUB_WORKSPACE: ws },
    );
    expect(result.exitCode, result.log).toBe(0);
    ids[tag] = outputsOf(result)["deployment-id"]!;
  };
  const rollbackTo = (to: string) =>
    runAction("rollback", {
      ...connectionInputs(h),
      "project-name": project,
      to,
      "wait-timeout": "30s",
    });

  beforeAll(async () => {
    remote = await connect(options(h));
    await deployVersion("1.0.0");
    await deployVersion("2.0.0");
    expect(await httpText(`http://${h.ip}:${port}/version`)).toBe("2.0.0");
  });
  afterAll(async () => {
    await removeProject(remote, project);
    remote.close();
  });

  test("previous brings back 1.0.0 by digest, with its own compose file, and logs it", async () => {
    const result = await rollbackTo("previous");
    expect(result.exitCode, result.log).toBe(0);
    const out = outputsOf(result);
    expect(out["rolled-back-to"]).toBe(ids["1.0.0"]);
    expect(out.images.backend?.digest).toBe(lab().images["backend:1.0.0"]);
    expect(await httpText(`http://${h.ip}:${port}/version`)).toBe("1.0.0");
    const onHost = await remote.run(cmd("cat", `/opt/${project}/docker-compose.yml`));
    expect(onHost.stdout).toBe(file("1.0.0"));
    const audit = (await remote.run(cmd("tail", "-n", "1", `/opt/${project}/.smoker/audit.log`)))
      .stdout;
    expect(JSON.parse(audit)).toMatchObject({
      action: "rollback",
      outcome: "success",
      deployment: ids["1.0.0"],
    });
    expect(result.summary).toContain("rolled back to 1.0.0");
  });

  test("previous does not bounce back to the release it rolled away from", async () => {
    const result = await rollbackTo("previous");
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toMatch(/no earlier shipped release/);
    expect(await httpText(`http://${h.ip}:${port}/version`)).toBe("1.0.0");
  });

  test("an explicit deployment id is brought back as asked", async () => {
    const result = await rollbackTo(ids["2.0.0"]!);
    expect(result.exitCode, result.log).toBe(0);
    expect(await httpText(`http://${h.ip}:${port}/version`)).toBe("2.0.0");
  });

  test("a malformed id is rejected before connecting", async () => {
    const logins = acceptedLogins(h);
    const result = await rollbackTo("../../etc;id");
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toContain('Input "to"');
    expect(acceptedLogins(h)).toBe(logins);
  });
});
