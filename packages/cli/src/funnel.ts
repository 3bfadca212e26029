import { InputError, type InputSource } from "@smoker/action-kit";
import type { HealthReport } from "@smoker/health";
import {
  applyFunnelConfig,
  describeProbe,
  type FunnelSettings,
  FunnelVerifyError,
  readFunnelInputs,
  verifyPublicUrls,
} from "@smoker/tailscale";
import type { CliIo } from "./cli.js";
import type { TerminalReporter } from "./reporter.js";

export const funnelUsage = `  funnel     funnel-config: make the host's Tailscale serve/funnel match --config-file FILE
             (YAML list; --reset-others, --verify false, --verify-address, --verify-ca-certificate-file)`;

/**
 * `smoker funnel`: funnel-config from a terminal. Prints the plan as it applies it, then one
 * row per configured URL (public or tailnet only, and how its probe went); exit 1 when a
 * public URL does not answer.
 */
export async function funnelCommand(
  source: InputSource,
  io: CliIo,
  report: TerminalReporter,
): Promise<number> {
  let settings: FunnelSettings;
  try {
    settings = readFunnelInputs(source, report, { mask: false });
  } catch (error) {
    // `--config` is the CLI's own targets file, so the serve config comes from a file.
    if (error instanceof InputError && error.input === "config") {
      throw new InputError("config", error.rule, {
        hint: `${error.hint ? `${error.hint}\n  ` : ""}Pass the list with --config-file FILE (a YAML file); --config names smoker's targets file.`,
      });
    }
    throw error;
  }
  const result = await applyFunnelConfig(settings, report);

  let health: HealthReport | undefined;
  let failure: FunnelVerifyError | undefined;
  if (settings.verify !== undefined) {
    try {
      health = await verifyPublicUrls(result, settings.verify, report);
    } catch (error) {
      if (!(error instanceof FunnelVerifyError)) throw error;
      failure = error;
      health = error.health;
    }
  }
  const probes = new Map(health?.checks.map((c) => [c.url, c]));
  report.table([
    ["url", "access", "target", "probe"],
    ...result.urls.map((u, k) => {
      const check = probes.get(u.url);
      const probe = !u.funnel
        ? ""
        : check === undefined
          ? "not probed"
          : check.healthy
            ? `answered ${check.lastStatus ?? ""}`.trimEnd()
            : `NOT ANSWERING (${describeProbe(check.lastStatus, check.lastError)})`;
      return [u.url, u.funnel ? "public" : "tailnet", settings.desired[k]?.target ?? "", probe];
    }),
  ]);
  io.out(
    result.changed
      ? `changed: ${result.commands.length} command(s) run on ${result.node.dnsName}\n`
      : `unchanged: ${result.node.dnsName} already served the config\n`,
  );
  if (failure !== undefined) throw failure;
  return 0;
}
