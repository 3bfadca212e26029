import { assertNoSecrets } from "@smoker/action-kit/testing";
import { cmd, connect, type Remote } from "@smoker/remote";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { labCommand } from "../lab/lab.js";
import {
  acceptedLogins,
  host,
  lab,
  options,
  sampleCmdlines,
  withRemote,
} from "../remote/support.js";
import {
  connectionInputs,
  containers,
  digestOf,
  httpText,
  image,
  outputsOf,
  removeProject,
  retag,
  runAction,
  workspace,
} from "./support.js";

const stack = (tag: string, port: number) => `services:
  backend:
    image: ${image("backend")}:${tag}
    ports:
      - "${port}:3001"
    restart: unless-stopped
    environment:
      - SECRET_TOKEN=\${SECRET_TOKEN}
  db:
    image: ${image("db")}:1.0.0
    volumes:
      - data:/data
volumes:
  data: {}
`;

describe.each([
  { flavor: "v2", hostName: "dev-cloud", port: 18101 },
  { flavor: "v1", hostName: "smoker-pi", port: 18102 },
])("deploy-compose with Compose $flavor on $hostName", ({ flavor, hostName, port }) => {
  const h = host(hostName);
  const project = `story-${flavor}-${process.pid}`;
  const tag = `nightly-${flavor}-${process.pid}`;
  const secret = `tok-${process.pid}-${flavor}-s3cr3t`;
  const ws = workspace(project, { "docker-compose.yml": stack(tag, port) });
  let remote: Remote;
  const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...connectionInputs(host(hostName)),
    "compose-files": `${project}/docker-compose.yml`,
    version: "1.0.0",
    env: `SECRET_TOKEN=${secret}`,
    "wait-timeout": "40s",
    compose: flavor,
    "backup-volumes": "data",
    "backup-image": `${image("tools")}:1`,
    ...extra,
  });
  const deployNow = (extra: Record<string, string> = {}) =>
    runAction("deploy-compose", inputs(extra), {
      GITHUB_WORKSPACE: ws,
      GITHUB_RUN_ID: "77",
      GITHUB_ACTOR: "octocat",
    });
  const url = (path: string) => `http://${h.ip}:${port}${path}`;
  const audit = async () =>
    (await remote.run(cmd("cat", `/opt/${project}/.smoker/audit.log`))).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { outcome: string; deployment: string });

  const volumeLog = async () =>
    (
      await remote.run(
        cmd(
          "docker",
          "run",
          "--rm",
          "-v",
          `${project}_data:/data`,
          `${image("db")}:1.0.0`,
          "cat",
          "/data/log",
        ),
      )
    ).stdout;

  beforeAll(async () => {
    remote = await connect(options(h));
    await retag(remote, "backend", "1.0.0", tag);
  });
  afterAll(async () => {
    await removeProject(remote, project);
    remote.close();
  });

  test("a good deploy runs healthy, reports its digests and writes the audit log; secrets stay secret", async () => {
    const samples = sampleCmdlines();
    const result = await deployNow();
    const argv = await samples.stop();
    expect(argv.count).toBeGreaterThan(5);
    expect(argv.text).not.toContain(secret);
    expect(argv.text).not.toContain("PRIVATE KEY");
    expect(result.exitCode, result.log).toBe(0);
    const out = outputsOf(result);
    expect(out["rolled-back"]).toBe("false");
    expect(out["compose-version"]).toMatch(new RegExp(`^${flavor} `));
    expect(out["previous-deployment-id"]).toBe("");
    expect(out.images.backend?.digest).toBe(lab().images["backend:1.0.0"]);
    expect(out.images.db?.digest).toBe(lab().images["db:1.0.0"]);
    expect(await httpText(url("/version"))).toBe("1.0.0");
    const lines = await audit();
    expect(lines.at(-1)).toMatchObject({ outcome: "success", deployment: out["deployment-id"] });
    const env = await remote.run(cmd("stat", "-c", "%a", `/opt/${project}/.env`));
    expect(env.stdout.trim()).toBe("600");
    // The container got the secret; the log, outputs and summary never show it.
    const backend = (await containers(remote, project)).backend!;
    const seen = await remote.run(
      cmd("docker", "inspect", "--format", "{{json .Config.Env}}", backend.id),
    );
    expect(JSON.parse(seen.stdout)).toContain(`SECRET_TOKEN=${secret}`);
    assertNoSecrets(result, [secret, inputs()["private-key"] ?? ""]);
    expect(result.summary).toContain("backend");
    expect(result.summary).toContain("mermaid");
  });

  test("redeploying the same digests recreates nothing", async () => {
    const before = await containers(remote, project);
    const result = await deployNow();
    expect(result.exitCode, result.log).toBe(0);
    expect(await containers(remote, project)).toEqual(before);
    expect(outputsOf(result)["previous-deployment-id"]).not.toBe("");
  });

  test("the db volume was archived before the redeploy: checksummed, and it reads", async () => {
    const root = `/opt/${project}/.smoker/backups`;
    const dirs = (await remote.run(cmd("ls", "-1", root))).stdout.trim().split("\n");
    // The first deploy had no volume yet; the redeploy archived it.
    expect(dirs).toHaveLength(1);
    const dir = `${root}/${dirs[0]}`;
    const manifest = JSON.parse((await remote.run(cmd("cat", `${dir}/manifest.json`))).stdout);
    expect(manifest).toMatchObject([
      { volume: "data", dockerVolume: `${project}_data`, file: "data.tar.gz" },
    ]);
    const sum = (await remote.run(cmd("sha256sum", `${dir}/data.tar.gz`))).stdout.split(" ")[0];
    expect(manifest[0].sha256).toBe(sum);
    const listing = (await remote.run(cmd("tar", "-tzf", `${dir}/data.tar.gz`))).stdout;
    expect(listing).toContain("./log");
    expect(manifest[0].entries).toBe(listing.trim().split("\n").length);
  });

  test("a crashing release under the same tag fails fast and is rolled back to the previous DIGEST", async () => {
    const dbLog = await volumeLog();
    // The tag moves to a broken image: a rollback by tag would redeploy it.
    await retag(remote, "backend", "crash", tag);
    const result = await deployNow({ version: "2.0.0-broken" });
    expect(result.exitCode).not.toBe(0);
    const out = outputsOf(result);
    expect(out["rolled-back"]).toBe("true");
    expect(result.log).toMatch(/rolled back|previous release/i);
    expect(result.log).toMatch(/backend/);
    expect(out.images.backend?.digest).toBe(lab().images["backend:1.0.0"]);
    const running = await containers(remote, project);
    expect(await digestOf(remote, running.backend!.image)).toBe(lab().images["backend:1.0.0"]);
    expect(await httpText(url("/version"))).toBe("1.0.0");
    // The db keeps its data: every line from before is still there (a restart appends one).
    expect((await volumeLog()).startsWith(dbLog)).toBe(true);
    expect((await audit()).at(-1)?.outcome).toBe("rolled-back");
    await retag(remote, "backend", "1.0.0", tag);
  });

  test("an image that never turns healthy is rolled back too", async () => {
    await retag(remote, "backend", "unhealthy", tag);
    const result = await deployNow({ version: "2.0.1-unhealthy" });
    expect(result.exitCode).not.toBe(0);
    expect(outputsOf(result)["rolled-back"]).toBe("true");
    expect(result.log).toMatch(/unhealthy/);
    expect(await httpText(url("/version"))).toBe("1.0.0");
    await retag(remote, "backend", "1.0.0", tag);
  });

  test("stable-for: a release that crashes soon after turning healthy is rolled back", async () => {
    // backend:flaky is healthy at once and exits 5 s later: healthy at the watch's first look.
    await retag(remote, "backend", "flaky", tag);
    const result = await deployNow({ version: "2.0.2-flaky", "stable-for": "15s" });
    expect(result.exitCode).not.toBe(0);
    expect(outputsOf(result)["rolled-back"]).toBe("true");
    // How the crash is seen depends on when the watch looks: exited, or already restarted by
    // Docker (restart policy), or caught in between (crash-looping).
    expect(result.log).toMatch(
      /Service backend (exited with code 1|restarted|is crash-looping: it exited with code 1)/,
    );
    const running = await containers(remote, project);
    expect(await digestOf(remote, running.backend!.image)).toBe(lab().images["backend:1.0.0"]);
    expect(await httpText(url("/version"))).toBe("1.0.0");
    await retag(remote, "backend", "1.0.0", tag);
  });

  test("a missing tag fails before anything stops: container ids unchanged", async () => {
    const before = await containers(remote, project);
    const ws2 = workspace(project, { "docker-compose.yml": stack("never-pushed", port) });
    const result = await runAction("deploy-compose", inputs({ version: "3.0.0" }), {
      GITHUB_WORKSPACE: ws2,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toMatch(/Pulling the images failed; nothing was changed/);
    expect(await containers(remote, project)).toEqual(before);
    expect(outputsOf(result)["rolled-back"]).toBe("false");
  });
});

describe("deploy-compose against an unreachable registry", () => {
  test("fails at the pull, and the running containers are untouched", async () => {
    const h = host("prod-cloud");
    const project = `regdown-${process.pid}`;
    const ws = workspace(project, { "docker-compose.yml": stack("1.0.0", 18103) });
    const inputs = {
      ...connectionInputs(h),
      "compose-files": `${project}/docker-compose.yml`,
      version: "1.0.0",
      "wait-timeout": "30s",
    };
    const first = await runAction("deploy-compose", inputs, { GITHUB_WORKSPACE: ws });
    expect(first.exitCode, first.log).toBe(0);
    await withRemote(h, async (r) => {
      const before = await containers(r, project);
      expect(labCommand(["registry-stop"]).status).toBe(0);
      try {
        const result = await runAction(
          "deploy-compose",
          { ...inputs, version: "1.0.1" },
          { GITHUB_WORKSPACE: ws },
        );
        expect(result.exitCode).not.toBe(0);
        expect(result.log).toMatch(/Pulling the images failed/);
        expect(await containers(r, project)).toEqual(before);
      } finally {
        labCommand(["registry-start"]);
        await removeProject(r, project);
      }
    });
  });
});

describe("hostile inputs are rejected before any remote command", () => {
  test.each([
    ["version", "1.0;touch /tmp/pwn"],
    ["version", "$(touch /tmp/pwn)"],
    ["version", "1.0\ntouch /tmp/pwn"],
    ["project-name", "x;touch /tmp/pwn"],
    ["services", "backend\n$(touch /tmp/pwn)"],
  ])("%s = %j", async (name, value) => {
    const h = host("dev-cloud");
    const ws = workspace("hostile", { "docker-compose.yml": stack("1.0.0", 18104) });
    const logins = acceptedLogins(h);
    const result = await runAction(
      "deploy-compose",
      { ...connectionInputs(h), "compose-files": "hostile/docker-compose.yml", [name]: value },
      { GITHUB_WORKSPACE: ws },
    );
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toContain(`Input "${name}"`);
    expect(acceptedLogins(h)).toBe(logins);
    await withRemote(h, async (r) => {
      expect((await r.tryRun(cmd("test", "-e", "/tmp/pwn"))).code).toBe(1);
    });
  });
});
