import { ActionError } from "@smoker/action-kit";
import type { Reporter } from "@smoker/deploy";
import { checksFromUrls, waitUntilHealthy } from "@smoker/health";
import { ConnectError, ConnectionLostError, connect, type Remote } from "@smoker/remote";
import type { Device } from "./devices.js";
import { type DeviceOutcome, runFleet, startLimited } from "./fleet.js";
import { resolveDevices, type WatchtowerInputs } from "./inputs.js";
import { setupDevice } from "./setup.js";
import { deviceStatus } from "./status.js";
import { type DeviceRecord, DeviceUpdateError, recordDevice, updateDevice } from "./update.js";

/** How many devices an update connects to and records at once, ahead of their turn. */
const AHEAD = 16;

/** A fleet run's outcomes, and the device lists the action outputs (in device order). */
export interface FleetRun {
  mode: WatchtowerInputs["mode"];
  outcomes: DeviceOutcome<unknown>[];
  /** Updated (mode update) or set up (mode setup); always empty with mode status. */
  updated: string[];
  /** Devices that answered, with mode status; always empty otherwise. */
  online: string[];
  pending: string[];
  failed: string[];
  skipped: string[];
}

/** Unreachable within connect-timeout (or refused): Watchtower will update it when it is back. */
function isOffline(error: unknown): boolean {
  if (error instanceof ConnectionLostError) return true;
  return error instanceof ConnectError && error.reason === "unreachable";
}

/**
 * Resolves the devices and runs the mode on each, `concurrency` at a time. Never throws for a
 * device: each one's failure is in its outcome (see `fleetFailure` for the run's verdict).
 */
export async function runWatchtower(inputs: WatchtowerInputs, log: Reporter): Promise<FleetRun> {
  const devices = await log.phase("Resolve the devices", async () => {
    const found = await resolveDevices(inputs.devices);
    log.info(
      `${found.length} device(s): ${found.map((d) => (d.online ? d.name : `${d.name} (offline)`)).join(", ")}`,
    );
    return found;
  });
  const outcomes = await log.phase(
    `${inputs.mode} on ${devices.length} device(s), ${inputs.concurrency} at a time`,
    async () => {
      // An update connects to and records every device ahead of its turn (reads only, up to
      // AHEAD at once): a device is ready when an update slot frees, and offline ones are found
      // at once. What changes a device (trigger, check, rollback) runs `concurrency` at a time.
      const ahead =
        inputs.mode === "update"
          ? startLimited(devices, Math.max(AHEAD, inputs.concurrency), (device) =>
              openDevice(device, inputs, log),
            )
          : undefined;
      const outcomes = await runFleet(
        devices,
        { concurrency: inputs.concurrency, maxFailures: inputs.maxFailures },
        async (device, k) => {
          const opened = await (ahead?.[k] ?? openDevice(device, inputs, log));
          if ("outcome" in opened) return opened.outcome;
          return workOn(device, opened.remote, opened.record, inputs, log);
        },
      );
      // Devices never started (max-failures) were connected ahead: close them.
      await Promise.all(
        outcomes.map(async (outcome, k) => {
          if (outcome.state !== "skipped" || ahead === undefined) return;
          const opened = await ahead[k]!;
          if ("remote" in opened) opened.remote.close();
        }),
      );
      return outcomes;
    },
  );
  const names = (state: string) =>
    outcomes.filter((o) => o.state === state).map((o) => o.device.name);
  const run: FleetRun = {
    mode: inputs.mode,
    outcomes,
    updated: names("updated"),
    online: names("online"),
    pending: names("pending"),
    failed: names("failed"),
    skipped: names("skipped"),
  };
  log.info(
    `${inputs.mode === "status" ? `online ${run.online.length}` : `updated ${run.updated.length}`}, pending ${run.pending.length}, failed ${run.failed.length}, skipped ${run.skipped.length}`,
  );
  return run;
}

/** The action's outputs: JSON lists (and with mode status, each device's status). */
export function fleetOutputs(run: FleetRun): Record<string, string> {
  const outputs: Record<string, string> = {
    updated: JSON.stringify(run.updated),
    online: JSON.stringify(run.online),
    pending: JSON.stringify(run.pending),
    failed: JSON.stringify(run.failed),
    skipped: JSON.stringify(run.skipped),
  };
  if (run.mode === "status") {
    outputs.status = JSON.stringify(
      Object.fromEntries(run.outcomes.map((o) => [o.device.name, o.result ?? { online: false }])),
    );
  }
  return outputs;
}

/** Why the run fails (a device failed or was skipped; offline ones with offline-policy: fail). */
export function fleetFailure(
  run: FleetRun,
  offlinePolicy: WatchtowerInputs["offlinePolicy"],
): ActionError | undefined {
  const { failed, skipped, pending } = run;
  if (failed.length > 0 || skipped.length > 0) {
    return new ActionError(
      `${failed.length} device(s) failed: ${failed.join(", ")}${skipped.length ? `; ${skipped.length} not started (max-failures)` : ""}`,
      {
        hint:
          run.mode === "update"
            ? "Each failed device runs its previous digests again (see each device's detail). Fix the release and run the update again."
            : "See each failed device's detail, fix it and run again.",
      },
    );
  }
  if (pending.length > 0 && offlinePolicy === "fail") {
    return new ActionError(`${pending.length} device(s) were offline: ${pending.join(", ")}`, {
      hint: "offline-policy is fail. With offline-policy: pending, Watchtower updates them when they are back.",
    });
  }
  return undefined;
}

/** A device connected (and, for an update, recorded), or its outcome when that failed. */
type Opened =
  | { remote: Remote; record?: DeviceRecord | undefined }
  | { outcome: DeviceOutcome<unknown> };

const sayFor = (log: Reporter, device: Device) => (message: string) =>
  log.info(`[${device.name}] ${message}`);

/** Connects to the device and, for an update, records what it runs. Changes nothing. */
async function openDevice(
  device: Device,
  inputs: WatchtowerInputs,
  log: Reporter,
): Promise<Opened> {
  const say = sayFor(log, device);
  if (!device.online) {
    say("offline according to Tailscale: pending");
    return { outcome: { device, state: "pending", detail: "offline (tailscale)" } };
  }
  const started = Date.now();
  say("connecting");
  let remote: Remote;
  try {
    remote = await connect(inputs.connect(device.address));
  } catch (error) {
    if (isOffline(error)) {
      say(`unreachable after ${Date.now() - started} ms: pending (${(error as Error).message})`);
      return { outcome: { device, state: "pending", detail: (error as Error).message } };
    }
    say(`cannot connect: ${(error as Error).message}`);
    return { outcome: { device, state: "failed", detail: (error as Error).message } };
  }
  if (inputs.mode !== "update") return { remote };
  try {
    return { remote, record: await recordDevice(remote, inputs.project, say) };
  } catch (error) {
    remote.close();
    if (error instanceof ConnectionLostError) {
      say("lost while recording: pending");
      return { outcome: { device, state: "pending", detail: error.message } };
    }
    say(`failed: ${(error as Error).message}`);
    return { outcome: { device, state: "failed", detail: (error as Error).message } };
  }
}

/** The mode's work on an opened device; closes its connection. */
async function workOn(
  device: Device,
  remote: Remote,
  record: DeviceRecord | undefined,
  inputs: WatchtowerInputs,
  log: Reporter,
): Promise<DeviceOutcome<unknown>> {
  const say = sayFor(log, device);
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
        const result = await updateDevice(
          remote,
          inputs.project,
          {
            trigger: inputs.trigger,
            token: inputs.token,
            apiPort: inputs.apiPort,
            waitTimeoutMs: inputs.waitTimeoutMs,
            triggerTimeoutMs: inputs.waitTimeoutMs,
            verify:
              inputs.healthUrl === undefined ? undefined : (d) => checkHealth(inputs, d.address),
            log: say,
          },
          record,
        );
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
        const detail = `watchtower ${result.watchtowerRunning ? "running" : "NOT running"}${result.pinned ? ", pinned" : ""}; ${result.services.map((s) => `${s.service} ${s.current === undefined ? "?" : s.current ? "current" : "behind"}`).join(", ")}`;
        say(detail);
        return { device, state: "online", detail, result: { online: true, ...result } };
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

async function checkHealth(inputs: WatchtowerInputs, address: string): Promise<void> {
  const host = address.includes(":") ? `[${address}]` : address;
  const url = inputs.healthUrl!.replaceAll("{address}", host);
  const report = await waitUntilHealthy(checksFromUrls([url]), { timeoutMs: inputs.waitTimeoutMs });
  if (!report.healthy) {
    const c = report.checks[0];
    throw new Error(`${url} is not healthy: ${c?.lastError ?? `HTTP ${c?.lastStatus}`}`);
  }
}
