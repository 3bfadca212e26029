import * as core from "@actions/core";
import { ActionError, debug, info, phase, warn } from "@smoker/action-kit";
import { checksFromUrls, waitUntilHealthy } from "@smoker/health";
import { ConnectError, ConnectionLostError, connect, type Remote } from "@smoker/remote";
import {
  type Device,
  type DeviceOutcome,
  DeviceUpdateError,
  deviceStatus,
  runFleet,
  setupDevice,
  updateDevice,
} from "@smoker/watchtower";
import { type ActionInputs, readInputs, resolveDevices } from "./inputs.js";
import { writeSummary } from "./summary.js";

const log = { info, warn, debug };

/** Unreachable within connect-timeout (or refused): Watchtower will update it when it is back. */
function isOffline(error: unknown): boolean {
  if (error instanceof ConnectionLostError) return true;
  return (
    error instanceof ConnectError &&
    /did not answer within|was refused|ECONNRESET|EHOSTUNREACH|ENETUNREACH/.test(error.message)
  );
}

export async function main(): Promise<void> {
  const inputs = readInputs(undefined, log);
  const devices = await phase("Resolve the devices", async () => {
    const found = await resolveDevices(inputs.devices);
    info(
      `${found.length} device(s): ${found.map((d) => (d.online ? d.name : `${d.name} (offline)`)).join(", ")}`,
    );
    return found;
  });
  const outcomes = await phase(
    `${inputs.mode} on ${devices.length} device(s), ${inputs.concurrency} at a time`,
    () =>
      runFleet(
        devices,
        { concurrency: inputs.concurrency, maxFailures: inputs.maxFailures },
        (device) => onDevice(device, inputs),
      ),
  );
  const names = (state: string) =>
    outcomes.filter((o) => o.state === state).map((o) => o.device.name);
  const updated = names("updated");
  const pending = names("pending");
  const failed = names("failed");
  const skipped = names("skipped");
  core.setOutput("updated", JSON.stringify(updated));
  core.setOutput("pending", JSON.stringify(pending));
  core.setOutput("failed", JSON.stringify(failed));
  core.setOutput("skipped", JSON.stringify(skipped));
  if (inputs.mode === "status") {
    core.setOutput(
      "status",
      JSON.stringify(
        Object.fromEntries(outcomes.map((o) => [o.device.name, o.result ?? { online: false }])),
      ),
    );
  }
  await writeSummary(inputs.mode, outcomes);
  info(
    `updated ${updated.length}, pending ${pending.length}, failed ${failed.length}, skipped ${skipped.length}`,
  );
  if (failed.length > 0 || skipped.length > 0) {
    throw new ActionError(
      `${failed.length} device(s) failed: ${failed.join(", ")}${skipped.length ? `; ${skipped.length} not started (max-failures)` : ""}`,
      {
        hint: "Each failed device runs its previous digests again (see the summary). Fix the release and run the update again.",
      },
    );
  }
  if (pending.length > 0 && inputs.offlinePolicy === "fail") {
    throw new ActionError(`${pending.length} device(s) were offline: ${pending.join(", ")}`, {
      hint: "offline-policy is fail. With offline-policy: pending, Watchtower updates them when they are back.",
    });
  }
}

async function onDevice(device: Device, inputs: ActionInputs): Promise<DeviceOutcome<unknown>> {
  const say = (message: string) => info(`[${device.name}] ${message}`);
  if (!device.online) {
    say("offline according to Tailscale: pending");
    return { device, state: "pending", detail: "offline (tailscale)" };
  }
  const started = Date.now();
  say("connecting");
  let remote: Remote;
  try {
    remote = await connect(inputs.connect(device.address));
  } catch (error) {
    if (isOffline(error)) {
      say(`unreachable after ${Date.now() - started} ms: pending (${(error as Error).message})`);
      return { device, state: "pending", detail: (error as Error).message };
    }
    say(`cannot connect: ${(error as Error).message}`);
    return { device, state: "failed", detail: (error as Error).message };
  }
  try {
    switch (inputs.mode) {
      case "setup": {
        const result = await setupDevice(remote, inputs.project, {
          image: inputs.image,
          token: inputs.token ?? "",
          scope: inputs.scope,
          ...(inputs.schedule !== undefined
            ? { schedule: inputs.schedule }
            : { pollSeconds: inputs.pollSeconds ?? 3600 }),
          apiPort: inputs.apiPort,
        });
        say(
          `${result.changed.length ? `wrote ${result.changed.join(", ")}` : "already set up, nothing changed"}; Watchtower API on ${result.apiAddress}:${inputs.apiPort}; labelled: ${result.services.join(", ")}`,
        );
        return {
          device,
          state: "updated",
          detail: result.changed.length ? `wrote ${result.changed.join(", ")}` : "unchanged",
          result,
        };
      }
      case "update": {
        const result = await updateDevice(remote, inputs.project, {
          trigger: inputs.trigger,
          token: inputs.token,
          apiPort: inputs.apiPort,
          waitTimeoutMs: inputs.waitTimeoutMs,
          triggerTimeoutMs: inputs.waitTimeoutMs,
          verify:
            inputs.healthUrl === undefined ? undefined : (d) => checkHealth(inputs, d.address),
          log: say,
        });
        const changed = result.services.filter((s) => s.from !== s.to);
        say(
          changed.length
            ? `updated ${changed.map((s) => s.service).join(", ")}`
            : "already current",
        );
        return {
          device,
          state: "updated",
          detail: changed.length ? `${changed.length} service(s) updated` : "current",
          result,
        };
      }
      case "status": {
        const result = await deviceStatus(remote, inputs.project);
        say(
          `watchtower ${result.watchtowerRunning ? "running" : "NOT running"}; ${result.services.map((s) => `${s.service} ${s.current === undefined ? "?" : s.current ? "current" : "behind"}`).join(", ")}`,
        );
        return { device, state: "updated", detail: "online", result: { online: true, ...result } };
      }
    }
  } catch (error) {
    if (error instanceof ConnectionLostError) {
      say(`lost during the ${inputs.mode}: pending`);
      return { device, state: "pending", detail: error.message };
    }
    say(`failed: ${(error as Error).message}`);
    const rolledBack = error instanceof DeviceUpdateError ? error.rolledBack : false;
    return {
      device,
      state: "failed",
      detail: (error as Error).message,
      result:
        error instanceof DeviceUpdateError ? { rolledBack, services: error.services } : undefined,
    };
  } finally {
    remote.close();
  }
}

async function checkHealth(inputs: ActionInputs, address: string): Promise<void> {
  const host = address.includes(":") ? `[${address}]` : address;
  const url = inputs.healthUrl!.replaceAll("{address}", host);
  const report = await waitUntilHealthy(checksFromUrls([url]), { timeoutMs: inputs.waitTimeoutMs });
  if (!report.healthy) {
    const c = report.checks[0];
    throw new Error(`${url} is not healthy: ${c?.lastError ?? `HTTP ${c?.lastStatus}`}`);
  }
}
