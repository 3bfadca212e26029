import { describe, expect, it } from "vitest";
import type { Device } from "./devices.js";
import type { DeviceOutcome } from "./fleet.js";
import { type FleetRun, fleetFailure, fleetOutputs } from "./run.js";

const device = (name: string): Device => ({ name, address: name, online: true });
const status = { online: true, watchtowerRunning: true, pinned: false, services: [] };

function run(mode: FleetRun["mode"], outcomes: DeviceOutcome<unknown>[]): FleetRun {
  const names = (state: string) =>
    outcomes.filter((o) => o.state === state).map((o) => o.device.name);
  return {
    mode,
    outcomes,
    updated: names("updated"),
    online: names("online"),
    pending: names("pending"),
    failed: names("failed"),
    skipped: names("skipped"),
  };
}

describe("fleetOutputs", () => {
  it("with mode status lists the devices that answered as online; updated stays empty", () => {
    const outputs = fleetOutputs(
      run("status", [
        { device: device("pi-1"), state: "online", result: status },
        { device: device("pi-2"), state: "pending", detail: "offline (tailscale)" },
      ]),
    );
    expect(outputs.updated).toBe("[]");
    expect(JSON.parse(outputs.online!)).toEqual(["pi-1"]);
    expect(JSON.parse(outputs.pending!)).toEqual(["pi-2"]);
    expect(JSON.parse(outputs.status!)).toEqual({ "pi-1": status, "pi-2": { online: false } });
  });

  it("with mode update lists updated devices, online stays empty and there is no status", () => {
    const outputs = fleetOutputs(
      run("update", [{ device: device("pi-1"), state: "updated", detail: "current" }]),
    );
    expect(JSON.parse(outputs.updated!)).toEqual(["pi-1"]);
    expect(outputs.online).toBe("[]");
    expect(outputs).not.toHaveProperty("status");
  });
});

describe("fleetFailure", () => {
  const pending = run("update", [
    { device: device("pi-1"), state: "updated" },
    { device: device("pi-2"), state: "pending" },
  ]);

  it("passes with offline devices unless offline-policy is fail", () => {
    expect(fleetFailure(pending, "pending")).toBeUndefined();
    expect(fleetFailure(pending, "fail")?.message).toBe("1 device(s) were offline: pi-2");
  });

  it("fails when a device failed or was not started, whatever the policy", () => {
    const failed = run("update", [
      { device: device("pi-1"), state: "failed" },
      { device: device("pi-2"), state: "skipped" },
    ]);
    expect(fleetFailure(failed, "pending")?.message).toBe(
      "1 device(s) failed: pi-1; 1 not started (max-failures)",
    );
    expect(fleetFailure(run("status", [{ device: device("pi-1"), state: "online" }]), "fail")).toBe(
      undefined,
    );
  });
});
