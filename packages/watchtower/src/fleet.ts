import type { Device } from "./devices.js";

/** updated: updated (update) or set up (setup); online: answered (status). */
export type DeviceState = "updated" | "online" | "pending" | "failed" | "skipped";

export interface DeviceOutcome<T> {
  device: Device;
  state: DeviceState;
  detail?: string;
  result?: T;
}

export interface FleetOptions {
  /** Devices worked on at once. */
  concurrency: number;
  /** Stop starting devices once this many failed (0: never stop). */
  maxFailures: number;
}

/**
 * Runs `work` for every device, at most `concurrency` at a time, in list order. Once
 * `maxFailures` devices failed no further device is started; those not started are "skipped".
 * Devices already under way finish. Outcomes come back in list order.
 */
export async function runFleet<T>(
  devices: readonly Device[],
  options: FleetOptions,
  work: (device: Device, index: number) => Promise<DeviceOutcome<T>>,
): Promise<DeviceOutcome<T>[]> {
  const outcomes: (DeviceOutcome<T> | undefined)[] = devices.map(() => undefined);
  let next = 0;
  let failures = 0;
  const stopped = () => options.maxFailures > 0 && failures >= options.maxFailures;
  const worker = async () => {
    while (next < devices.length && !stopped()) {
      const k = next++;
      const device = devices[k]!;
      let outcome: DeviceOutcome<T>;
      try {
        outcome = await work(device, k);
      } catch (error) {
        outcome = { device, state: "failed", detail: (error as Error).message };
      }
      if (outcome.state === "failed") failures += 1;
      outcomes[k] = outcome;
    }
  };
  const width = Math.max(1, Math.min(options.concurrency, devices.length));
  await Promise.all(Array.from({ length: width }, worker));
  return outcomes.map(
    (o, k) =>
      o ?? {
        device: devices[k]!,
        state: "skipped",
        detail: `not started: max-failures (${options.maxFailures}) reached`,
      },
  );
}

/**
 * Starts `fn` for every item, at most `limit` at a time, in list order, and returns each
 * item's promise at once (the caller awaits them in whatever order it needs).
 */
export function startLimited<I, T>(
  items: readonly I[],
  limit: number,
  fn: (item: I) => Promise<T>,
): Promise<T>[] {
  let running = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    running -= 1;
    queue.shift()?.();
  };
  return items.map(async (item) => {
    if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    running += 1;
    try {
      return await fn(item);
    } finally {
      release();
    }
  });
}
