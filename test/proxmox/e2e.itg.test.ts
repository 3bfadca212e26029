// End to end: provision-proxmox apply brings up dev-cloud on the PVE simulator, the simulator
// "starts" it by making the shared lab host dev-cloud (10.231.0.11) accept SSH, the action waits
// until that SSH port answers, and then the demo's nightly story (deploys, gate, rollback)
// runs on it for real.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { assertNoSecrets } from "@smoker/action-kit/testing";
import { tcpAnswers } from "@smoker/proxmox";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ROOT, removeProject, runAction, workspace } from "../deploy/support.js";
import { labCommand } from "../lab/lab.js";
import { host, lab as labInfo, withRemote } from "../remote/support.js";
import { type PveSimulator, startPveSimulator } from "./sim/index.js";

const SECRET = randomUUID();

const devCloud = host("dev-cloud");
let sim: PveSimulator;
const hooks: string[] = [];

function lab(args: string[]): void {
  const result = labCommand(args);
  if (result.status !== 0) throw new Error(`lab.sh ${args.join(" ")} failed: ${result.stderr}`);
}

const spec = `guests:
  - name: dev-cloud
    vmid: 104
    type: lxc
    ostemplate: local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst
    cores: 2
    memory: 2048
    disk: 8G
    network: { bridge: vmbr0, ip: ${devCloud.ip}/24, gateway: ${labInfo().gateway} }
    tags: [smoker, dev]
`;

// The workspace the action reads the spec from (spec: guests.yml).
const ws = workspace("pve-e2e", {});
writeFileSync(join(ws, "guests.yml"), spec);

beforeAll(async () => {
  // Until the simulator starts the guest, dev-cloud is "off": its SSH port refuses.
  lab(["refuse", "dev-cloud"]);
  sim = await startPveSimulator({
    tokens: [{ id: "deploy@pve!ci", secret: SECRET, privileges: "all" }],
    taskMs: 100,
    onStart: async (guest) => {
      hooks.push(`start ${guest.vmid}`);
      if (guest.vmid === 104) lab(["accept", "dev-cloud"]);
    },
    onStop: async (guest) => {
      hooks.push(`stop ${guest.vmid}`);
      if (guest.vmid === 104) lab(["refuse", "dev-cloud"]);
    },
  });
});

afterAll(async () => {
  // The lab is shared: dev-cloud must accept SSH again whatever happened here.
  const accepted = labCommand(["accept", "dev-cloud"]);
  await sim?.close();
  if (accepted.status === 0) await withRemote(devCloud, (r) => removeProject(r, "nightly-demo"));
});

test("apply brings dev-cloud up, waits for its SSH, and a deploy runs on it", async () => {
  expect(await tcpAnswers(devCloud.ip, 22, 2_000)).toBe(false);
  const applied = await runAction(
    "provision-proxmox",
    {
      mode: "apply",
      "api-url": sim.url,
      "token-id": "deploy@pve!ci",
      "token-secret": SECRET,
      node: "pve",
      "tls-fingerprint": sim.fingerprint,
      spec: "guests.yml",
      "wait-timeout": "60s",
    },
    { GITHUB_WORKSPACE: ws },
  );
  expect(applied.failed, applied.log).toBe(false);
  assertNoSecrets(applied, [SECRET]);
  expect(hooks).toEqual(["start 104"]);
  expect(applied.log).toContain(`dev-cloud: has ${devCloud.ip}`);
  expect(applied.log).toContain("dev-cloud: SSH port 22 answers");
  expect(JSON.parse(applied.outputs.guests ?? "[]")).toEqual([
    { vmid: 104, name: "dev-cloud", type: "lxc", status: "running", ip: devCloud.ip },
  ]);

  // The demo (npm run demo) deploys to dev-cloud: it now runs on the guest just provisioned.
  const demo = spawnSync(join(ROOT, "node_modules/.bin/tsx"), ["test/demo/nightly.ts"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 170_000,
  });
  expect(demo.stdout).toContain("Nightly deploy of 1.0.0 to dev-cloud");
  expect(demo.stdout, demo.stderr).toContain("Every step behaved as expected");
  expect(demo.status).toBe(0);
});
