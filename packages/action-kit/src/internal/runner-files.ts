import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The environment variable the runner sets for an input: spaces become `_`, hyphens stay. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

/** The files and folders a runner prepares for one step. */
export interface RunnerFiles {
  dir: string;
  output: string;
  state: string;
  summary: string;
  env: string;
  path: string;
  runnerTemp: string;
}

export async function createRunnerFiles(): Promise<RunnerFiles> {
  const dir = await mkdtemp(join(tmpdir(), "smoker-action-"));
  const files: RunnerFiles = {
    dir,
    output: join(dir, "output"),
    state: join(dir, "state"),
    summary: join(dir, "step-summary.md"),
    env: join(dir, "env"),
    path: join(dir, "path"),
    runnerTemp: join(dir, "runner-temp"),
  };
  await mkdir(files.runnerTemp);
  await Promise.all(
    [files.output, files.state, files.summary, files.env, files.path].map((file) =>
      writeFile(file, ""),
    ),
  );
  return files;
}

/** INPUT_* and GITHUB_* variables for a step, the way the runner sets them. */
export function stepEnv(files: RunnerFiles, inputs: Readonly<Record<string, string>>) {
  const env: Record<string, string> = {
    GITHUB_ACTIONS: "true",
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    RUNNER_TEMP: files.runnerTemp,
  };
  for (const [name, value] of Object.entries(inputs)) env[inputEnvName(name)] = value;
  return env;
}

/**
 * Parses a GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV file as the runner does: `name=value`
 * lines, and `name<<DELIMITER` followed by value lines and a line holding only the delimiter
 * (what core.setOutput writes). A later entry for a name replaces an earlier one.
 */
export function parseFileCommands(text: string): Record<string, string> {
  const values = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (line === "") continue;
    const equals = line.indexOf("=");
    const heredoc = line.indexOf("<<");
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      const name = line.slice(0, equals);
      if (name === "") throw new Error(`Invalid file command line ${index + 1}: empty name`);
      values.set(name, line.slice(equals + 1));
    } else if (heredoc >= 0) {
      const name = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (name === "" || delimiter === "") {
        throw new Error(`Invalid file command line ${index + 1}: empty name or delimiter`);
      }
      const end = lines.indexOf(delimiter, index + 1);
      if (end < 0) throw new Error(`Matching delimiter not found for "${name}": ${delimiter}`);
      values.set(name, lines.slice(index + 1, end).join("\n"));
      index = end;
    } else {
      throw new Error(`Invalid file command line ${index + 1}: expected name=value or name<<EOF`);
    }
  }
  return Object.fromEntries(values);
}

export interface StepFiles {
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
}

export async function readStepFiles(files: RunnerFiles): Promise<StepFiles> {
  const [output, state, summary] = await Promise.all(
    [files.output, files.state, files.summary].map((file) => readFile(file, "utf8")),
  );
  return {
    outputs: parseFileCommands(output!),
    state: parseFileCommands(state!),
    summary: summary!,
  };
}

/** STATE_* variables the runner gives the post step, from what the main step saved. */
export function postStateEnv(state: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(state).map(([name, value]) => [`STATE_${name}`, value]));
}
