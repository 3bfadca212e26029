import * as core from "@actions/core";
import { debug, info, phase, runIdentity, warn } from "@smoker/action-kit";
import { type Reporter, readRollbackInputs, rollback } from "@smoker/deploy";
import { connect } from "@smoker/remote";

const reporter: Reporter = { phase, info, warn, debug };

export async function main(): Promise<void> {
  const inputs = readRollbackInputs(undefined, reporter);
  const remote = await phase(`Connect to ${inputs.connection.host}`, () =>
    connect(inputs.connection),
  );
  try {
    const result = await rollback(
      remote,
      {
        ...inputs,
        by: runIdentity(),
        ...(inputs.compose === "auto" ? {} : { prefer: inputs.compose }),
      },
      reporter,
    );
    const images = Object.fromEntries(
      result.services.map((s) => [s.service, { image: s.image, digest: s.digest ?? null }]),
    );
    core.setOutput("rolled-back-to", result.rolledBackTo.id);
    core.setOutput("images", JSON.stringify(images));
    await core.summary
      .addHeading(
        `↩️ ${inputs.projectName} rolled back to ${result.rolledBackTo.version} (${result.rolledBackTo.id})`,
        3,
      )
      .addTable([
        [
          { data: "service", header: true },
          { data: "image", header: true },
          { data: "digest", header: true },
        ],
        ...result.services.map((s) => [s.service, s.image, s.digest ?? "(local image)"]),
      ])
      .write();
    info(`Rolled back to ${result.rolledBackTo.id} in ${(result.durationMs / 1000).toFixed(1)} s`);
  } finally {
    remote.close();
  }
}
