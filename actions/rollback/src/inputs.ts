import { getInputs, InputError, type InputSource, input } from "@smoker/action-kit";
import {
  isDeploymentId,
  PROJECT_DIR_RULE,
  PROJECT_NAME_RULE,
  projectDirProblem,
} from "@smoker/deploy";
import { connectionInputs, connectOptionsFrom, type RemoteLog } from "@smoker/remote";

const spec = {
  ...connectionInputs,
  "project-name": input.string({ required: true, pattern: PROJECT_NAME_RULE }),
  "project-dir": input.string({ pattern: PROJECT_DIR_RULE }),
  to: input.string({ default: "previous" }),
  "wait-timeout": input.duration({ default: "120s", min: "1s", max: "2h" }),
  "lock-timeout": input.duration({ default: "5m", min: "0s", max: "6h" }),
  "force-unlock": input.boolean({ default: false }),
  compose: input.enum(["auto", "v2", "v1"] as const, { default: "auto" }),
} as const;

/** Every input read and checked before anything connects. */
export function readInputs(source?: InputSource, log?: RemoteLog) {
  const i = getInputs(spec, source);
  const connection = connectOptionsFrom(i, log);
  const projectDir = (i["project-dir"] ?? `/opt/${i["project-name"]}`).replace(/\/+$/, "");
  const problem = projectDirProblem(projectDir);
  if (problem) throw new InputError("project-dir", problem);
  if (i.to !== "previous" && !isDeploymentId(i.to)) {
    throw new InputError(
      "to",
      "must be previous or a deployment id such as 20261130T231500Z-1.2.3-a1b2c3",
      {
        value: i.to,
      },
    );
  }
  return {
    connection,
    projectName: i["project-name"],
    projectDir,
    to: i.to,
    waitTimeoutMs: i["wait-timeout"],
    lockTimeoutMs: i["lock-timeout"],
    forceUnlock: i["force-unlock"],
    compose: i.compose,
  };
}
