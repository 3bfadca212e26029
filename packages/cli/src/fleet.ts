import type { InputSource } from "@smoker/action-kit";
import { fleetFailure, readWatchtowerInputs, runWatchtower } from "@smoker/watchtower";
import type { CliIo } from "./cli.js";
import type { TerminalReporter } from "./reporter.js";

export const fleetUsage = `  fleet      pi-watchtower: --mode setup|update|status on --devices (or --devices-tag),
             --watchtower-token-file; offline devices are pending`;

/** `smoker fleet`: pi-watchtower's setup, update or status, device by device. */
export async function fleetCommand(
  source: InputSource,
  io: CliIo,
  report: TerminalReporter,
): Promise<number> {
  const inputs = readWatchtowerInputs(source, report, { mask: false });
  const run = await runWatchtower(inputs, report);
  report.table([
    ["device", "state", "details"],
    ...run.outcomes.map((o) => [o.device.name, o.state, oneLine(o.detail ?? "")]),
  ]);
  const lists: [string, string[]][] = [
    [
      run.mode === "status" ? "online" : "updated",
      run.mode === "status" ? run.online : run.updated,
    ],
    ["pending", run.pending],
    ["failed", run.failed],
  ];
  if (run.skipped.length > 0) lists.push(["skipped", run.skipped]);
  for (const [name, devices] of lists) {
    io.out(`${`${name}:`.padEnd(9)}${devices.length ? devices.join(", ") : "-"}\n`);
  }
  const failure = fleetFailure(run, inputs.offlinePolicy);
  if (failure) {
    io.err(`\n✗ ${failure.message}\n${failure.hint ? `  ${failure.hint}\n` : ""}`);
    return 1;
  }
  return 0;
}

/** A device's detail in one table cell: its first line, shortened. */
function oneLine(text: string): string {
  const line = text.split("\n")[0]!.trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}
