import { readFileSync } from "node:fs";
import * as core from "@actions/core";
import { debug, info, phase, runIdentity, timings, warn } from "@smoker/action-kit";
import {
  DeployError,
  type DeployResult,
  deploy,
  type Reporter,
  readDeployInputs,
} from "@smoker/deploy";
import { connect } from "@smoker/remote";

import { writeSummary } from "./summary.js";

const reporter: Reporter = { phase, info, warn, debug };

export async function main(): Promise<void> {
  const inputs = readDeployInputs(undefined, undefined, reporter);
  const files = inputs.composeFiles.map((f) => ({ name: f.name, content: readFileSync(f.local) }));
  const remote = await phase(`Connect to ${inputs.connection.host}`, () =>
    connect(inputs.connection),
  );
  try {
    const result = await deploy(
      remote,
      {
        ...inputs,
        files,
        by: runIdentity(),
        ...(inputs.compose === "auto" ? {} : { prefer: inputs.compose }),
      },
      reporter,
    );
    await report(result, inputs.projectName, inputs.version);
  } catch (error) {
    if (error instanceof DeployError && error.result)
      await report(error.result, inputs.projectName, inputs.version);
    else core.setOutput("rolled-back", "false");
    throw error;
  } finally {
    remote.close();
  }
}

async function report(result: DeployResult, project: string, version: string): Promise<void> {
  core.setOutput("deployment-id", result.deploymentId);
  core.setOutput("previous-deployment-id", result.previousDeploymentId ?? "");
  core.setOutput(
    "images",
    JSON.stringify(
      Object.fromEntries(
        result.services.map((s) => [s.service, { image: s.image, digest: s.digest ?? null }]),
      ),
    ),
  );
  core.setOutput("compose-version", `${result.compose.kind} ${result.compose.version}`);
  core.setOutput("rolled-back", String(result.rolledBack));
  core.setOutput("duration-ms", String(result.durationMs));
  await writeSummary(result, project, version, timings());
}
