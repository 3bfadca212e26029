import { describe, expect, it } from "vitest";
import type { Device } from "./devices.js";
import { runFleet } from "./fleet.js";

const devices: Device[] = ["a", "b", "c", "d", "e", "f"].map((n) => ({
  name: n,
  address: n,
  online: true,
}));
const tick = () => new Promise((r) => setTimeout(r, 5));

describe("runFleet", () => {
  it("never works on more than `concurrency` devices at once", async () => {
    let now = 0;
    let most = 0;
    const outcomes = await runFleet(devices, { concurrency: 4, maxFailures: 0 }, async (device) => {
      now += 1;
      most = Math.max(most, now);
      await tick();
      now -= 1;
      return { device, state: "updated" };
    });
    expect(most).toBe(4);
    expect(outcomes.map((o) => o.state)).toEqual(Array(6).fill("updated"));
  });

  it("starts no device once max-failures is reached; the rest are skipped", async () => {
    const started: string[] = [];
    const outcomes = await runFleet(devices, { concurrency: 1, maxFailures: 1 }, async (device) => {
      started.push(device.name);
      return { device, state: device.name === "b" ? "failed" : "updated" };
    });
    expect(started).toEqual(["a", "b"]);
    expect(outcomes.map((o) => o.state)).toEqual([
      "updated",
      "failed",
      "skipped",
      "skipped",
      "skipped",
      "skipped",
    ]);
  });

  it("counts a thrown error as a failed device", async () => {
    const [first] = await runFleet(devices.slice(0, 1), { concurrency: 2, maxFailures: 0 }, () =>
      Promise.reject(new Error("boom")),
    );
    expect(first).toMatchObject({ state: "failed", detail: "boom" });
  });
});
