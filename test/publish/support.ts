import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";

export const ROOT = new URL("../..", import.meta.url).pathname;
export const PUBLISH = join(ROOT, ".ci/publish.mjs");

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs .ci/publish.mjs with `args` (under the node running the tests, as npm would). */
export function publish(...args: string[]): Run {
  const run = spawnSync(process.execPath, [PUBLISH, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: run.status ?? 1, stdout: run.stdout, stderr: run.stderr };
}

/** Every actions/<name> that has an action.yml: what publish.mjs must assemble. */
export function actionNames(root = ROOT): string[] {
  return readdirSync(join(root, "actions"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, "actions", d.name, "action.yml")))
    .map((d) => d.name)
    .sort();
}

/** The node_modules folders that node's resolution would search from `dir` upwards. */
export function nodeModulesAbove(dir: string): string[] {
  const found: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "node_modules"))) found.push(join(d, "node_modules"));
    if (dirname(d) === d) return found;
  }
}
