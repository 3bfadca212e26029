import * as core from "@actions/core";
import type { PhaseTiming } from "@smoker/action-kit";
import type { DeployResult } from "@smoker/deploy";

/** Job summary: what runs now, per service, and a timeline of the phases. */
export async function writeSummary(
  result: DeployResult,
  project: string,
  version: string,
  phases: PhaseTiming[],
): Promise<void> {
  const heading = result.rolledBack
    ? `❌ ${project} ${version} failed; rolled back to ${result.previousDeploymentId}`
    : `✅ ${project} ${version} deployed (${result.deploymentId})`;
  const rows = result.services.map((s) => [
    s.service,
    s.image,
    s.digest ? `\`${s.digest.split("@")[1]?.slice(0, 19) ?? s.digest}\`` : "(local image)",
    s.state,
    s.msToHealthy === undefined ? "" : `${(s.msToHealthy / 1000).toFixed(1)} s`,
  ]);
  await core.summary
    .addHeading(heading, 3)
    .addTable([
      [
        { data: "service", header: true },
        { data: "image", header: true },
        { data: "digest", header: true },
        { data: "state", header: true },
        { data: "healthy after", header: true },
      ],
      ...rows,
    ])
    .addRaw(`\n\n${timeline(phases)}\n`)
    .addRaw(
      `\nCompose ${result.compose.kind} ${result.compose.version}, ${(result.durationMs / 1000).toFixed(1)} s in all.\n`,
    )
    .write();
}

/** A mermaid gantt chart of the phases (top-level only). */
export function timeline(phases: PhaseTiming[]): string {
  const top = phases.filter((p) => p.depth === 0);
  if (top.length === 0) return "";
  const t0 = top[0]!.startMs;
  const lines = top.map((p, k) => {
    const name = p.name.replaceAll(":", " ").replaceAll("#", "");
    const status = p.ok ? "" : "crit, ";
    return `    ${name} :${status}p${k}, ${p.startMs - t0}, ${Math.max(1, p.endMs - p.startMs)}ms`;
  });
  return [
    "```mermaid",
    "gantt",
    "    dateFormat x",
    "    axisFormat %S.%L s",
    ...lines,
    "```",
  ].join("\n");
}
