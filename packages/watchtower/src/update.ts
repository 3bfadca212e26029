import {
  captureRunning,
  describeRunning,
  pinnedOverride,
  pull,
  type RunningService,
  recreateStale,
  repositoryOf,
  up,
  watchProject,
} from "@smoker/compose";
import { cmd, type Remote, redirect } from "@smoker/remote";
import { API_PORT_IN_CONTAINER, WATCHTOWER_SERVICE } from "./compose-file.js";
import {
  appServices,
  composeProject,
  type DeviceFacts,
  type DeviceProject,
  deviceFacts,
  ensureDirs,
  PINS_FILE,
} from "./device.js";

export type Trigger = "http" | "ssh";

export interface UpdatePlan {
  trigger: Trigger;
  /** Needed for the http trigger. */
  token?: string | undefined;
  apiPort: number;
  waitTimeoutMs: number;
  /** How long the update scan may take (Watchtower answers once it has pulled and recreated). */
  triggerTimeoutMs: number;
  /** A further check once the containers are healthy (e.g. the device service's /health). */
  verify?: ((device: { address: string }) => Promise<void>) | undefined;
  log: (message: string) => void;
}

export interface ServiceChange {
  service: string;
  from: string | undefined;
  to: string | undefined;
}

export interface UpdateResult {
  services: ServiceChange[];
}

/** The device failed its check; `rolledBack` says whether it runs its previous digests again. */
export class DeviceUpdateError extends Error {
  override name = "DeviceUpdateError";
  constructor(
    message: string,
    readonly rolledBack: boolean,
    readonly services: ServiceChange[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const pinOf = (r: RunningService) => r.digest ?? r.imageId;

/**
 * The names Watchtower's `image=` filter compares with: the classic rule cuts the container's
 * image name at its first ":" (pkg/filters FilterByImage), which also cuts a registry's port
 * off; newer releases compare the repository. Both are sent, so either release matches.
 */
export function imageFilter(imageRefs: readonly string[]): string[] {
  const names = new Set<string>();
  for (const ref of imageRefs) {
    const bare = ref.split("@")[0]!;
    names.add(bare.split(":")[0]!);
    const slash = bare.lastIndexOf("/");
    const colon = bare.lastIndexOf(":");
    names.add(colon > slash ? bare.slice(0, colon) : bare);
  }
  return [...names].sort();
}

/**
 * `curl --config -`: the URL and the Authorization header come on stdin, so the token is on no
 * command line. Prints the HTTP status.
 */
export function triggerCommand(timeoutMs: number) {
  return redirect(
    cmd(
      "curl",
      "--silent",
      "--show-error",
      "--max-time",
      String(Math.ceil(timeoutMs / 1000)),
      "--output",
      "/dev/null",
      "--write-out",
      "%{http_code}",
      "--config",
      "-",
    ),
    { stderr: "stdout" },
  );
}

export function triggerConfig(
  address: string,
  port: number,
  images: readonly string[],
  token: string,
) {
  const host = address.includes(":") ? `[${address}]` : address;
  const query = images.length > 0 ? `?image=${images.map(encodeURIComponent).join(",")}` : "";
  if (!/^[\x21-\x7e]+$/.test(token) || token.includes('"') || token.includes("\\")) {
    throw new Error("the Watchtower token has characters a curl config line cannot carry");
  }
  return `url = "http://${host}:${port}/v1/update${query}"\nheader = "Authorization: Bearer ${token}"\n`;
}

async function triggerHttp(remote: Remote, facts: DeviceFacts, images: string[], plan: UpdatePlan) {
  const out = await remote.tryRun(triggerCommand(plan.triggerTimeoutMs), {
    stdin: triggerConfig(facts.address, plan.apiPort, images, plan.token ?? ""),
    timeoutMs: plan.triggerTimeoutMs + 10_000,
  });
  const status = out.stdout.trim().slice(-3);
  if (status === "200") return;
  const where = `${facts.address}:${plan.apiPort}`;
  if (status === "401") {
    throw new Error(`Watchtower on ${where} rejected the token (401)`);
  }
  if (out.code === 127) throw new Error("curl is not installed on the device");
  throw new Error(
    `Watchtower's API on ${where} did not answer the update (${status === "000" ? out.stdout.trim().slice(0, -3).trim() || "no answer" : `HTTP ${status}`}); run the action with mode: setup first`,
  );
}

/** What a device runs before its update: read only, so it can be taken ahead of the update. */
export interface DeviceRecord {
  facts: DeviceFacts;
  services: string[];
  before: RunningService[];
}

/** Reads the device's facts, its app services and what they run (changes nothing). */
export async function recordDevice(
  remote: Remote,
  project: DeviceProject,
  log: (message: string) => void,
): Promise<DeviceRecord> {
  const facts = await deviceFacts(remote, project);
  // Independent reads, concurrent over the one connection.
  const [services, running] = await Promise.all([
    appServices(remote, project, facts.tool),
    captureRunning(remote, project.projectName),
  ]);
  const before = running.filter((r) => services.includes(r.service));
  log(
    `running: ${before.map((r) => `${r.service} ${pinOf(r).split("@").pop()?.slice(0, 19)}`).join(", ") || "nothing"}`,
  );
  return { facts, services, before };
}

/**
 * Triggers the update of a recorded device (Watchtower's API, or pull and up over SSH) and
 * checks the stack. When the check fails, every app service is pinned back to the digest it
 * ran before and the device is reported failed.
 */
export async function updateDevice(
  remote: Remote,
  project: DeviceProject,
  plan: UpdatePlan,
  record?: DeviceRecord,
): Promise<UpdateResult> {
  const { facts, services, before } = record ?? (await recordDevice(remote, project, plan.log));
  const changes = (after: RunningService[]): ServiceChange[] =>
    services.map((service) => ({
      service,
      from: before.find((r) => r.service === service)?.digest,
      to: after.find((r) => r.service === service)?.digest,
    }));
  const unpinned = composeProject(project, facts.tool);
  try {
    if (facts.pinned) {
      // Follow the tags again: a rollback had pinned the services to digests.
      await remote.run(cmd("rm", "-f", "--", `${project.projectDir}/${PINS_FILE}`));
      plan.log("removed the rollback pins");
    }
    if (plan.trigger === "ssh") {
      const pulled = await remote.tryRun(pull(unpinned, services));
      if (pulled.code !== 0)
        throw new Error(
          `compose pull failed: ${pulled.stderr.trim().split("\n").slice(-3).join(" ")}`,
        );
      await remote.run(up(unpinned, { services }));
      const recreated = await recreateStale(remote, unpinned, services);
      if (recreated.length > 0) {
        plan.log(`recreated ${recreated.join(", ")}: Compose's labels named an older image`);
      }
    } else {
      // The references Watchtower is to update: what runs, unless that was pinned to digests
      // and has just been brought back to its tags.
      let refs = before.map((r) => r.imageRef);
      if (facts.pinned) {
        await remote.run(up(unpinned, { services }));
        refs = (await captureRunning(remote, project.projectName))
          .filter((r) => services.includes(r.service))
          .map((r) => r.imageRef);
      }
      await triggerHttp(remote, facts, imageFilter(refs), plan);
    }
    const watched = await watchProject(remote, project.projectName, {
      services,
      timeoutMs: plan.waitTimeoutMs,
      maxPollMs: 500,
    });
    await plan.verify?.({ address: facts.address });
    return { services: changes(await describeRunning(remote, watched.containers)) };
  } catch (error) {
    const reason = (error as Error).message;
    const pins = before
      .filter((r) => r.digest !== undefined)
      .map((r) => ({ service: r.service, digest: r.digest! }));
    if (pins.length === 0) {
      throw new DeviceUpdateError(
        `${reason} (nothing recorded to roll back to)`,
        false,
        changes([]),
        {
          cause: error,
        },
      );
    }
    plan.log(`check failed: ${reason}; pinning the previous digests back`);
    try {
      await remote.run(ensureDirs(project));
      await remote.writeFile(`${project.projectDir}/${PINS_FILE}`, pinnedOverride(pins), 0o644);
      await remote.run(up(composeProject(project, facts.tool, { pins: true }), { services }));
      const watched = await watchProject(remote, project.projectName, {
        services,
        timeoutMs: plan.waitTimeoutMs,
      });
      const now = await describeRunning(remote, watched.containers);
      throw new DeviceUpdateError(
        `${reason}; rolled back to the previous digests`,
        true,
        changes(now),
        {
          cause: error,
        },
      );
    } catch (rollbackError) {
      if (rollbackError instanceof DeviceUpdateError) throw rollbackError;
      throw new DeviceUpdateError(
        `${reason}; the rollback failed too: ${(rollbackError as Error).message}`,
        false,
        changes([]),
        { cause: error },
      );
    }
  }
}

export { API_PORT_IN_CONTAINER, repositoryOf, WATCHTOWER_SERVICE };
