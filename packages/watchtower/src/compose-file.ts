import { ComposeError } from "@smoker/compose";

/** Labels Watchtower reads (docs/container-selection.md, docs/running-multiple-instances.md). */
export const LABELS = {
  enable: "com.centurylinklabs.watchtower.enable",
  scope: "com.centurylinklabs.watchtower.scope",
  /** Marks Watchtower's own container. */
  self: "com.centurylinklabs.watchtower",
} as const;

/** The files setup writes beside the project's own compose files. */
export const WATCHTOWER_FILE = "docker-compose.watchtower.yml";
export const TOKEN_FILE = ".watchtower.env";
export const WATCHTOWER_SERVICE = "watchtower";
/** Where Watchtower's HTTP API listens in its container (pkg/api: ListenAndServe(":8080")). */
export const API_PORT_IN_CONTAINER = 8080;

export interface WatchtowerSettings {
  image: string;
  scope: string;
  /** Seconds between polls (`--interval`), or a 6-field cron `schedule`: one of the two. */
  pollSeconds?: number;
  schedule?: string;
  /** The app services Watchtower may update (they get the enable and scope labels). */
  services: readonly string[];
  /** The device's own address on the tailnet: the API is published there only. */
  apiAddress: string;
  apiPort: number;
  /** The engine's socket on the device. */
  dockerSocket: string;
}

/**
 * Watchtower's command line. `--cleanup` is never given: the old images must stay on the
 * device for a rollback by digest. The token is not here: it goes in the 0600 env file.
 */
export function watchtowerCommand(
  s: Pick<WatchtowerSettings, "scope" | "pollSeconds" | "schedule">,
) {
  if ((s.pollSeconds === undefined) === (s.schedule === undefined)) {
    throw new ComposeError("Watchtower takes a poll interval or a schedule, exactly one of them");
  }
  return [
    "--label-enable",
    "--scope",
    s.scope,
    "--http-api-update",
    "--http-api-periodic-polls",
    ...(s.schedule !== undefined
      ? ["--schedule", s.schedule]
      : ["--interval", String(s.pollSeconds)]),
  ];
}

const q = (value: string) => JSON.stringify(value);

/** The compose override that adds Watchtower to the project and labels the app services. */
export function watchtowerOverride(s: WatchtowerSettings): string {
  const lines = [
    "# Written by smoker pi-watchtower: Watchtower for this project, and the labels that let it",
    "# update the app services. Rewritten by the setup mode; edit the action's inputs instead.",
    "services:",
  ];
  for (const service of s.services) {
    lines.push(
      `  ${q(service)}:`,
      "    labels:",
      `      ${q(LABELS.enable)}: "true"`,
      `      ${q(LABELS.scope)}: ${q(s.scope)}`,
    );
  }
  const address = s.apiAddress.includes(":") ? `[${s.apiAddress}]` : s.apiAddress;
  lines.push(
    `  ${q(WATCHTOWER_SERVICE)}:`,
    `    image: ${q(s.image)}`,
    "    restart: unless-stopped",
    `    command: [${watchtowerCommand(s).map(q).join(", ")}]`,
    `    env_file: [${q(TOKEN_FILE)}]`,
    `    volumes: [${q(`${s.dockerSocket}:/var/run/docker.sock`)}]`,
    `    ports: [${q(`${address}:${s.apiPort}:${API_PORT_IN_CONTAINER}`)}]`,
    "    labels:",
    `      ${q(LABELS.self)}: "true"`,
    `      ${q(LABELS.enable)}: "false"`,
    `      ${q(LABELS.scope)}: ${q(s.scope)}`,
  );
  return `${lines.join("\n")}\n`;
}

/** The 0600 env file: the API token, read by Watchtower from WATCHTOWER_HTTP_API_TOKEN. */
export function tokenEnvFile(token: string): string {
  return `WATCHTOWER_HTTP_API_TOKEN=${token}\n`;
}
