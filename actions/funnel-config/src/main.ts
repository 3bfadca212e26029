import * as core from "@actions/core";
import { debug, info, phase, warn } from "@smoker/action-kit";
import { applyFunnelConfig, readFunnelInputs, verifyPublicUrls } from "@smoker/tailscale";

const log = { info, warn, debug };

export async function main(): Promise<void> {
  const settings = readFunnelInputs(undefined, log);
  const result = await applyFunnelConfig(settings, { phase, info, warn });
  // Set before the probes, so a failed verify still reports what was applied.
  core.setOutput("changed", String(result.changed));
  core.setOutput("urls", JSON.stringify(result.urls));
  core.setOutput("serve-config", JSON.stringify(result.serveConfig));
  if (settings.verify !== undefined) {
    await verifyPublicUrls(result, settings.verify, { phase, info, warn });
  }
}
