/** Input rules shared by the actions that address a project on a host. */
export const PROJECT_NAME_RULE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const PROJECT_DIR_RULE = /^\/[A-Za-z0-9_.@/-]{1,255}$/;
export const SERVICE_RULE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const VERSION_RULE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Why a project directory is unacceptable, or undefined when it is fine. */
export function projectDirProblem(dir: string): string | undefined {
  if (!PROJECT_DIR_RULE.test(dir)) return `must be an absolute path matching ${PROJECT_DIR_RULE}`;
  if (dir.split("/").includes("..")) return "must not contain .. segments";
  if (dir.replace(/\/+$/, "") === "") return "must not be /";
  return undefined;
}
