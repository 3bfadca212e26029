import * as core from "@actions/core";

/** One finished phase, for summaries and timelines. Times are epoch milliseconds. */
export interface PhaseTiming {
  name: string;
  startMs: number;
  endMs: number;
  durationMs: number;
  ok: boolean;
  /** 0 for a top-level phase, 1 for a phase run inside another, and so on. */
  depth: number;
}

interface OpenPhase {
  name: string;
  startMs: number;
  depth: number;
  end?: { endMs: number; ok: boolean };
}

// Entries in start order; a phase is added when it starts and completed when it ends.
let phases: OpenPhase[] = [];
let depth = 0;
// The innermost phase each failure escaped from, so run() can say where it failed.
const failedIn = new WeakMap<object, string>();

function nowMs(): number {
  return Math.round(performance.timeOrigin + performance.now());
}

/** "123 ms", "4.2 s", "2m 05s": short enough for a one-line result. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${minutes}m ${String(seconds).padStart(2, "0")}s`;
}

/**
 * Runs `fn` as a named phase: a foldable log group, then one result line after the group so
 * the folded log still reads as a list of outcomes (`✓ Pull images (812 ms)` or
 * `✗ Pull images failed after 4.2 s`). Returns fn's result and rethrows its error unchanged.
 *
 * The runner cannot nest groups, so a phase started inside another runs inline in the outer
 * group (its result line still printed, its timing still recorded with a greater depth).
 */
export async function phase<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  const entry: OpenPhase = { name, startMs: nowMs(), depth };
  phases.push(entry);
  const finish = (ok: boolean) => {
    const endMs = nowMs();
    entry.end = { endMs, ok };
    const took = formatDuration(endMs - entry.startMs);
    core.info(ok ? `✓ ${name} (${took})` : `✗ ${name} failed after ${took}`);
  };

  depth += 1;
  let result: T;
  try {
    result = entry.depth === 0 ? await core.group(name, async () => fn()) : await fn();
  } catch (error) {
    depth -= 1;
    if (typeof error === "object" && error !== null && !failedIn.has(error)) {
      failedIn.set(error, name);
    }
    finish(false);
    throw error;
  }
  depth -= 1;
  finish(true);
  return result;
}

/** The finished phases so far, in start order. */
export function timings(): PhaseTiming[] {
  return phases.flatMap((entry) =>
    entry.end === undefined
      ? []
      : [
          {
            name: entry.name,
            startMs: entry.startMs,
            endMs: entry.end.endMs,
            durationMs: entry.end.endMs - entry.startMs,
            ok: entry.end.ok,
            depth: entry.depth,
          },
        ],
  );
}

/** Forgets recorded phases; run() calls it so each step's timeline starts empty. */
export function resetTimings(): void {
  phases = [];
  depth = 0;
}

/** The name of the innermost phase `error` was thrown out of, if any. */
export function phaseOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? failedIn.get(error) : undefined;
}

export function info(message: string): void {
  core.info(message);
}

/** A warning annotation: shown on the run's summary page, does not fail the step. */
export function warn(message: string): void {
  core.warning(message);
}

/** Shown only when the run has step debug logging enabled. */
export function debug(message: string): void {
  core.debug(message);
}
