import { cmd, RemoteCommandError, render } from "@smoker/remote";
import { type CommandRunner, checkProjectName } from "./commands.js";
import { ComposeError } from "./errors.js";

export type ContainerStatus =
  | "created"
  | "running"
  | "restarting"
  | "exited"
  | "paused"
  | "dead"
  | "removing";

export type HealthStatus = "starting" | "healthy" | "unhealthy";

/** A container as `docker inspect` reports it: the same whichever Compose created it. */
export interface ContainerState {
  /** Full container id. */
  id: string;
  /** Without the leading "/". */
  name: string;
  /** Label com.docker.compose.project. */
  project: string;
  /** Label com.docker.compose.service. */
  service: string;
  state: ContainerStatus;
  /** Absent when the image and service define no healthcheck (or disable it). */
  health?: HealthStatus;
  restartCount: number;
  exitCode: number;
  /** The engine's error, e.g. why the container could not start (State.Error). */
  error?: string;
  oomKilled: boolean;
  /** Year 1 (Docker's zero time) when the container never started. */
  startedAt: Date;
  finishedAt?: Date;
  /** "sha256:..." */
  imageId: string;
  /** The image as the service names it (Config.Image), e.g. "registry/app:1.2". */
  imageRef: string;
  /** A container of `compose run`. */
  oneOff: boolean;
  /** HostConfig.RestartPolicy.Name: "", "no", "always", "unless-stopped", "on-failure". */
  restartPolicy: string;
}

const STATUSES = new Set<string>([
  "created",
  "running",
  "restarting",
  "exited",
  "paused",
  "dead",
  "removing",
]);
const HEALTH = new Set<string>(["starting", "healthy", "unhealthy"]);
const ZERO_TIME = "0001-01-01T00:00:00Z";

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ComposeError(`Unexpected docker inspect output: ${what} is not an object`);
  }
  return value as Json;
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string") {
    throw new ComposeError(`Unexpected docker inspect output: ${what} is not a string`);
  }
  return value;
}

function array(stdout: string, what: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (error) {
    throw new ComposeError(`${what} did not print JSON`, { cause: error });
  }
  if (!Array.isArray(parsed)) throw new ComposeError(`${what} did not print a JSON array`);
  return parsed;
}

function parseContainer(raw: unknown): ContainerState {
  const c = object(raw, "a container");
  const id = text(c.Id, "Id");
  const state = object(c.State, `State of ${id}`);
  const config = object(c.Config, `Config of ${id}`);
  const labels = (config.Labels ?? {}) as Record<string, string>;
  const status = text(state.Status, `State.Status of ${id}`);
  if (!STATUSES.has(status)) {
    throw new ComposeError(`Container ${id} has an unknown state ${JSON.stringify(status)}`);
  }
  const healthStatus = (state.Health as Json | undefined)?.Status;
  const finished = typeof state.FinishedAt === "string" ? state.FinishedAt : ZERO_TIME;
  const policy = ((c.HostConfig as Json | undefined)?.RestartPolicy as Json | undefined)?.Name;
  const container: ContainerState = {
    id,
    name: text(c.Name, `Name of ${id}`).replace(/^\//, ""),
    project: labels["com.docker.compose.project"] ?? "",
    service: labels["com.docker.compose.service"] ?? "",
    state: status as ContainerStatus,
    restartCount: Number(c.RestartCount ?? 0),
    exitCode: Number(state.ExitCode ?? 0),
    oomKilled: state.OOMKilled === true,
    startedAt: new Date(text(state.StartedAt, `State.StartedAt of ${id}`)),
    imageId: text(c.Image, `Image of ${id}`),
    imageRef: typeof config.Image === "string" ? config.Image : "",
    // Compose v1 and v2 both write "True"/"False".
    oneOff: (labels["com.docker.compose.oneoff"] ?? "").toLowerCase() === "true",
    restartPolicy: typeof policy === "string" ? policy : "",
  };
  // Docker reports a stopped container as "unhealthy"; only a health status is kept.
  if (typeof healthStatus === "string" && HEALTH.has(healthStatus)) {
    container.health = healthStatus as HealthStatus;
  }
  if (typeof state.Error === "string" && state.Error !== "") container.error = state.Error;
  if (!finished.startsWith("0001-")) container.finishedAt = new Date(finished);
  return container;
}

/** Parses `docker inspect` output (a JSON array of containers). */
export function parseContainers(stdout: string): ContainerState[] {
  return array(stdout, "docker inspect").map(parseContainer);
}

/** `docker ps -a` ids of a project's containers, one-off ones included. */
export function projectContainerIds(projectName: string) {
  return cmd(
    "docker",
    "ps",
    "-a",
    "--no-trunc",
    "--filter",
    `label=com.docker.compose.project=${checkProjectName(projectName)}`,
    "--format",
    "{{.ID}}",
  );
}

export async function listContainerIds(
  remote: CommandRunner,
  projectName: string,
): Promise<string[]> {
  const out = await remote.run(projectContainerIds(projectName));
  return out.stdout.split("\n").filter((l) => l.trim() !== "");
}

export interface Inspection {
  containers: ContainerState[];
  /** Some ids no longer exist (removed since they were listed). */
  gone: boolean;
}

/**
 * One `docker inspect` of all ids. A container removed since it was listed is not an error
 * here: docker prints the others and exits 1, and the caller re-lists.
 */
export async function inspectContainers(
  remote: CommandRunner,
  ids: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<Inspection> {
  if (ids.length === 0) return { containers: [], gone: false };
  const script = cmd("docker", "inspect", "--type", "container", ...ids);
  const result = await remote.tryRun(
    script,
    options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
  );
  if (result.code === 0) return { containers: parseContainers(result.stdout), gone: false };
  if (/no such (container|object)/i.test(result.stderr) && result.stdout.trim().startsWith("[")) {
    return { containers: parseContainers(result.stdout), gone: true };
  }
  throw new RemoteCommandError(
    `docker inspect failed with exit code ${result.code}: ${result.stderr.trim()}`,
    render(script),
    result.code,
    result.stdout,
    result.stderr,
  );
}

/** The project's containers (one-off `compose run` containers left out), by service and name. */
export async function listProjectContainers(
  remote: CommandRunner,
  projectName: string,
): Promise<ContainerState[]> {
  let ids = await listContainerIds(remote, projectName);
  let inspection = await inspectContainers(remote, ids);
  if (inspection.gone) {
    // A container went away between the two commands: list once more.
    ids = await listContainerIds(remote, projectName);
    inspection = await inspectContainers(remote, ids);
  }
  return sortContainers(inspection.containers.filter((c) => !c.oneOff));
}

export function sortContainers(containers: readonly ContainerState[]): ContainerState[] {
  return [...containers].sort(
    (a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name),
  );
}

export interface ImageDigests {
  /** "repo@sha256:..." for each registry the image was pulled from or pushed to. */
  repoDigests: string[];
  repoTags: string[];
}

/** Parses `docker image inspect` output into image id -> its digests and tags. */
export function parseImages(stdout: string): Map<string, ImageDigests> {
  const images = new Map<string, ImageDigests>();
  for (const raw of array(stdout, "docker image inspect")) {
    const image = object(raw, "an image");
    const strings = (v: unknown) =>
      Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
    images.set(text(image.Id, "Id"), {
      repoDigests: strings(image.RepoDigests),
      repoTags: strings(image.RepoTags),
    });
  }
  return images;
}

/** One `docker image inspect` of every image id. */
export async function imageDigests(
  remote: CommandRunner,
  imageIds: readonly string[],
): Promise<Map<string, ImageDigests>> {
  const unique = [...new Set(imageIds)];
  if (unique.length === 0) return new Map();
  const out = await remote.run(cmd("docker", "image", "inspect", ...unique));
  return parseImages(out.stdout);
}

/**
 * The repository of an image reference, spelled fully so that different spellings compare
 * equal: "nginx:1" and "docker.io/library/nginx@sha256:..." are both "docker.io/library/nginx".
 */
export function repositoryOf(reference: string): string {
  let name = reference.split("@")[0]!;
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  if (colon > slash) name = name.slice(0, colon);
  const [first, ...rest] = name.split("/");
  const isRegistry =
    rest.length > 0 && (first!.includes(".") || first!.includes(":") || first === "localhost");
  let domain = isRegistry ? first! : "docker.io";
  let path = isRegistry ? rest.join("/") : name;
  if (domain === "index.docker.io") domain = "docker.io";
  if (domain === "docker.io" && !path.includes("/")) path = `library/${path}`;
  return `${domain}/${path}`;
}

/** The RepoDigest of `image` that belongs to the repository `imageRef` names, if any. */
export function digestFor(imageRef: string, repoDigests: readonly string[]): string | undefined {
  if (imageRef === "" || imageRef.startsWith("sha256:")) return undefined;
  const repository = repositoryOf(imageRef);
  return repoDigests.find((d) => repositoryOf(d) === repository);
}

/** What a release record keeps of one running service. */
export interface RunningService {
  service: string;
  /** Container name. */
  container: string;
  /** The image as the compose files named it. */
  imageRef: string;
  /** "sha256:...": the fallback pin for an image built on the host (no digest). */
  imageId: string;
  /** "repo@sha256:...", the pin to roll back to, when the image came from a registry. */
  digest?: string;
}

/**
 * The image each running service of a project runs. With several containers for a service
 * (scale), the most recently started one speaks for it.
 */
export async function captureRunning(
  remote: CommandRunner,
  projectName: string,
): Promise<RunningService[]> {
  return describeRunning(remote, await listProjectContainers(remote, projectName));
}

/**
 * What runs, per service, from containers already inspected (a watch's last look): only the
 * images are inspected, for their digests.
 */
export async function describeRunning(
  remote: CommandRunner,
  containers: readonly ContainerState[],
): Promise<RunningService[]> {
  const running = containers.filter((c) => c.state === "running");
  const newest = new Map<string, ContainerState>();
  for (const c of running) {
    const seen = newest.get(c.service);
    if (seen === undefined || c.startedAt > seen.startedAt) newest.set(c.service, c);
  }
  const images = await imageDigests(
    remote,
    [...newest.values()].map((c) => c.imageId),
  );
  return [...newest.values()]
    .sort((a, b) => a.service.localeCompare(b.service))
    .map((c) => {
      const digest = digestFor(c.imageRef, images.get(c.imageId)?.repoDigests ?? []);
      return {
        service: c.service,
        container: c.name,
        imageRef: c.imageRef,
        imageId: c.imageId,
        ...(digest === undefined ? {} : { digest }),
      };
    });
}
