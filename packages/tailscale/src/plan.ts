import { cmd, type Script } from "@smoker/remote";
import type { DesiredEntry } from "./desired.js";
import type { CurrentEntry } from "./serve-config.js";

/** One change to make on the node, each one CLI call. */
export type Step =
  | {
      action: "set";
      entry: DesiredEntry;
      /** missing: not served yet; target: serves something else; funnel: on/off differs. */
      reason: "missing" | "target" | "funnel";
    }
  | {
      action: "off";
      entry: CurrentEntry;
      /** conflict: another kind holds a port the config wants; extra: reset-others. */
      reason: "conflict" | "extra";
    };

export interface Plan {
  /** In order: conflicting ports freed, then desired entries set, then extras turned off. */
  steps: Step[];
  /** Desired entries the node already serves exactly. */
  unchanged: DesiredEntry[];
  /** Served but not in the config, and left alone (reset-others is false). */
  extras: CurrentEntry[];
}

const key = (port: number, path: string) => `${port} ${path}`;

/**
 * The difference between what the config asks for and what the node serves, as the fewest CLI
 * calls: nothing the config does not name is turned off unless `resetOthers`, except a
 * non-HTTPS handler (HTTP, TCP) on a port the config wants, which the CLI would otherwise refuse.
 */
export function planChanges(
  desired: readonly DesiredEntry[],
  current: readonly CurrentEntry[],
  options: { resetOthers: boolean },
): Plan {
  const desiredPorts = new Set(desired.map((d) => d.port));
  const conflicts = current.filter((c) => desiredPorts.has(c.port) && c.kind !== "https");
  const https = new Map(
    current.filter((c) => c.kind === "https").map((c) => [key(c.port, c.path), c]),
  );
  const sets: Step[] = [];
  const unchanged: DesiredEntry[] = [];
  const portsSet = new Set<number>();
  for (const d of desired) {
    const c = https.get(key(d.port, d.path));
    if (c === undefined) sets.push({ action: "set", entry: d, reason: "missing" });
    else if (!c.proxy || c.target !== d.proxy)
      sets.push({ action: "set", entry: d, reason: "target" });
    else continue;
    portsSet.add(d.port);
  }
  // Funnel is per port: any set on the port leaves it right; otherwise set one entry again.
  for (const d of desired) {
    const c = https.get(key(d.port, d.path));
    if (c === undefined || portsSet.has(d.port) || conflicts.some((x) => x.port === d.port)) {
      continue;
    }
    if (c.funnel !== d.funnel) {
      sets.push({ action: "set", entry: d, reason: "funnel" });
      portsSet.add(d.port);
    }
  }
  for (const d of desired) {
    if (!sets.some((s) => s.action === "set" && s.entry === d)) {
      const c = https.get(key(d.port, d.path));
      if (c !== undefined && c.funnel === d.funnel) unchanged.push(d);
      else if (c !== undefined && portsSet.has(d.port)) unchanged.push(d);
    }
  }
  const wanted = new Set(desired.map((d) => key(d.port, d.path)));
  const others = current.filter((c) => c.kind === "https" && !wanted.has(key(c.port, c.path)));
  const offs: Step[] = options.resetOthers
    ? others.map((entry) => ({ action: "off", entry, reason: "extra" }) as const)
    : [];
  return {
    steps: [
      ...conflicts.map((entry) => ({ action: "off", entry, reason: "conflict" }) as const),
      ...sets,
      ...offs,
    ],
    unchanged,
    extras: options.resetOthers
      ? current.filter((c) => c.kind !== "https" && !desiredPorts.has(c.port))
      : [...others, ...current.filter((c) => c.kind !== "https" && !desiredPorts.has(c.port))],
  };
}

/** The CLI call for a step, in the current (1.52+) syntax. */
export function commandFor(step: Step): Script {
  if (step.action === "set") {
    const e = step.entry;
    return cmd(
      "tailscale",
      e.funnel ? "funnel" : "serve",
      "--bg",
      `--https=${e.port}`,
      ...(e.path === "/" ? [] : [`--set-path=${e.path}`]),
      e.target,
    );
  }
  const e = step.entry;
  if (e.kind === "https" || e.kind === "http") {
    return cmd("tailscale", "serve", `--${e.kind}=${e.port}`, `--set-path=${e.path}`, "off");
  }
  return cmd("tailscale", "serve", `--${e.kind}=${e.port}`, "off");
}

/** The URL a desired entry answers on: https://<dns-name>[:port]<path>. */
export function urlOf(dnsName: string, entry: { port: number; path: string }): string {
  return `https://${dnsName}${entry.port === 443 ? "" : `:${entry.port}`}${entry.path}`;
}

/** A step in words, for the log. */
export function describeStep(step: Step, dnsName: string): string {
  if (step.action === "set") {
    const e = step.entry;
    const why = { missing: "new", target: "target changed", funnel: "funnel changed" }[step.reason];
    return `${e.funnel ? "funnel" : "serve"} ${urlOf(dnsName, e)} -> ${e.target} (${why})`;
  }
  const e = step.entry;
  const what = e.path === "" ? `${e.kind}://${dnsName}:${e.port}` : urlOf(dnsName, e);
  const why = step.reason === "conflict" ? "port wanted by the config" : "reset-others";
  return `off ${what} (was ${e.target}; ${why})`;
}

/** A served entry in words, for reporting extras. */
export function describeCurrent(entry: CurrentEntry, dnsName: string): string {
  const where =
    entry.path === "" ? `${entry.kind}://${dnsName}:${entry.port}` : urlOf(dnsName, entry);
  return `${where} -> ${entry.target}${entry.funnel ? " (funnel)" : ""}`;
}
