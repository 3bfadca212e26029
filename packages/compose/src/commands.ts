import { inDir, type Remote, type Script, withEnv } from "@smoker/remote";
import { ComposeError } from "./errors.js";

/** What runs remote commands: a Remote, or a stand-in for it in tests. */
export type CommandRunner = Pick<Remote, "run" | "tryRun">;

/** The Compose on a host, as `detectCompose` found it. */
export interface ComposeTool {
  kind: "v2" | "v1";
  /** As the binary prints it, e.g. "2.26.1" or "1.29.2". */
  version: string;
  /** `["docker", "compose"]` (the plugin) or `["docker-compose"]` (a standalone binary). */
  argv: readonly string[];
}

/** One Compose project on a host. */
export interface ComposeProject {
  tool: ComposeTool;
  /** Remote directory the commands run in; the files are relative to it. */
  dir: string;
  /** Project name (`-p`): containers are labelled with it. */
  name: string;
  /** Compose files relative to `dir`, in `-f` order (later ones override earlier ones). */
  files: readonly string[];
  /**
   * Variables for interpolation in the files (e.g. `{ VERSION: "1.2.0" }`). They appear on the
   * remote command line: never put a secret here (secrets go in a 0600 `.env` file).
   */
  env?: Readonly<Record<string, string>>;
}

export interface UpOptions {
  services?: readonly string[];
  /** Remove containers of services no longer in the files. */
  removeOrphans?: boolean;
  forceRecreate?: boolean;
  /** Do not start the services the selected ones depend on. */
  noDeps?: boolean;
}

export interface StopOptions {
  services?: readonly string[];
  /** Seconds Compose waits after SIGTERM before it kills (`-t`). */
  timeoutSeconds?: number;
}

export interface DownOptions {
  /** Also remove named volumes declared in the files and anonymous ones (`-v`): data loss. */
  volumes?: boolean;
  removeOrphans?: boolean;
  timeoutSeconds?: number;
}

// Compose v2 accepts exactly this; v1 would silently lowercase and strip other characters, so a
// name outside it would label containers with a different project than the one we watch.
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;
// The characters Compose allows in a service name; a leading "-" would read as a flag.
const SERVICE_NAME = /^[a-zA-Z0-9._][a-zA-Z0-9._-]*$/;

export function checkProjectName(name: string): string {
  if (!PROJECT_NAME.test(name)) {
    throw new ComposeError(`Invalid Compose project name ${JSON.stringify(name)}`, {
      hint: "Use lowercase letters, digits, '-' and '_', starting with a letter or digit.",
    });
  }
  return name;
}

export function checkServiceName(name: string): string {
  if (!SERVICE_NAME.test(name)) {
    throw new ComposeError(`Invalid Compose service name ${JSON.stringify(name)}`, {
      hint: "Service names are letters, digits, '.', '_' and '-', not starting with '-'.",
    });
  }
  return name;
}

function checkFile(file: string): string {
  // "-" means stdin to Compose, and "-x" could be taken for a flag.
  if (file === "" || file.startsWith("-")) {
    throw new ComposeError(`Invalid Compose file path ${JSON.stringify(file)}`, {
      hint: "Give compose files as paths relative to the project directory, such as compose.yaml.",
    });
  }
  return file;
}

function seconds(value: number): string {
  if (!Number.isInteger(value) || value < 0) {
    throw new ComposeError(`A Compose timeout must be whole seconds >= 0 (got ${value})`);
  }
  return String(value);
}

/** `cd DIR && [ENV...] docker compose -p NAME -f F1 -f F2 ARGS...` */
export function compose(p: ComposeProject, ...args: string[]): Script {
  if (p.files.length === 0) {
    throw new ComposeError(`Compose project ${p.name} has no files`);
  }
  const [program, ...rest] = p.tool.argv;
  if (program === undefined) throw new ComposeError("The Compose tool has an empty command");
  const argv = [
    ...rest,
    "-p",
    checkProjectName(p.name),
    ...p.files.flatMap((f) => ["-f", checkFile(f)]),
    ...args,
  ];
  return inDir(p.dir, withEnv({ ...p.env }, program, ...argv));
}

const names = (services: readonly string[] | undefined) => (services ?? []).map(checkServiceName);

/** Validates the files (an invalid one fails here) and prints the service names, one a line. */
export function configServices(p: ComposeProject): Script {
  return compose(p, "config", "--services");
}

export function pull(p: ComposeProject, services?: readonly string[]): Script {
  return compose(p, "pull", ...names(services));
}

/** `up -d`: never `--wait` (v1 lacks it, and the watcher is the judge of health). */
export function up(p: ComposeProject, options: UpOptions = {}): Script {
  return compose(
    p,
    "up",
    "-d",
    ...(options.removeOrphans ? ["--remove-orphans"] : []),
    ...(options.forceRecreate ? ["--force-recreate"] : []),
    ...(options.noDeps ? ["--no-deps"] : []),
    ...names(options.services),
  );
}

export function stop(p: ComposeProject, options: StopOptions = {}): Script {
  return compose(
    p,
    "stop",
    ...(options.timeoutSeconds === undefined ? [] : ["-t", seconds(options.timeoutSeconds)]),
    ...names(options.services),
  );
}

/** `down` takes no services: v1 cannot remove only some of a project's services. */
export function down(p: ComposeProject, options: DownOptions = {}): Script {
  return compose(
    p,
    "down",
    ...(options.volumes ? ["-v"] : []),
    ...(options.removeOrphans ? ["--remove-orphans"] : []),
    ...(options.timeoutSeconds === undefined ? [] : ["-t", seconds(options.timeoutSeconds)]),
  );
}

/** Compose's own table of the project's containers, for logs (the watcher uses docker inspect). */
export function ps(p: ComposeProject): Script {
  return compose(p, "ps", "-a");
}
