/**
 * Runs an action the way a runner does, for tests: INPUT_* variables, GITHUB_OUTPUT,
 * GITHUB_STATE and GITHUB_STEP_SUMMARY files, the step log, and the exit code.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import * as core from "@actions/core";
import { captureOutput } from "./internal/capture.js";
import { type Annotation, parseCommands } from "./internal/commands.js";
import {
  createRunnerFiles,
  postStateEnv,
  type RunnerFiles,
  readStepFiles,
  stepEnv,
} from "./internal/runner-files.js";
import { run, type StepFunction } from "./run.js";

export type { Annotation } from "./internal/commands.js";

/** What a step left behind. */
export interface ActionResult {
  /** From GITHUB_OUTPUT, multi-line values included. */
  outputs: Record<string, string>;
  /** From GITHUB_STATE: what the main step saved for its post step. */
  state: Record<string, string>;
  /** The GITHUB_STEP_SUMMARY file's content. */
  summary: string;
  /** stdout and stderr as written, workflow commands included (`::add-mask::` lines too). */
  log: string;
  /** True when the step would be marked failed: exit code not 0. */
  failed: boolean;
  exitCode: number;
  /** Values registered with `::add-mask::`. */
  masked: string[];
  /** `::error::`, `::warning::` and `::notice::` annotations, unescaped. */
  annotations: Annotation[];
}

export interface StepOptions {
  /** By action.yml name (`private-key`); set as INPUT_PRIVATE-KEY. action.yml defaults are NOT applied. */
  inputs?: Readonly<Record<string, string>>;
  /** Extra variables; they win over the ones the helper sets. */
  env?: Readonly<Record<string, string>>;
}

export interface InProcessOptions extends StepOptions {
  /** When given, the post step runs after main (even if main failed), with main's saved state. */
  post?: StepFunction;
}

let inProcessRunning = false;

// core.summary caches the GITHUB_STEP_SUMMARY path on first use; each run has its own file.
function resetSummary(): void {
  core.summary.emptyBuffer();
  (core.summary as unknown as { _filePath?: string })._filePath = undefined;
}

/** Sets `vars` on process.env (and removes other INPUT_* / STATE_*); returns an undo. */
function applyEnv(vars: Readonly<Record<string, string>>): () => void {
  const touched = new Set(Object.keys(vars));
  for (const key of Object.keys(process.env)) {
    if (key.startsWith("INPUT_") || key.startsWith("STATE_")) touched.add(key);
  }
  const saved = new Map([...touched].map((key) => [key, process.env[key]]));
  for (const key of touched) {
    if (key in vars) process.env[key] = vars[key];
    else delete process.env[key];
  }
  return () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

function exitCodeNow(): number {
  const code = process.exitCode;
  return code === undefined || code === null ? 0 : Number(code);
}

async function cleanUp(files: RunnerFiles): Promise<void> {
  await rm(files.dir, { recursive: true, force: true });
}

/**
 * Runs `run(main, post)` in this process with the environment a runner gives a step, stdout
 * and stderr captured, then restores process.env, the streams and process.exitCode. Fast, and
 * coverage sees the code; runBundled is the faithful one. One at a time (process-wide state).
 *
 * Only output written through process.stdout/stderr is captured: under vitest, console.* is
 * routed elsewhere, so actions should log through @actions/core or this kit's logger.
 */
export async function runInProcess(
  main: StepFunction,
  options: InProcessOptions = {},
): Promise<ActionResult> {
  if (inProcessRunning) throw new Error("runInProcess cannot run two actions at once");
  inProcessRunning = true;
  const files = await createRunnerFiles();
  const baseEnv = { ...stepEnv(files, options.inputs ?? {}), ...options.env };
  const exitCodeBefore = process.exitCode;
  let exitCode = 0;
  try {
    const { text } = await captureOutput(async () => {
      const restoreMainEnv = applyEnv(baseEnv);
      try {
        resetSummary();
        process.exitCode = undefined;
        await run(main, options.post);
        exitCode = exitCodeNow();
      } finally {
        restoreMainEnv();
      }
      if (options.post === undefined) return;
      const { state } = await readStepFiles(files);
      const restorePostEnv = applyEnv({ ...baseEnv, ...postStateEnv(state) });
      try {
        resetSummary();
        await run(main, options.post);
      } finally {
        restorePostEnv();
      }
    });
    const stepFiles = await readStepFiles(files);
    return { ...stepFiles, log: text, exitCode, failed: exitCode !== 0, ...parseCommands(text) };
  } finally {
    process.exitCode = exitCodeBefore;
    resetSummary();
    inProcessRunning = false;
    await cleanUp(files);
  }
}

export interface BundledOptions extends StepOptions {
  /** The node binary; defaults to $SMOKER_NODE24, then the node running the tests. */
  node?: string;
  /** Kill the step and throw after this long. Default 60 s. */
  timeoutMs?: number;
  cwd?: string;
  /** Also run the post step: `true` runs `entry` again (as `runs.post` usually does), a string runs that file. */
  post?: boolean | string;
  /** Called with the main step's process as soon as it starts (to signal it, as a cancel does). */
  onSpawn?: (child: ChildProcess) => void;
}

// The few variables a process needs to work at all; nothing else of the test's env leaks in.
const BASE_ENV_KEYS = [
  "PATH",
  "HOME",
  "USERPROFILE",
  "SYSTEMROOT",
  "TMPDIR",
  "TEMP",
  "TMP",
  "LANG",
];

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of BASE_ENV_KEYS) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

interface ProcessResult {
  exitCode: number;
  log: string;
}

function runNode(
  node: string,
  entry: string,
  env: Record<string, string>,
  cwd: string,
  timeoutMs: number,
  onSpawn?: (child: ChildProcess) => void,
): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(node, [entry], { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    onSpawn?.(child);
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
    const log = () => Buffer.concat(chunks).toString("utf8");
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${entry} did not finish within ${timeoutMs} ms. Log so far:\n${log()}`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const bySignal = signal === null ? 1 : 128 + (constants.signals[signal] ?? 0);
      resolvePromise({ exitCode: code ?? bySignal, log: log() });
    });
  });
}

/**
 * Runs a bundled action (`node dist/x/index.js`) as a child process with only the variables
 * a runner step would have: PATH, HOME and the like, INPUT_*, GITHUB_OUTPUT, GITHUB_STATE,
 * GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_PATH, RUNNER_TEMP, GITHUB_ACTIONS, plus `env`.
 * The exit code is the process's, which is what the runner judges the step by.
 */
export async function runBundled(
  entry: string,
  options: BundledOptions = {},
): Promise<ActionResult> {
  const node = options.node ?? process.env.SMOKER_NODE24 ?? process.execPath;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const cwd = options.cwd ?? process.cwd();
  const files = await createRunnerFiles();
  try {
    const env = { ...baseEnv(), ...stepEnv(files, options.inputs ?? {}), ...options.env };
    const main = await runNode(node, resolve(entry), env, cwd, timeoutMs, options.onSpawn);
    let log = main.log;
    if (options.post !== undefined && options.post !== false) {
      const postEntry = options.post === true ? entry : options.post;
      const { state } = await readStepFiles(files);
      const post = await runNode(
        node,
        resolve(postEntry),
        { ...env, ...postStateEnv(state) },
        cwd,
        timeoutMs,
      );
      log += post.log;
    }
    const stepFiles = await readStepFiles(files);
    return {
      ...stepFiles,
      log,
      exitCode: main.exitCode,
      failed: main.exitCode !== 0,
      ...parseCommands(log),
    };
  } finally {
    await cleanUp(files);
  }
}

function lineAt(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/**
 * Throws if any secret, or any line of a multi-line secret, appears in the log (other than in
 * the `::add-mask::` commands that register it, which the runner never prints), an output or
 * the summary. The message says where, never what.
 */
export function assertNoSecrets(
  result: Pick<ActionResult, "log" | "outputs" | "summary">,
  secrets: readonly string[],
): void {
  // Blanked rather than dropped so that line numbers still point into the real log.
  const visibleLog = result.log
    .split("\n")
    .map((line) => (line.startsWith("::add-mask::") ? "" : line))
    .join("\n");
  const places: Array<[string, string]> = [
    ["the log", visibleLog],
    ...Object.entries(result.outputs).map(([name, value]): [string, string] => [
      `output "${name}"`,
      value,
    ]),
    ["the summary", result.summary],
  ];
  const leaks: string[] = [];
  secrets.forEach((secret, index) => {
    const needles = new Set(
      [secret.trim(), ...secret.split(/\r?\n/).map((line) => line.trim())].filter(
        (needle) => needle !== "",
      ),
    );
    for (const [place, text] of places) {
      for (const needle of needles) {
        const at = text.indexOf(needle);
        if (at < 0) continue;
        const where = place === "the log" ? `the log (line ${lineAt(text, at)})` : place;
        leaks.push(`secret #${index + 1} appears in ${where}`);
        break;
      }
    }
  });
  if (leaks.length > 0) throw new Error(`Secrets leaked: ${leaks.join("; ")}`);
}

/**
 * Runs `fn` with a fresh temporary directory, optionally seeded with `files` (relative path ->
 * content), and removes the directory afterwards, whether fn succeeded or not.
 */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T> | T,
  files: Readonly<Record<string, string>> = {},
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "smoker-fixture-"));
  try {
    for (const [name, content] of Object.entries(files)) {
      const target = resolve(dir, name);
      const inside = relative(dir, target);
      if (inside.startsWith("..") || isAbsolute(inside)) {
        throw new Error(`Fixture path escapes the temp dir: ${name}`);
      }
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Certificate {
  cert: string;
  key: string;
}

/**
 * A fresh self-signed P-256 certificate (valid two days), made by openssl: for the local TLS
 * servers and simulators tests talk to. Default: CN=localhost for 127.0.0.1.
 */
export async function selfSignedCertificate(
  options: { subject?: string; altNames?: string } = {},
): Promise<Certificate> {
  const dir = await mkdtemp(join(tmpdir(), "smoker-tls-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    await promisify(execFile)("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      options.subject ?? "/CN=localhost",
      "-addext",
      `subjectAltName=${options.altNames ?? "IP:127.0.0.1"}`,
      "-days",
      "2",
      "-keyout",
      key,
      "-out",
      cert,
    ]);
    return { cert: await readFile(cert, "utf8"), key: await readFile(key, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
