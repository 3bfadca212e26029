import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { getInputs, InputError, type InputSource, input, runIdentity } from "@smoker/action-kit";
import { captureRunning } from "@smoker/compose";
import {
  DeployError,
  deploy,
  describeHolder,
  inspectCommand,
  listReleases,
  parseLockState,
  readDeployInputs,
  readRollbackInputs,
  rollback,
} from "@smoker/deploy";
import { notify, readNotifyInputs } from "@smoker/discord";
import { checksFromUrls, waitUntilHealthy } from "@smoker/health";
import { connect, connectOptionsFrom, getConnectionInputs, type Remote } from "@smoker/remote";
import { fleetCommand, fleetUsage } from "./fleet.js";
import { funnelCommand, funnelUsage } from "./funnel.js";
import { provisionCommand, provisionUsage } from "./provision.js";
import { type Output, terminalReporter } from "./reporter.js";

/** `smoker health` takes the health-gate inputs it needs, parsed the same way. */
const healthSpec = {
  urls: input.list({ required: true, separator: "comma-or-newline" }),
  timeout: input.duration({ default: "120s", min: "1s", max: "6h" }),
  "success-threshold": input.integer({ default: 2, min: 1, max: 100 }),
} as const;

const USAGE = `smoker COMMAND [--flag value ...]

The same steps as the actions, from a terminal. Flags are named like the action inputs
(--host, --compose-files, --version, --wait-timeout, ...); lists take newline- or
comma-separated values.

  deploy     deploy-compose: lock, stage, record, pull, up, watch, roll back on failure
  rollback   bring a recorded release back by digest (--to previous | DEPLOYMENT-ID)
  health     wait until --urls answer healthy (--timeout, --success-threshold)
  releases   list the releases recorded on the host (--project-name)
  lock       show who holds the deploy lock (--project-name)
  notify     discord-notify: post (or, with --message-id, edit) a deploy notice
             (--webhook-url-file, --status, --environment, --version, --details, ...)
${funnelUsage}
${fleetUsage}
${provisionUsage}

Connection: --host --port --username --host-fingerprint | --known-hosts-file,
  --private-key-file (the key never goes on the command line), --passphrase-file.
Any input can be read from a file with --NAME-file; secret inputs only from files.
Secrets for the stack: --env-file FILE (KEY=VALUE lines, written to the host's .env as 0600).
Config: --config FILE (JSON: {"targets": {"dev": {"host": ..., "host-fingerprint": ...,
  "private-key-file": ...}}}) with --target NAME; flags win over the config.
`;

export interface CliIo extends Output {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** Runs one smoker command; resolves to the process exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help") {
    io.out(USAGE);
    return command ? 0 : 2;
  }
  let flags: Record<string, string>;
  try {
    flags = parseFlags(rest, io.cwd);
  } catch (error) {
    io.err(`smoker ${command}: ${(error as Error).message}\n`);
    return 2;
  }
  const source = sourceFrom(flags, io.cwd);
  const report = terminalReporter(io);
  let remote: Remote | undefined;
  try {
    switch (command) {
      case "deploy": {
        const i = readDeployInputs(source, io.cwd, report, { mask: false });
        remote = await report.phase(`Connect to ${i.connection.host}`, () => connect(i.connection));
        const files = i.composeFiles.map((f) => ({ name: f.name, content: readFileSync(f.local) }));
        const result = await deploy(
          remote,
          {
            ...i,
            files,
            by: runIdentity(io.env),
            ...(i.compose === "auto" ? {} : { prefer: i.compose }),
          },
          report,
        ).catch((error: unknown) => {
          if (error instanceof DeployError && error.result)
            report.table(servicesTable(error.result.services));
          throw error;
        });
        report.table(servicesTable(result.services));
        io.out(`deployed ${result.deploymentId} in ${(result.durationMs / 1000).toFixed(1)} s\n`);
        return 0;
      }
      case "rollback": {
        const i = readRollbackInputs(source, report, { mask: false });
        remote = await report.phase(`Connect to ${i.connection.host}`, () => connect(i.connection));
        const result = await rollback(
          remote,
          { ...i, by: runIdentity(io.env), ...(i.compose === "auto" ? {} : { prefer: i.compose }) },
          report,
        );
        report.table(servicesTable(result.services));
        io.out(
          `rolled back to ${result.rolledBackTo.id} in ${(result.durationMs / 1000).toFixed(1)} s\n`,
        );
        return 0;
      }
      case "health": {
        const i = getInputs(healthSpec, source, { mask: false });
        const result = await report.phase("Check health", () =>
          waitUntilHealthy(checksFromUrls(i.urls), {
            timeoutMs: i.timeout,
            successThreshold: i["success-threshold"],
          }),
        );
        for (const c of result.checks) {
          io.out(
            `${c.healthy ? "healthy" : "UNHEALTHY"}  ${c.url}  attempts ${c.attempts}${c.lastError ? `  ${c.lastError}` : ""}\n`,
          );
        }
        return result.healthy ? 0 : 1;
      }
      case "notify": {
        const settings = readNotifyInputs(source, { mask: false });
        const id = await report.phase("Notify Discord", () => notify(settings, report, io.env));
        io.out(`message ${id}\n`);
        return 0;
      }
      case "funnel":
        return await funnelCommand(source, io, report);
      case "fleet":
        return await fleetCommand(source, io, report);
      case "provision":
        return await provisionCommand(source, io, report);
      case "releases":
      case "lock": {
        const project = flags["project-name"];
        if (!project || !/^[a-z0-9][a-z0-9_-]*$/.test(project)) {
          throw new InputError("project-name", "is required and must be a Compose project name");
        }
        const dir = flags["project-dir"] ?? `/opt/${project}`;
        const options = connectOptionsFrom(getConnectionInputs(source, { mask: false }), report);
        remote = await connect(options);
        if (command === "lock") {
          const state = parseLockState((await remote.tryRun(inspectCommand(dir))).stdout);
          io.out(
            state.held
              ? `held by ${describeHolder(state.holder)}, ${state.ageSeconds} s ago\n`
              : "free\n",
          );
          return 0;
        }
        const records = await listReleases(remote, dir);
        const running = new Map(
          (await captureRunning(remote, project)).map((r) => [r.service, r.imageId]),
        );
        // The running release: what runs is exactly its services at its images (a failed
        // release's record may lack the service that never came up).
        const runs = (services: { service: string; imageId?: string | undefined }[]) =>
          services.length === running.size &&
          services.every((s) => running.get(s.service) === s.imageId);
        report.table([
          ["release", "version", "status", "services"],
          ...records.map((r) => [
            `${runs(r.services) ? "* " : "  "}${r.id}`,
            r.version,
            r.status,
            r.services
              .map((s) => `${s.service}@${s.digest?.split("@")[1]?.slice(7, 19) ?? "local"}`)
              .join(" "),
          ]),
        ]);
        return 0;
      }
      default:
        io.err(`smoker: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    const e = error as Error & { hint?: unknown };
    io.err(`\n✗ ${e.message}\n${typeof e.hint === "string" ? `  ${e.hint}\n` : ""}`);
    return 1;
  } finally {
    remote?.close();
  }
}

/** `--name value`, `--name=value`, or a bare `--name` (true). Flags are named like inputs. */
export function parseFlags(args: string[], cwd: string): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let k = 0; k < args.length; k++) {
    const arg = args[k]!;
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!match)
      throw new Error(`unexpected argument ${JSON.stringify(arg)} (flags look like --name value)`);
    const [, name, inline] = match as unknown as [string, string, string | undefined];
    if (inline !== undefined) flags[name] = inline;
    else if (k + 1 < args.length && !args[k + 1]!.startsWith("--")) flags[name] = args[++k]!;
    else flags[name] = "true";
  }
  if (flags.config) {
    const config = JSON.parse(readFileSync(resolve(cwd, flags.config), "utf8")) as {
      targets?: Record<string, Record<string, string | number>>;
    };
    const target = flags.target;
    if (target) {
      const entry = config.targets?.[target];
      if (!entry) throw new Error(`--target ${target} is not in ${flags.config}`);
      for (const [k, v] of Object.entries(entry)) flags[k] ??= String(v);
    }
  }
  return flags;
}

/** Inputs of the actions that are secrets: the CLI reads them from files only. */
export const SECRET_INPUTS = new Set([
  "private-key",
  "passphrase",
  "env",
  "webhook-url",
  "token-secret",
  "watchtower-token",
]);

/** Inputs by their action names; secrets come from files, never from flag values. */
export function sourceFrom(flags: Record<string, string>, cwd: string): InputSource {
  return (name) => {
    // Any input can come from a file (--NAME-file): its text, or its one line without the
    // line break (a passphrase or token must not end in one).
    const path = flags[`${name}-file`];
    if (path) {
      const text = readFileSync(resolve(cwd, path), "utf8");
      return /^[^\n]*\n?$/.test(text) ? text.trimEnd() : text;
    }
    // A secret on the command line would be in the shell's history and every process list.
    return SECRET_INPUTS.has(name) ? "" : (flags[name] ?? "");
  };
}

function servicesTable(
  services: {
    service: string;
    image: string;
    digest: string | undefined;
    msToHealthy: number | undefined;
  }[],
): string[][] {
  return [
    ["service", "image", "digest", "healthy after"],
    ...services.map((s) => [
      s.service,
      s.image,
      s.digest?.split("@")[1]?.slice(0, 19) ?? "(local image)",
      s.msToHealthy === undefined ? "" : `${(s.msToHealthy / 1000).toFixed(1)} s`,
    ]),
  ];
}
