import { and, cmd, or, type Script } from "@smoker/remote";
import type { CommandRunner, ComposeTool } from "./commands.js";
import { ComposeError } from "./errors.js";

export interface DetectOptions {
  /** Which flavour to try first: "v2" (`docker compose`, default) or "v1" (`docker-compose`). */
  prefer?: "v1" | "v2";
  /** Use only the preferred flavour; fail if the host lacks it (default false: fall back). */
  strict?: boolean;
}

interface Candidate {
  argv: readonly string[];
  /** Printed after the version when this candidate answered, so the output says which one did. */
  marker: string;
}

const PLUGIN: Candidate = { argv: ["docker", "compose"], marker: "smoker:compose-plugin" };
const STANDALONE: Candidate = { argv: ["docker-compose"], marker: "smoker:compose-standalone" };

function candidates(options: DetectOptions): Candidate[] {
  const order = options.prefer === "v1" ? [STANDALONE, PLUGIN] : [PLUGIN, STANDALONE];
  return options.strict ? order.slice(0, 1) : order;
}

/**
 * One round trip for every candidate: `{ docker compose version --short && echo MARKER; } ||
 * { docker-compose version --short && echo MARKER; }`. The marker names the binary that answered;
 * the version alone cannot, since a standalone `docker-compose` may be Compose v2.
 */
export function detectCommand(options: DetectOptions = {}): Script {
  const [first, ...others] = candidates(options).map((c) =>
    and(cmd(c.argv[0]!, ...c.argv.slice(1), "version", "--short"), cmd("echo", c.marker)),
  );
  return others.length === 0 ? first! : or(first!, ...others);
}

/** Reads detectCommand's output; undefined when no candidate answered. */
export function parseDetection(stdout: string): ComposeTool | undefined {
  const lines = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  for (let i = 1; i < lines.length; i++) {
    const candidate = [PLUGIN, STANDALONE].find((c) => c.marker === lines[i]);
    if (candidate === undefined) continue;
    const version = lines[i - 1]!.replace(/^v/, "");
    const major = /^(\d+)\./.exec(version)?.[1];
    if (major === undefined) return undefined;
    return { kind: Number(major) >= 2 ? "v2" : "v1", version, argv: candidate.argv };
  }
  return undefined;
}

/** Finds the Compose on a host: the v2 plugin unless told to prefer v1. */
export async function detectCompose(
  remote: CommandRunner,
  options: DetectOptions = {},
): Promise<ComposeTool> {
  const result = await remote.tryRun(detectCommand(options));
  const tool = result.code === 0 ? parseDetection(result.stdout) : undefined;
  if (tool !== undefined) return tool;
  const tried = candidates(options)
    .map((c) => `\`${c.argv.join(" ")}\``)
    .join(" and ");
  const output = `${result.stderr}${result.stdout}`.trim();
  throw new ComposeError(
    `No Docker Compose found on the host (tried ${tried})${output ? `: ${output}` : ""}`,
    {
      hint:
        options.strict && options.prefer === "v1"
          ? "Install docker-compose on the host, or drop the v1 preference to use `docker compose`."
          : "Install the Compose plugin on the host (Debian/Ubuntu: `apt-get install docker-compose-plugin` from Docker's repository, or `docker-compose-v2`), then check with `docker compose version`.",
    },
  );
}
