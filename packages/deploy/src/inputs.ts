import { existsSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, relative, resolve } from "node:path";
import { getInputs, InputError, type InputSource, input } from "@smoker/action-kit";
import {
  type ConnectOptions,
  connectionInputs,
  connectOptionsFrom,
  type RemoteLog,
} from "@smoker/remote";
import type { DeployPlan } from "./deploy.js";
import { isDeploymentId } from "./releases.js";
import {
  PROJECT_DIR_RULE as PROJECT_DIR,
  PROJECT_NAME_RULE as PROJECT_NAME,
  projectDirProblem,
  SERVICE_RULE as SERVICE,
  VERSION_RULE,
} from "./rules.js";

/** deploy-compose's inputs (the CLI's `smoker deploy` flags have the same names). */
const VOLUME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/;

export const deployInputSpec = {
  ...connectionInputs,
  "compose-files": input.list({ default: ["docker-compose.yml"] }),
  "project-dir": input.string({ pattern: PROJECT_DIR }),
  "project-name": input.string({ pattern: PROJECT_NAME }),
  version: input.string({ pattern: VERSION_RULE }),
  env: input.keyValues({ secret: true }),
  services: input.list({ separator: "comma-or-newline" }),
  pull: input.boolean({ default: true }),
  "pre-deploy": input.string({}),
  "backup-volumes": input.list({ separator: "comma-or-newline" }),
  "backup-image": input.string({
    default: "busybox:1.36",
    pattern: /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/,
  }),
  "wait-timeout": input.duration({ default: "120s", min: "1s", max: "2h" }),
  "stable-for": input.duration({ default: "0s", max: "1h" }),
  "rollback-on-failure": input.boolean({ default: true }),
  "lock-timeout": input.duration({ default: "5m", min: "0s", max: "6h" }),
  "force-unlock": input.boolean({ default: false }),
  "keep-releases": input.integer({ default: 10, min: 2, max: 1000 }),
  compose: input.enum(["auto", "v2", "v1"] as const, { default: "auto" }),
} as const;

/** The plan a deploy runs, as the inputs give it: the files still on the runner's disk. */
export type DeployInputs = Omit<DeployPlan, "files" | "by" | "prefer"> & {
  connection: ConnectOptions;
  /** Local paths (absolute) and the names they get in the project directory, in -f order. */
  composeFiles: { local: string; name: string }[];
  compose: "auto" | "v2" | "v1";
};

/** Compose's own rule for project names, applied to a folder name. */
export function sanitizeProjectName(folder: string): string {
  return folder
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 63);
}

/**
 * Reads and checks every input before anything connects: a bad value fails here, naming the
 * input and the rule, with no remote command run.
 */
export function readDeployInputs(
  source?: InputSource,
  workspace = process.env.GITHUB_WORKSPACE ?? process.cwd(),
  log?: RemoteLog,
  options: { mask?: boolean } = {},
): DeployInputs {
  const i = getInputs(deployInputSpec, source, options);
  const connection = connectOptionsFrom(i, log);

  const root = realpathSync(workspace);
  const composeFiles = i["compose-files"].map((file) => {
    const local = resolve(root, file);
    if (!existsSync(local) || !statSync(local).isFile()) {
      throw new InputError(
        "compose-files",
        `lists ${file}, which is not a file in the workspace (${root})`,
      );
    }
    const real = realpathSync(local);
    const rel = relative(root, real);
    if (rel.startsWith("..") || isAbsolute(rel)) {
      throw new InputError("compose-files", `lists ${file}, which is outside the workspace`);
    }
    return { local: real, name: basename(real) };
  });
  const names = composeFiles.map((f) => f.name);
  const clash = names.find((n, k) => names.indexOf(n) !== k);
  if (clash) {
    throw new InputError(
      "compose-files",
      `lists two files named ${clash}; they would overwrite each other on the host`,
    );
  }
  if (names.includes(".env"))
    throw new InputError("compose-files", "cannot include .env (use the env input)");

  const folder = basename(dirname(composeFiles[0]!.local));
  const projectName = i["project-name"] ?? sanitizeProjectName(folder);
  if (!PROJECT_NAME.test(projectName)) {
    throw new InputError(
      "project-name",
      `is needed: the compose file's folder name ${JSON.stringify(folder)} does not make a valid project name (${PROJECT_NAME})`,
    );
  }
  const projectDir = (i["project-dir"] ?? `/opt/${projectName}`).replace(/\/+$/, "");
  const problem = projectDirProblem(projectDir);
  if (problem) throw new InputError("project-dir", problem);
  for (const v of i["backup-volumes"] ?? []) {
    if (!VOLUME.test(v))
      throw new InputError(
        "backup-volumes",
        `lists ${JSON.stringify(v)}, which must match ${VOLUME}`,
      );
  }
  for (const s of i.services ?? []) {
    if (!SERVICE.test(s))
      throw new InputError("services", `lists ${JSON.stringify(s)}, which must match ${SERVICE}`);
  }
  return {
    connection,
    composeFiles,
    projectDir,
    projectName,
    version: i.version ?? "unversioned",
    env: i.env,
    services: i.services,
    pull: i.pull,
    preDeploy: i["pre-deploy"],
    backupVolumes: i["backup-volumes"] ?? [],
    backupImage: i["backup-image"],
    waitTimeoutMs: i["wait-timeout"],
    stableMs: i["stable-for"],
    rollbackOnFailure: i["rollback-on-failure"],
    lockTimeoutMs: i["lock-timeout"],
    forceUnlock: i["force-unlock"],
    keepReleases: i["keep-releases"],
    compose: i.compose,
  };
}

/** rollback's inputs (and `smoker rollback` flags). */
export const rollbackInputSpec = {
  ...connectionInputs,
  "project-name": input.string({ required: true, pattern: PROJECT_NAME }),
  "project-dir": input.string({ pattern: PROJECT_DIR }),
  to: input.string({ default: "previous" }),
  "wait-timeout": input.duration({ default: "120s", min: "1s", max: "2h" }),
  "lock-timeout": input.duration({ default: "5m", min: "0s", max: "6h" }),
  "force-unlock": input.boolean({ default: false }),
  compose: input.enum(["auto", "v2", "v1"] as const, { default: "auto" }),
  "restore-volumes": input.boolean({ default: false }),
  "backup-image": input.string({ default: "busybox:1.36", pattern: IMAGE_REF }),
} as const;

/** Every input read and checked before anything connects. */
export function readRollbackInputs(
  source?: InputSource,
  log?: RemoteLog,
  options: { mask?: boolean } = {},
) {
  const i = getInputs(rollbackInputSpec, source, options);
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
    restoreVolumes: i["restore-volumes"],
    backupImage: i["backup-image"],
  };
}
