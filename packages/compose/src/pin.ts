import { checkServiceName } from "./commands.js";
import { ComposeError } from "./errors.js";

export interface ServicePin {
  service: string;
  /** "repo@sha256:<64 hex>", as captureRunning returns it. */
  digest: string;
}

const DIGEST_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._:/-]*@sha256:[0-9a-f]{64}$/;

/**
 * The text of a compose override file that pins each service's image to a digest; given as
 * the last `-f`, it wins over the `image:` of the files before it. No `version:` key: Compose
 * v2 warns that it is obsolete, and v1 (1.29) merges a file without one into files of any 2.x
 * or 3.x version. Values are JSON strings, which YAML reads as double-quoted scalars.
 */
export function pinnedOverride(pins: readonly ServicePin[]): string {
  if (pins.length === 0) throw new ComposeError("No services to pin");
  const seen = new Set<string>();
  const lines = [
    "# Written by smoker: each service pinned to the image digest of a release.",
    "services:",
  ];
  for (const { service, digest } of pins) {
    checkServiceName(service);
    if (seen.has(service)) throw new ComposeError(`Service ${service} is pinned twice`);
    seen.add(service);
    if (!DIGEST_REFERENCE.test(digest)) {
      throw new ComposeError(
        `Cannot pin ${service} to ${JSON.stringify(digest)}: not an image digest reference`,
        {
          hint: "A pin is repository@sha256:<64 hex digits>, as `docker image inspect` lists in RepoDigests.",
        },
      );
    }
    lines.push(`  ${JSON.stringify(service)}:`, `    image: ${JSON.stringify(digest)}`);
  }
  return `${lines.join("\n")}\n`;
}
