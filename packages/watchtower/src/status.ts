import { captureRunning, listProjectContainers } from "@smoker/compose";
import { cmd, type Remote } from "@smoker/remote";
import { WATCHTOWER_SERVICE } from "./compose-file.js";
import { appServices, type DeviceProject, deviceFacts } from "./device.js";

export interface ServiceStatus {
  service: string;
  image: string;
  /** The digest the device runs. */
  running: string | undefined;
  /** The digest the registry has for the image's tag now (undefined when it cannot say). */
  registry: string | undefined;
  current: boolean | undefined;
}

export interface DeviceStatus {
  watchtowerRunning: boolean;
  pinned: boolean;
  services: ServiceStatus[];
}

/** `docker manifest inspect --verbose` prints the descriptor whose digest the tag points at. */
export function parseManifestDigest(stdout: string): string | undefined {
  try {
    const parsed = JSON.parse(stdout) as unknown;
    const first = (Array.isArray(parsed) ? parsed[0] : parsed) as
      | { Descriptor?: { digest?: unknown } }
      | undefined;
    const digest = first?.Descriptor?.digest;
    return typeof digest === "string" ? digest : undefined;
  } catch {
    return undefined;
  }
}

async function registryDigest(remote: Remote, image: string): Promise<string | undefined> {
  if (image.includes("@")) return image.split("@")[1];
  for (const extra of [[], ["--insecure"]]) {
    const out = await remote.tryRun(
      cmd("docker", "manifest", "inspect", "--verbose", ...extra, image),
      {
        timeoutMs: 30_000,
      },
    );
    if (out.code === 0) return parseManifestDigest(out.stdout);
  }
  return undefined;
}

/** What a device runs, whether Watchtower runs, and each image's digest against the registry's. */
export async function deviceStatus(remote: Remote, project: DeviceProject): Promise<DeviceStatus> {
  const facts = await deviceFacts(remote, project);
  const services = await appServices(remote, project, facts.tool);
  const [containers, running] = await Promise.all([
    listProjectContainers(remote, project.projectName),
    captureRunning(remote, project.projectName),
  ]);
  const statuses = await Promise.all(
    running
      .filter((r) => services.includes(r.service))
      .map(async (r): Promise<ServiceStatus> => {
        const registry = await registryDigest(remote, r.imageRef);
        const mine = r.digest?.split("@")[1];
        return {
          service: r.service,
          image: r.imageRef,
          running: mine,
          registry,
          current: registry === undefined || mine === undefined ? undefined : registry === mine,
        };
      }),
  );
  return {
    watchtowerRunning: containers.some(
      (c) => c.service === WATCHTOWER_SERVICE && c.state === "running",
    ),
    pinned: facts.pinned,
    services: statuses,
  };
}
