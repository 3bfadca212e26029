import * as core from "@actions/core";
import { debug, info, phase, warn } from "@smoker/action-kit";
import {
  fleetFailure,
  fleetOutputs,
  readWatchtowerInputs,
  runWatchtower,
} from "@smoker/watchtower";
import { writeSummary } from "./summary.js";

const log = { phase, info, warn, debug };

export async function main(): Promise<void> {
  const inputs = readWatchtowerInputs(undefined, log);
  const run = await runWatchtower(inputs, log);
  for (const [name, value] of Object.entries(fleetOutputs(run))) core.setOutput(name, value);
  await writeSummary(run.mode, run.outcomes);
  const failure = fleetFailure(run, inputs.offlinePolicy);
  if (failure) throw failure;
}
