import { cmd, connect, type Remote } from "@smoker/remote";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { host, options } from "../remote/support.js";
import {
  connectionInputs,
  containers,
  httpText,
  image,
  removeProject,
  retag,
  runAction,
  workspace,
} from "./support.js";

// A container recreated outside Compose keeps Compose's labels (Watchtower copies them), and
// those labels name the image Compose created it from. When the tag then points back at that
// image, `compose up` sees nothing to do and the newer image keeps running. The deploy must put
// the tag's image in place anyway.
const h = host("dev-cloud");
const project = `outside-${process.pid}`;
const tag = `outside-${process.pid}`;
const PORT = 18163;
const stack = `services:
  backend:
    image: ${image("backend")}:${tag}
    ports:
      - "${PORT}:3001"
`;

/** Replaces the service's container the way Watchtower does: same name, labels and ports. */
async function recreateLikeWatchtower(remote: Remote, id: string): Promise<void> {
  const inspected = JSON.parse((await remote.run(cmd("docker", "inspect", id))).stdout) as {
    Name: string;
    Config: { Labels: Record<string, string> };
  }[];
  const { Name, Config } = inspected[0]!;
  await remote.run(cmd("docker", "pull", "-q", `${image("backend")}:${tag}`));
  await remote.run(cmd("docker", "rm", "-f", id));
  await remote.run(
    cmd(
      "docker",
      "run",
      "-d",
      "--name",
      Name.replace(/^\//, ""),
      "--network",
      `${project}_default`,
      "--network-alias",
      "backend",
      "-p",
      `${PORT}:3001`,
      ...Object.entries(Config.Labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
      `${image("backend")}:${tag}`,
    ),
  );
}

describe("deploy-compose after a container was recreated outside Compose", () => {
  let remote: Remote;
  const deploy = (version: string) =>
    runAction(
      "deploy-compose",
      {
        ...connectionInputs(h),
        "compose-files": `${project}/docker-compose.yml`,
        version,
        "wait-timeout": "30s",
      },
      { GITHUB_WORKSPACE: workspace(project, { "docker-compose.yml": stack }) },
    );

  beforeAll(async () => {
    remote = await connect(options(h));
  });
  afterAll(async () => {
    await removeProject(remote, project);
    remote.close();
  });

  test("the tag moved back to the image Compose's labels name: the deploy still runs it", async () => {
    await retag(remote, "backend", "1.0.0", tag);
    const first = await deploy("1.0.0");
    expect(first.exitCode, first.log).toBe(0);
    const original = (await containers(remote, project)).backend!;

    // Watchtower moves the service to 2.0.0, copying the labels (which still name 1.0.0).
    await retag(remote, "backend", "2.0.0", tag);
    await recreateLikeWatchtower(remote, original.id);
    expect(await httpText(`http://${h.ip}:${PORT}/version`)).toBe("2.0.0");

    // 2.0.0 is withdrawn: the tag is 1.0.0 again, and the deploy must bring it back.
    await retag(remote, "backend", "1.0.0", tag);
    const second = await deploy("1.0.0-again");
    expect(second.exitCode, second.log).toBe(0);
    expect(second.log).toContain("Recreated backend");
    const after = (await containers(remote, project)).backend!;
    expect(after.image).toBe(original.image);
    expect(await httpText(`http://${h.ip}:${PORT}/version`)).toBe("1.0.0");

    // Nothing stale any more: a third deploy recreates nothing.
    const third = await deploy("1.0.0-third");
    expect(third.exitCode, third.log).toBe(0);
    expect(third.log).not.toContain("Recreated");
    expect((await containers(remote, project)).backend!.id).toBe(after.id);
  });
});
