import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { getInputs, InputError, type InputSource, input } from "@smoker/action-kit";
import { PROJECT_DIR_RULE, PROJECT_NAME_RULE, projectDirProblem } from "@smoker/deploy";
import {
  type ConnectOptions,
  connectionInputs,
  connectOptionsFrom,
  type RemoteLog,
} from "@smoker/remote";
import type { DeviceProject } from "./device.js";
import { type Device, DeviceListError, devicesFromList, devicesWithTag } from "./devices.js";

const { host: _host, ...connection } = connectionInputs;
const HOST = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,252}$/;
const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/;
const SERVICE = /^[a-zA-Z0-9._][a-zA-Z0-9._-]*$/;
const FILE = /^[A-Za-z0-9._][A-Za-z0-9._/-]{0,254}$/;

/** pi-watchtower's inputs (the CLI's `smoker fleet` flags have the same names). */
export const watchtowerInputSpec = {
  mode: input.enum(["setup", "update", "status"] as const, { default: "update" }),
  devices: input.list({}),
  "devices-tag": input.string({ pattern: /tag:[a-z0-9][a-z0-9-]{0,62}/ }),
  ...connection,
  "project-name": input.string({ required: true, pattern: PROJECT_NAME_RULE }),
  "project-dir": input.string({ pattern: PROJECT_DIR_RULE }),
  "compose-files": input.list({ default: ["docker-compose.yml"] }),
  services: input.list({ separator: "comma-or-newline" }),
  "watchtower-image": input.string({ default: "nickfedor/watchtower", pattern: IMAGE_REF }),
  "watchtower-token": input.string({ secret: true, pattern: /[A-Za-z0-9._~+/=-]{16,256}/ }),
  scope: input.string({ pattern: /[A-Za-z0-9][A-Za-z0-9_.-]{0,62}/ }),
  "poll-interval": input.duration({ min: "1m", max: "168h" }),
  schedule: input.string({ pattern: /(\S+\s+){5}\S+/ }),
  "api-port": input.integer({ default: 8080, min: 1, max: 65535 }),
  trigger: input.enum(["http", "ssh"] as const, { default: "http" }),
  "health-url": input.string({ pattern: /https?:\/\/\S+/ }),
  "wait-timeout": input.duration({ default: "120s", min: "1s", max: "1h" }),
  "offline-policy": input.enum(["pending", "fail"] as const, { default: "pending" }),
  concurrency: input.integer({ default: 4, min: 1, max: 64 }),
  "max-failures": input.integer({ default: 0, min: 0, max: 10_000 }),
} as const;

export interface WatchtowerInputs {
  mode: "setup" | "update" | "status";
  devices: Device[] | { tag: string };
  connect: (address: string) => ConnectOptions;
  connectTimeoutMs: number;
  project: DeviceProject;
  image: string;
  token: string | undefined;
  scope: string;
  pollSeconds: number | undefined;
  schedule: string | undefined;
  apiPort: number;
  trigger: "http" | "ssh";
  healthUrl: string | undefined;
  waitTimeoutMs: number;
  offlinePolicy: "pending" | "fail";
  concurrency: number;
  maxFailures: number;
}

/**
 * Every input read and checked before anything connects. `mask: false` is for the CLI: outside
 * a runner `::add-mask::` would print the token itself.
 */
export function readWatchtowerInputs(
  source?: InputSource,
  log?: RemoteLog,
  options: { mask?: boolean } = {},
): WatchtowerInputs {
  const i = getInputs(watchtowerInputSpec, source, options);
  const list = i.devices ?? [];
  const tag = i["devices-tag"];
  if (list.length === 0 && tag === undefined) {
    throw new InputError("devices", "or devices-tag is required", {
      hint: "List the devices' Tailscale names, one a line, or give devices-tag: tag:device.",
    });
  }
  if (list.length > 0 && tag !== undefined) {
    throw new InputError("devices", "and devices-tag cannot both be given");
  }
  for (const d of list) {
    if (!HOST.test(d))
      throw new InputError("devices", `lists ${JSON.stringify(d)}, not a host name or address`);
  }
  if (new Set(list).size !== list.length) throw new InputError("devices", "lists a device twice");
  // Checked once here with a stand-in host, so a bad key or fingerprint fails before any device.
  const check = (address: string) => connectOptionsFrom({ ...i, host: address }, log);
  check(list[0] ?? "device");

  const projectDir = (i["project-dir"] ?? `/opt/${i["project-name"]}`).replace(/\/+$/, "");
  const problem = projectDirProblem(projectDir);
  if (problem) throw new InputError("project-dir", problem);
  for (const f of i["compose-files"]) {
    if (!FILE.test(f) || f.split("/").includes("..")) {
      throw new InputError(
        "compose-files",
        `lists ${JSON.stringify(f)}, not a path inside project-dir`,
      );
    }
  }
  for (const s of i.services ?? []) {
    if (!SERVICE.test(s))
      throw new InputError("services", `lists ${JSON.stringify(s)}, which must match ${SERVICE}`);
  }
  if (i["poll-interval"] !== undefined && i.schedule !== undefined) {
    throw new InputError(
      "poll-interval",
      "and schedule cannot both be given (Watchtower takes one)",
    );
  }
  if (i["poll-interval"] !== undefined && i["poll-interval"] % 1000 !== 0) {
    throw new InputError("poll-interval", "must be whole seconds");
  }
  const token = i["watchtower-token"];
  if (
    token === undefined &&
    (i.mode === "setup" || (i.mode === "update" && i.trigger === "http"))
  ) {
    throw new InputError(
      "watchtower-token",
      `is required for mode: ${i.mode}${i.mode === "update" ? " with trigger: http" : ""}`,
      {
        hint: "Generate one (e.g. `openssl rand -hex 32`), store it as a secret and pass it to every mode.",
      },
    );
  }
  return {
    mode: i.mode,
    devices: tag !== undefined ? { tag } : devicesFromList(list),
    connect: check,
    connectTimeoutMs: i["connect-timeout"],
    project: {
      projectDir,
      projectName: i["project-name"],
      composeFiles: i["compose-files"],
      services: i.services,
    },
    image: i["watchtower-image"],
    token,
    scope: i.scope ?? i["project-name"],
    pollSeconds: i.schedule !== undefined ? undefined : (i["poll-interval"] ?? 3_600_000) / 1000,
    schedule: i.schedule,
    apiPort: i["api-port"],
    trigger: i.trigger,
    healthUrl: i["health-url"],
    waitTimeoutMs: i["wait-timeout"],
    offlinePolicy: i["offline-policy"],
    concurrency: i.concurrency,
    maxFailures: i["max-failures"],
  };
}

/** Resolves devices-tag through `tailscale status --json` on the runner. */
export async function resolveDevices(devices: WatchtowerInputs["devices"]): Promise<Device[]> {
  if (Array.isArray(devices)) return devices;
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)("tailscale", ["status", "--json"], {
      timeout: 30_000,
      maxBuffer: 32 * 1024 * 1024,
    }));
  } catch (error) {
    throw new InputError(
      "devices-tag",
      `needs \`tailscale status --json\` on the runner, which failed: ${(error as Error).message.split("\n")[0]}`,
      {
        hint: "Join the runner to the tailnet first (e.g. tailscale/github-action), or list devices by name.",
      },
    );
  }
  try {
    const found = devicesWithTag(stdout, devices.tag);
    if (found.length === 0) {
      throw new InputError("devices-tag", `matches no device of the tailnet (${devices.tag})`);
    }
    return found;
  } catch (error) {
    if (error instanceof DeviceListError) throw new InputError("devices-tag", error.message);
    throw error;
  }
}
