import { cmd } from "@smoker/remote";
import { type CommandRunner, type ComposeProject, up } from "./commands.js";
import { type ContainerState, listProjectContainers } from "./containers.js";

/**
 * Services with a running container whose image is not the one its reference names now.
 *
 * Compose decides whether to recreate a container from labels it wrote when it created it (v2:
 * `com.docker.compose.image`; v1: the config hash, which includes the image id). Watchtower
 * recreates containers with their labels copied, so once it has moved a service to a newer
 * image the labels still name the old one, and an `up` after the tag points back at that old
 * image changes nothing: the newer image keeps running. Comparing what runs with what the
 * reference resolves to on the host finds those containers, whatever created them.
 */
export async function staleServices(
  remote: CommandRunner,
  containers: readonly ContainerState[],
  services?: readonly string[],
): Promise<string[]> {
  const running = containers.filter(
    (c) => c.state === "running" && (services === undefined || services.includes(c.service)),
  );
  const refs = [...new Set(running.map((c) => c.imageRef).filter((r) => r !== ""))];
  // One command per reference: `docker image inspect a b` leaves a missing one out of its
  // output, so the answers could not be told apart. The channels share one connection.
  const resolved = new Map<string, string>();
  await Promise.all(
    refs.map(async (ref) => {
      const out = await remote.tryRun(
        cmd("docker", "image", "inspect", "--format", "{{.Id}}", "--", ref),
      );
      const id = out.stdout.trim();
      if (out.code === 0 && id.startsWith("sha256:")) resolved.set(ref, id);
    }),
  );
  const stale = running
    .filter((c) => {
      const id = resolved.get(c.imageRef);
      return id !== undefined && id !== c.imageId;
    })
    .map((c) => c.service);
  return [...new Set(stale)].sort();
}

/**
 * After an `up`: recreates the services that still run an image other than the one their
 * reference names (see staleServices), and returns them (empty when every container is current,
 * which costs one listing and one image inspect per reference).
 */
export async function recreateStale(
  remote: CommandRunner,
  project: ComposeProject,
  services?: readonly string[],
): Promise<string[]> {
  const containers = await listProjectContainers(remote, project.name);
  const stale = await staleServices(remote, containers, services);
  if (stale.length > 0) {
    await remote.run(up(project, { services: stale, forceRecreate: true, noDeps: true }));
  }
  return stale;
}
