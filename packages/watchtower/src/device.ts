import {
  ComposeError,
  type ComposeProject,
  type ComposeTool,
  configServices,
  detectCompose,
} from "@smoker/compose";
import { and, cmd, type Remote } from "@smoker/remote";
import { TOKEN_FILE, WATCHTOWER_FILE, WATCHTOWER_SERVICE } from "./compose-file.js";

/** The device's compose project, as the action's inputs name it. */
export interface DeviceProject {
  projectDir: string;
  projectName: string;
  /** The project's own compose files, relative to projectDir. */
  composeFiles: readonly string[];
  /** The app services to label and verify; default every service of the files. */
  services?: readonly string[] | undefined;
}

/** Rollback pins, written over the files while a device runs its previous digests. */
export const PINS_FILE = ".smoker/watchtower-pins.yml";

/** What one command tells about a device. */
export interface DeviceFacts {
  /** The address the runner reached the device at (SSH_CONNECTION's server address). */
  address: string;
  /** The engine socket the device's docker CLI uses. */
  dockerSocket: string;
  tool: ComposeTool;
  /** A pins file is in place (a rollback pinned the services to digests). */
  pinned: boolean;
}

/** `SSH_CONNECTION` is "client-ip client-port server-ip server-port" (sshd(8), ENVIRONMENT). */
export function parseFacts(envOutput: string): { address?: string; dockerSocket: string } {
  const vars = new Map<string, string>();
  for (const line of envOutput.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const address = vars.get("SSH_CONNECTION")?.trim().split(/\s+/)[2];
  const dockerHost = vars.get("DOCKER_HOST") ?? "";
  const dockerSocket = dockerHost.startsWith("unix://")
    ? dockerHost.slice("unix://".length)
    : "/var/run/docker.sock";
  return { ...(address ? { address } : {}), dockerSocket };
}

export async function deviceFacts(remote: Remote, project: DeviceProject): Promise<DeviceFacts> {
  const [env, tool, pins] = await Promise.all([
    remote.run(cmd("env")),
    detectCompose(remote),
    remote.tryRun(cmd("test", "-f", `${project.projectDir}/${PINS_FILE}`)),
  ]);
  const facts = parseFacts(env.stdout);
  if (facts.address === undefined) {
    throw new ComposeError(`Could not tell which address ${remote.where} was reached at`, {
      hint: "The device's sshd did not set SSH_CONNECTION; the Watchtower API is bound to that address.",
    });
  }
  return {
    address: facts.address,
    dockerSocket: facts.dockerSocket,
    tool,
    pinned: pins.code === 0,
  };
}

/** The compose project with Watchtower's file (and the rollback pins when asked). */
export function composeProject(
  project: DeviceProject,
  tool: ComposeTool,
  options: { watchtower?: boolean; pins?: boolean } = {},
): ComposeProject {
  return {
    tool,
    dir: project.projectDir,
    name: project.projectName,
    files: [
      ...project.composeFiles,
      ...(options.watchtower === false ? [] : [WATCHTOWER_FILE]),
      ...(options.pins ? [PINS_FILE] : []),
    ],
  };
}

/** The app services: the ones asked for (checked), else every service of the project's files. */
export async function appServices(
  remote: Remote,
  project: DeviceProject,
  tool: ComposeTool,
): Promise<string[]> {
  const out = await remote.tryRun(
    configServices(composeProject(project, tool, { watchtower: false })),
  );
  if (out.code !== 0) {
    throw new ComposeError(
      `The compose project in ${project.projectDir} is not valid: ${out.stderr.trim().split("\n").slice(-4).join("\n")}`,
      { hint: "Deploy the device's stack first (compose-files must name files in project-dir)." },
    );
  }
  const known = out.stdout.split("\n").filter((s) => s !== "" && s !== WATCHTOWER_SERVICE);
  if (project.services === undefined) return known;
  const unknown = project.services.filter((s) => !known.includes(s));
  if (unknown.length > 0) {
    throw new ComposeError(
      `services lists ${unknown.join(", ")}, not in the project's files (${known.join(", ")})`,
    );
  }
  return [...project.services];
}

/** `mkdir -p` for the files setup and rollback write. */
export const ensureDirs = (project: DeviceProject) =>
  and(cmd("mkdir", "-p", "--", `${project.projectDir}/.smoker`), cmd("true"));

export { TOKEN_FILE, WATCHTOWER_FILE };
