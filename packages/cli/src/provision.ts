import type { InputSource } from "@smoker/action-kit";
import { provision, readProvisionInputs } from "@smoker/proxmox";
import type { CliIo } from "./cli.js";
import type { TerminalReporter } from "./reporter.js";

export const provisionUsage = `  provision  provision-proxmox: --mode plan (GETs only) | apply | snapshot | rollback-snapshot
             | backup of --spec's guests (--api-url --token-id --token-secret-file --node ...)`;

/**
 * `smoker provision`: the provision-proxmox action from a terminal. Same inputs (the token
 * secret from --token-secret-file only), same steps; the changes and guests as tables.
 */
export async function provisionCommand(
  source: InputSource,
  io: CliIo,
  report: TerminalReporter,
): Promise<number> {
  // A relative --spec is relative to where smoker runs, as every other file flag.
  const settings = readProvisionInputs(source, { mask: false, workspace: io.cwd });
  const result = await provision(settings, report);
  switch (result.mode) {
    case "plan":
    case "apply": {
      report.table([
        ["guest", "vmid", "type", "status", "ip"],
        ...result.guests.map((g) => [g.name, String(g.vmid), g.type, g.status, g.ip ?? ""]),
      ]);
      const n = result.changes.length;
      io.out(
        n === 0
          ? "no change: the node matches the spec\n"
          : result.mode === "plan"
            ? `${n} change(s) would be made; nothing was changed (run with --mode apply)\n`
            : `${n} change(s) made\n`,
      );
      return 0;
    }
    case "snapshot":
      io.out(`snapshot ${result.snapshots.join(", ")} of ${settings.guests.length} guest(s)\n`);
      return 0;
    case "rollback-snapshot":
      io.out(`rolled ${settings.guests.length} guest(s) back to ${result.snapshots.join(", ")}\n`);
      return 0;
    case "backup":
      report.table([
        ["guest", "vmid", "backup"],
        ...result.backups.map((b) => [b.name, String(b.vmid), b.volid]),
      ]);
      return 0;
  }
}
