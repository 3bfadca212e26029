/**
 * The `images` output of deploy-compose: `{"<service>": {"image": "<ref>", "digest":
 * "sha256:..." | null}, ...}` (see actions/deploy-compose/src/main.ts, `report`).
 */
export interface ServiceImage {
  service: string;
  image: string;
  /** The repo digest running, or null when the engine had none (a locally built image). */
  digest: string | null;
}

export class DeploymentJsonError extends Error {
  readonly rule: string;

  constructor(rule: string) {
    super(rule);
    this.name = "DeploymentJsonError";
    this.rule = rule;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses deploy-compose's `images` JSON into services in the order given. */
export function parseDeploymentImages(text: string): ServiceImage[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new DeploymentJsonError(
      "must be JSON: the images output of deploy-compose, {service: {image, digest}}",
    );
  }
  if (!isRecord(data)) {
    throw new DeploymentJsonError("must be a JSON object mapping each service to {image, digest}");
  }
  return Object.entries(data).map(([service, entry]) => {
    if (!isRecord(entry) || typeof entry.image !== "string") {
      throw new DeploymentJsonError(`has no image (a string) for service "${service}"`);
    }
    const digest = entry.digest ?? null;
    if (digest !== null && typeof digest !== "string") {
      throw new DeploymentJsonError(`has a digest for service "${service}" that is not a string`);
    }
    return { service, image: entry.image, digest };
  });
}
