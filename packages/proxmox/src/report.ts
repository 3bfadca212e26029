import type { Change, NodeGuest, NodePlan } from "./guests.js";

/** One row per change: guest, vmid, action, what, from, to. */
export function changeRows(changes: readonly Change[]): string[][] {
  return changes.map((c) => [
    c.guest,
    String(c.vmid),
    c.action,
    c.key ?? "",
    c.from ?? "",
    c.to ?? "",
  ]);
}

export const CHANGE_HEADER = ["guest", "vmid", "change", "what", "from", "to"];

/** A plain-text table for the log (long cells cut, so one odd value cannot wreck it). */
export function textTable(header: readonly string[], rows: readonly string[][]): string {
  const cut = (s: string) => (s.length > 60 ? `${s.slice(0, 59)}…` : s);
  const all = [header, ...rows].map((r) => r.map(cut));
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  const line = (r: readonly string[]) =>
    r
      .map((v, c) => v.padEnd(widths[c] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(all[0]!), line(widths.map((w) => "-".repeat(w))), ...all.slice(1).map(line)].join(
    "\n",
  );
}

export function unmanagedLine(guests: readonly NodeGuest[], node: string): string | undefined {
  if (guests.length === 0) return undefined;
  const list = guests
    .map((g) => `${g.name || "(no name)"} (${g.type} ${g.vmid}, ${g.status})`)
    .join(", ");
  return `Not in the spec, left alone: ${list} on ${node}`;
}

export function planSummary(plan: NodePlan): string {
  const count = plan.guests.reduce((n, g) => n + g.changes.length, 0);
  const touched = plan.guests.filter((g) => g.changes.length > 0).length;
  return count === 0
    ? `${plan.guests.length} guest(s) match the spec: no change`
    : `${count} change(s) to ${touched} of ${plan.guests.length} guest(s)`;
}
