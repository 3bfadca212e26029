// pi-watchtower against a fleet of six lab devices running the Watchtower stand-in (see
// fleet-lab.ts): setup, updates with offline devices, a crash-looping release rolled back by
// digest, max-failures, and the token kept out of logs and command lines.
import { randomBytes } from "node:crypto";
import { type ActionResult, assertNoSecrets } from "@smoker/action-kit/testing";
import { cmd } from "@smoker/remote";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAction } from "../deploy/support.js";
import type { LabHost } from "../lab/lab.js";
import { sampleCmdlines } from "../remote/support.js";
import {
  APP_PORT,
  downFleet,
  type Fleet,
  fault,
  fleetConnect,
  fleetInputs,
  onDevice,
  PROJECT,
  pushApp,
  running,
  upFleet,
} from "./fleet-lab.js";

const TOKEN = randomBytes(20).toString("hex");
const results: ActionResult[] = [];
let fleet: Fleet;

const hosts = (...names: string[]) => fleet.hosts.filter((h) => names.includes(h.name));
const list = (r: ActionResult, output: string) =>
  JSON.parse(r.outputs[output] ?? "null") as string[];

async function action(inputs: Record<string, string>, devices: LabHost[]) {
  const result = await runAction("pi-watchtower", {
    ...fleetInputs(fleet.lab),
    devices: devices.map((h) => h.ip).join("\n"),
    "watchtower-token": TOKEN,
    "watchtower-image": fleet.watchtowerImage,
    "connect-timeout": "3s",
    "health-url": `http://{address}:${APP_PORT}/health`,
    "wait-timeout": "30s",
    ...inputs,
  });
  results.push(result);
  return result;
}

function watchtowerContainer(h: LabHost) {
  const id = onDevice(
    h,
    "ps",
    "-q",
    "--no-trunc",
    "--filter",
    `label=com.docker.compose.project=${PROJECT}`,
    "--filter",
    "label=com.docker.compose.service=watchtower",
  ).trim();
  return JSON.parse(onDevice(h, "inspect", id))[0] as {
    Id: string;
    Path: string;
    Args: string[];
    Config: { Cmd: string[]; Entrypoint: string[] };
    HostConfig: { PortBindings: Record<string, { HostIp: string; HostPort: string }[]> };
    State: { Running: boolean };
  };
}

beforeAll(async () => {
  fleet = await upFleet();
});

afterAll(() => {
  downFleet();
});

describe("pi-watchtower on a fleet of six devices", () => {
  it("setup writes Watchtower into each project, bound to the device's address, token in a 0600 file", async () => {
    const r = await action({ mode: "setup", "poll-interval": "1h", concurrency: "6" }, fleet.hosts);
    expect(r.failed, r.log).toBe(false);
    expect(list(r, "updated")).toHaveLength(6);
    for (const h of fleet.hosts) {
      const wt = watchtowerContainer(h);
      expect(wt.State.Running).toBe(true);
      expect(wt.Args).toEqual([
        "/watchtower.mjs",
        "--label-enable",
        "--scope",
        PROJECT,
        "--http-api-update",
        "--http-api-periodic-polls",
        "--interval",
        "3600",
      ]);
      expect(wt.HostConfig.PortBindings["8080/tcp"]).toEqual([{ HostIp: h.ip, HostPort: "8080" }]);
    }
    const remote = await fleetConnect(fleet.lab, fleet.hosts[0]!);
    try {
      const mode = await remote.run(cmd("stat", "-c", "%a", `/opt/${PROJECT}/.watchtower.env`));
      expect(mode.stdout.trim()).toBe("600");
      const file = (
        await remote.readFile(`/opt/${PROJECT}/docker-compose.watchtower.yml`)
      ).toString();
      expect(file).not.toContain("--cleanup");
      expect(file).not.toContain(TOKEN);
      // The stand-in holds Watchtower's contract: a wrong token is refused with 401.
      const wrong = await remote.tryRun(
        cmd("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--config", "-"),
        {
          stdin: `url = "http://${fleet.hosts[0]!.ip}:8080/v1/update"\nheader = "Authorization: Bearer not-the-token"\n`,
        },
      );
      expect(wrong.stdout).toBe("401");
    } finally {
      remote.close();
    }
  });

  it("a second setup changes nothing", async () => {
    const before = fleet.hosts.map((h) => [watchtowerContainer(h).Id, running(h).id]);
    const r = await action({ mode: "setup", "poll-interval": "1h", concurrency: "6" }, fleet.hosts);
    expect(r.failed, r.log).toBe(false);
    expect(r.log).toContain("already set up, nothing changed");
    expect(r.log).not.toContain("wrote ");
    expect(fleet.hosts.map((h) => [watchtowerContainer(h).Id, running(h).id])).toEqual(before);
  });

  it("status lists the devices that answered as online (updated stays empty)", async () => {
    const r = await action({ mode: "status" }, hosts("pi-1", "pi-2"));
    expect(r.failed, r.log).toBe(false);
    expect(list(r, "online")).toEqual(hosts("pi-1", "pi-2").map((h) => h.ip));
    expect(list(r, "updated")).toEqual([]);
    const status = JSON.parse(r.outputs.status ?? "{}") as Record<
      string,
      { online: boolean; watchtowerRunning: boolean }
    >;
    for (const h of hosts("pi-1", "pi-2")) {
      expect(status[h.ip]).toMatchObject({ online: true, watchtowerRunning: true });
    }
  });

  it("updates the 4 devices online, reports the 2 partitioned ones pending, and exits 0", async () => {
    const v2 = pushApp(fleet, "2.0.0");
    fault("partition", "pi-5");
    fault("partition", "pi-6");
    const sampler = sampleCmdlines();
    const r = await action({}, fleet.hosts);
    const argv = await sampler.stop();
    expect(r.failed, r.log).toBe(false);
    expect(list(r, "updated")).toEqual(hosts("pi-1", "pi-2", "pi-3", "pi-4").map((h) => h.ip));
    expect(list(r, "pending")).toEqual(hosts("pi-5", "pi-6").map((h) => h.ip));
    expect(list(r, "failed")).toEqual([]);
    for (const h of hosts("pi-1", "pi-2", "pi-3", "pi-4")) expect(running(h).digest).toBe(v2);
    // Bounded by one connect timeout, not two: the offline devices were tried at the same
    // time (the second was being connected to before the first was given up on).
    const [p5, p6] = hosts("pi-5", "pi-6").map((h) => h.ip);
    const firstGivenUp = Math.min(
      r.log.indexOf(`[${p5}] unreachable`),
      r.log.indexOf(`[${p6}] unreachable`),
    );
    expect(r.log.indexOf(`[${p5}] connecting`)).toBeLessThan(firstGivenUp);
    expect(r.log.indexOf(`[${p6}] connecting`)).toBeLessThan(firstGivenUp);
    expect(argv.count).toBeGreaterThan(0);
    expect(argv.text).not.toContain(TOKEN);
  });

  it("fails with offline-policy: fail while devices are offline", async () => {
    const r = await action({ "offline-policy": "fail" }, fleet.hosts);
    expect(r.failed).toBe(true);
    expect(list(r, "pending")).toEqual(hosts("pi-5", "pi-6").map((h) => h.ip));
    expect(list(r, "updated")).toHaveLength(4);
    expect(r.annotations.some((a) => a.message.includes("offline"))).toBe(true);
    fault("heal", "pi-5");
    fault("heal", "pi-6");
  });

  it("rolls a crash-looping release back by digest and stops at max-failures", async () => {
    const [pi1, pi2, pi3] = hosts("pi-1", "pi-2", "pi-3");
    const before = [pi1!, pi2!, pi3!].map(running);
    pushApp(fleet, "crash");
    const r = await action({ "max-failures": "1", concurrency: "1" }, [pi1!, pi2!, pi3!]);
    expect(r.failed).toBe(true);
    expect(list(r, "failed")).toEqual([pi1!.ip]);
    expect(list(r, "skipped")).toEqual([pi2!.ip, pi3!.ip]);
    expect(list(r, "updated")).toEqual([]);
    // pi-1 was updated to the crashing image by Watchtower, then pinned back to its digest.
    expect(r.log).toContain("rolled back to the previous digests");
    const after = running(pi1!);
    expect(after.digest).toBe(before[0]!.digest);
    expect(after.id).not.toBe(before[0]!.id);
    expect(onDevice(pi1!, "inspect", "--format", "{{.Config.Image}}", after.id).trim()).toContain(
      `@${before[0]!.digest}`,
    );
    // The others were never touched: only recorded ahead of their turn (reads), before pi-1's
    // check had even failed.
    expect([pi2!, pi3!].map(running)).toEqual(before.slice(1));
    const firstFailure = r.log.indexOf(`[${pi1!.ip}] check failed`);
    expect(firstFailure).toBeGreaterThan(0);
    for (const h of [pi2!, pi3!]) {
      expect(r.log.indexOf(`[${h.ip}] running:`)).toBeGreaterThan(0);
      expect(r.log.indexOf(`[${h.ip}] running:`)).toBeLessThan(firstFailure);
    }
  });

  it("trigger: ssh pulls and recreates over SSH, and a rolled-back device follows the tag again", async () => {
    const [pi1, pi4] = hosts("pi-1", "pi-4");
    const before = [pi1!, pi4!].map(running);
    const v1 = pushApp(fleet, "1.0.0");
    expect(before.map((r) => r.digest)).not.toContain(v1);
    const r = await action({ trigger: "ssh" }, [pi1!, pi4!]);
    expect(r.failed, r.log).toBe(false);
    expect(list(r, "updated")).toEqual([pi1!.ip, pi4!.ip]);
    expect(r.log).toContain(`[${pi1!.ip}] removed the rollback pins`);
    for (const h of [pi1!, pi4!]) {
      const now = running(h);
      expect(now.digest, r.log).toBe(v1);
      // Recreated from the tag, no longer from a pinned digest.
      expect(onDevice(h, "inspect", "--format", "{{.Config.Image}}", now.id).trim()).not.toContain(
        "@sha256:",
      );
    }
  });

  it("keeps the token out of every log, output and container command line", () => {
    expect(results.length).toBeGreaterThanOrEqual(5);
    for (const r of results) {
      // Registered with ::add-mask:: (which the runner never prints), and nowhere else.
      expect(r.masked).toContain(TOKEN);
      assertNoSecrets(r, [TOKEN]);
    }
    for (const h of fleet.hosts) {
      const all = onDevice(h, "ps", "-aq", "--no-trunc").trim().split("\n").filter(Boolean);
      const inspected = JSON.parse(onDevice(h, "inspect", ...all)) as {
        Path: string;
        Args: string[];
        Config: { Cmd: string[] | null; Entrypoint: string[] | null };
      }[];
      for (const c of inspected) {
        expect(JSON.stringify([c.Path, c.Args, c.Config.Cmd, c.Config.Entrypoint])).not.toContain(
          TOKEN,
        );
      }
    }
  });
});
