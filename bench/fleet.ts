// Benchmark: pi-watchtower's update over the fleet lab, six devices against one.
//
// Brings up the fleet lab (test/watchtower/fleet-lab.ts: six lab devices running the Watchtower
// stand-in), sets the devices up, then times the bundled action's update while each run has a
// new image to roll out (backend:app moved between 1.0.0 and 2.0.0 before each run). With
// concurrency 4, six devices take two rounds, and the second overlaps the first's tail.
// Figures only; nothing here passes or fails on a timing. The lab is brought down at the end.
//
//   npx tsx bench/fleet.ts [--runs N]
import { parseArgs } from "node:util";
import { runAction } from "../test/deploy/support.js";
import {
  APP_PORT,
  downFleet,
  type Fleet,
  fleetInputs,
  pushApp,
  upFleet,
} from "../test/watchtower/fleet-lab.js";
import { formatMs, median, table } from "./support.js";

const TOKEN = "bench-token-0123456789abcdef";
const TARGET = 2;

async function update(fleet: Fleet, count: number, mode = "update"): Promise<number> {
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
  if (result.failed) throw new Error(`the ${mode} failed:\n${result.log}`);
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "3" } } });
  const runs = Math.min(20, Math.max(1, Number(values.runs)));
  const fleet = await upFleet();
  try {
    await update(fleet, 6, "setup");
    const one: number[] = [];
    const six: number[] = [];
    let tag = "2.0.0";
    for (let k = 0; k < runs; k++) {
      for (const [count, samples] of [
        [1, one],
        [6, six],
      ] as const) {
        pushApp(fleet, tag);
        tag = tag === "2.0.0" ? "1.0.0" : "2.0.0";
        samples.push(await update(fleet, count));
      }
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
  } finally {
    downFleet();
  }
}

await main();
