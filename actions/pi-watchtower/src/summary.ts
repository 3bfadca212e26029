import * as core from "@actions/core";
import type { DeviceOutcome } from "@smoker/watchtower";

const ICON = { updated: "✅", online: "🟢", pending: "⏳", failed: "❌", skipped: "⏭️" } as const;

/** Job summary: one row per device. */
export async function writeSummary(
  mode: string,
  outcomes: DeviceOutcome<unknown>[],
): Promise<void> {
  const count = (s: string) => outcomes.filter((o) => o.state === s).length;
  await core.summary
    .addHeading(
      `pi-watchtower ${mode}: ${mode === "status" ? `${count("online")} online` : `${count("updated")} done`}, ${count("pending")} pending, ${count("failed")} failed${count("skipped") ? `, ${count("skipped")} skipped` : ""}`,
      3,
    )
    .addTable([
      [
        { data: "device", header: true },
        { data: "state", header: true },
        { data: "detail", header: true },
      ],
      ...outcomes.map((o) => [
        o.device.name,
        `${ICON[o.state]} ${o.state}`,
        (o.detail ?? "").slice(0, 300),
      ]),
    ])
    .write();
}
