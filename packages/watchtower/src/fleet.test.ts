import { describe, expect, it } from "vitest";
import type { Device } from "./devices.js";
import { runFleet, startLimited } from "./fleet.js";

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

describe("startLimited", () => {
  it("runs at most `limit` at once, starts them in list order, and gives each its own result", async () => {
    let now = 0;
    let most = 0;
    const order: number[] = [];
    const results = startLimited([1, 2, 3, 4, 5], 2, async (n) => {
      order.push(n);
      now += 1;
      most = Math.max(most, now);
      await tick();
      now -= 1;
      if (n === 3) throw new Error("three");
      return n * 10;
    });
    expect(results).toHaveLength(5);
    const settled = await Promise.allSettled(results);
    expect(most).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(settled.map((r) => (r.status === "fulfilled" ? r.value : "failed"))).toEqual([
      10,
      20,
      "failed",
      40,
      50,
    ]);
  });
});
