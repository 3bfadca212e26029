import type { ChildProcess } from "node:child_process";
import { cmd, connect, deadPeerBoundMs, type Remote } from "@smoker/remote";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { labCommand } from "../lab/lab.js";
import { host, options } from "../remote/support.js";
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
const port = 18131;
const project = `faults-${process.pid}`;
const stack = (tag: string, slowSeconds = 0) => `services:
  backend:
    image: ${image("backend")}:${tag}
    ports:
      - "${port}:3001"
    environment:
      - SLOW_SECONDS=${slowSeconds}
`;
const audit = async (remote: Remote) =>
  (await remote.run(cmd("cat", `/opt/${project}/.smoker/audit.log`))).stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { outcome: string; deployment: string; previous?: string });
const lockExists = async (remote: Remote) =>
  (await remote.tryRun(cmd("test", "-d", `/opt/${project}/.smoker/lock`))).code === 0;

/** Starts a deploy and calls `during` once the action reports it is waiting for health. */
function deployWith(
  tag: string,
  slow: number,
  during?: (child: ChildProcess) => void,
  extra: Record<string, string> = {},
) {
  const ws = workspace(project, { "docker-compose.yml": stack(tag, slow) });
  return runAction(
    "deploy-compose",
    {
      ...connectionInputs(h),
      "compose-files": `${project}/docker-compose.yml`,
      version: tag,
      "wait-timeout": "60s",
      ...extra,
    },
    { GITHUB_WORKSPACE: ws },
    during
      ? (child) => {
          let seen = false;
          child.stdout?.on("data", (d: Buffer) => {
            if (!seen && d.toString().includes("Wait until healthy")) {
              seen = true;
              during(child);
            }
          });
        }
      : undefined,
  );
}

describe("deploy-compose under faults", () => {
  let remote: Remote;
  beforeAll(async () => {
    remote = await connect(options(h));
  });
  afterEach(() => {
    labCommand(["heal", "prod-cloud"]);
  });
  afterAll(async () => {
    remote = await connect(options(h));
    await removeProject(remote, project);
    remote.close();
  });

  test("SIGTERM during a deploy: lock released and the cancel recorded within 7.5 s", async () => {
    let signalled = 0;
    const result = await deployWith("1.0.0", 20, (child) => {
      signalled = Date.now();
      child.kill("SIGTERM");
    });
    const took = Date.now() - signalled;
    expect(signalled).toBeGreaterThan(0);
    expect(result.exitCode).toBe(143);
    expect(took).toBeLessThan(7_500);
    expect(result.log).toMatch(/Received SIGTERM/);
    expect(await lockExists(remote)).toBe(false);
    expect((await audit(remote)).at(-1)?.outcome).toBe("cancelled");
  });

  test("a partition mid-deploy fails within the keepalive bound; the next deploy proceeds and ends healthy", async () => {
    let cut = 0;
    const result = await deployWith("1.0.0", 20, () => {
      cut = Date.now();
      labCommand(["partition", "prod-cloud"]);
    });
    const took = Date.now() - cut;
    expect(cut).toBeGreaterThan(0);
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toMatch(/connection to .* was lost/i);
    // Detection within the default keepalive bound (5 s x (3 + 1)), plus a margin for cleanup.
    expect(took).toBeLessThan(deadPeerBoundMs({}) + 5_000);
    labCommand(["heal", "prod-cloud"]);
    remote.close();
    remote = await connect(options(h));
    // The dead deploy left its lock behind; its process is gone, so the next deploy takes it.
    expect(await lockExists(remote)).toBe(true);
    const next = await deployWith("1.0.0", 0);
    expect(next.exitCode, next.log).toBe(0);
    expect(next.log).toMatch(
      /Taking over the deploy lock of .*: its process \d+ on this runner is gone/,
    );
    expect(await httpText(`http://${h.ip}:${port}/version`)).toBe("1.0.0");
    expect(await lockExists(remote)).toBe(false);
  });

  test("two concurrent deploys to one host run one after the other, never interleaved", async () => {
    const [a, b] = await Promise.all([
      deployWith("2.0.0", 0, undefined, { "lock-timeout": "90s" }),
      deployWith("1.0.0", 0, undefined, { "lock-timeout": "90s" }),
    ]);
    expect(a.exitCode, a.log).toBe(0);
    expect(b.exitCode, b.log).toBe(0);
    const waited = [a, b].filter((r) => r.log.includes("Waiting for the deploy lock"));
    expect(waited).toHaveLength(1);
    const [first, second] = waited[0] === a ? [b, a] : [a, b];
    const lines = (await audit(remote)).slice(-2);
    expect(lines.map((l) => l.outcome)).toEqual(["success", "success"]);
    expect(lines[0]?.deployment).toBe(outputsOf(first!)["deployment-id"]);
    // The second one replaced the first: it saw the first's release as running.
    expect(lines[1]?.previous).toBe(outputsOf(first!)["deployment-id"]);
    expect(await httpText(`http://${h.ip}:${port}/version`)).toBe(
      outputsOf(second!).images.backend?.image.split(":").at(-1),
    );
  });
});
