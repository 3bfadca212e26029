// Benchmark: pi-watchtower's update over the fleet lab, six devices against one.
//
// Brings up the fleet lab (test/watchtower/fleet-lab.ts: six lab devices running the Watchtower
// stand-in), sets the devices up, then times the bundled action's update while every device it
// updates has a new image to roll out (backend:app moved between 1.0.0 and 2.0.0). With
// concurrency 4, six devices take two rounds, and the second overlaps the first's tail.
// Figures only; nothing here passes or fails on a timing. The lab is brought down at the end.
//
//   npx tsx bench/fleet.ts [--runs N] [--device-cpu 0.3 | off]
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { runAction } from "../test/deploy/support.js";
import {
  APP_PORT,
  capCpu,
  downFleet,
  type Fleet,
  fleetInputs,
  pushApp,
  upFleet,
} from "../test/watchtower/fleet-lab.js";
import { formatMs, median, table } from "./support.js";

const TOKEN = "bench-token-0123456789abcdef";
const TARGET = 2;

/**
 * CPU time the whole machine has spent busy, in ms (/proc/stat, USER_HZ 100). The lab's
 * devices are namespaces of this machine: their engines, sshd and Watchtower share its cores,
 * which real devices do not.
 */
function busyMs(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1);
  const ticks = fields.map(Number);
  return (ticks.reduce((a, b) => a + b, 0) - ticks[3]! - ticks[4]!) * 10;
}

/** The busy share of every core during the 6-device runs. */
const busyShares: number[] = [];

async function update(fleet: Fleet, count: number, mode = "update"): Promise<number> {
  const busyBefore = busyMs();
  const started = performance.now();
  const result = await runAction("pi-watchtower", {
    ...fleetInputs(fleet.lab),
    mode,
    devices: fleet.hosts
      .slice(0, count)
      .map((h) => h.ip)
      .join("\n"),
    "watchtower-token": TOKEN,
    "watchtower-image": fleet.watchtowerImage,
    "health-url": `http://{address}:${APP_PORT}/health`,
    concurrency: "4",
  });
  const ms = performance.now() - started;
  if (count === 6 && mode === "update") {
    busyShares.push((busyMs() - busyBefore) / (ms * availableParallelism()));
  }
  if (result.failed) throw new Error(`the ${mode} failed:\n${result.log}`);
  if (mode === "update" && result.log.includes("already current")) {
    throw new Error(`a device had nothing to update, so the figure would flatter:\n${result.log}`);
  }
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "3" },
      // Six devices at 0.3 CPU each fit in two cores: no device waits for another's CPU.
      "device-cpu": { type: "string", default: "0.3" },
    },
  });
  const runs = Math.min(20, Math.max(1, Number(values.runs)));
  const deviceCpu = values["device-cpu"]!;
  const fleet = await upFleet();
  try {
    for (const h of fleet.hosts) capCpu(h.name, deviceCpu);
    await update(fleet, 6, "setup");
    const one: number[] = [];
    const six: number[] = [];
    // Every timed run must have a new image for each device it updates (a device already on
    // the tag's image only answers "already current"). All six run `current` before each round.
    const other = (tag: string) => (tag === "1.0.0" ? "2.0.0" : "1.0.0");
    let current = "1.0.0";
    for (let k = 0; k < runs; k++) {
      current = other(current);
      pushApp(fleet, current);
      six.push(await update(fleet, 6));
      pushApp(fleet, other(current));
      one.push(await update(fleet, 1));
      // The first device back in line with the others, untimed.
      pushApp(fleet, current);
      await update(fleet, 1);
    }
    const ratio = median(six) / median(one);
    const summary = `pi-watchtower update: 6 devices ${formatMs(median(six))} vs 1 device ${formatMs(median(one))} = ${ratio.toFixed(2)}x (target < ${TARGET}x with concurrency 4)`;
    console.log(
      table({
        title: "pi-watchtower fleet update",
        rows: [
          { label: "update, 1 device", samples: one },
          { label: "update, 6 devices", samples: six },
          { label: "6 devices / 1 device", samples: [ratio], unit: "x", target: `< ${TARGET}x` },
        ],
        summary,
      }),
    );
    console.log(summary);
    console.log(
      `${deviceCpu === "off" ? `Devices not capped: they share this machine's ${availableParallelism()} cores` : `Each device capped at ${deviceCpu} CPU (--device-cpu)`}. During the 6-device runs the cores were ${Math.round(median(busyShares) * 100)}% busy (median): near 100% means the lab's CPU, not the action, bounds the figure.`,
    );
  } finally {
    downFleet();
  }
}

await main();
