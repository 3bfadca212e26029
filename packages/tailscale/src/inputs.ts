import {
  getInputs,
  type InputDef,
  InputError,
  type InputSource,
  type Inputs,
  input,
} from "@smoker/action-kit";
import { parseCaCertificates } from "@smoker/health";
import {
  type ConnectOptions,
  connectionInputs,
  connectOptionsFrom,
  type RemoteLog,
} from "@smoker/remote";
import { ConfigError, type DesiredEntry, parseDesired } from "./desired.js";

/** An input parsed by `parse`, which throws InputError itself. */
function parsedWith<T>(kind: string, parse: (raw: string) => T): InputDef<T, false> {
  return { kind, required: false, secret: false, default: undefined, parse };
}

const ADDRESS = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,252}$/;

/**
 * The inputs of funnel-config's action.yml, by their names there (the smoker CLI's funnel flags
 * too). Every one is parsed before anything connects.
 */
export const funnelInputSpec = {
  ...connectionInputs,
  // Parsed from the raw text: trimming would shift the first line of an indented YAML block.
  config: parsedWith("config", (raw): DesiredEntry[] => {
    try {
      return parseDesired(raw);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new InputError("config", error.message, {
        hint: "Each entry: `- port: 443` (funnel: 443, 8443 or 10000), `target: 80` (a port, host:port or URL on localhost), optionally `path: /api` and `funnel: true`.",
      });
    }
  }),
  "reset-others": input.boolean({ default: false }),
  verify: input.boolean({ default: true }),
  "verify-timeout": input.duration({ default: "60s", min: "1s", max: "30m" }),
  "verify-address": input.string({ pattern: ADDRESS }),
  "verify-ca-certificate": parsedWith("verify-ca-certificate", (raw): string => {
    try {
      return parseCaCertificates(raw).join("\n");
    } catch (error) {
      throw new InputError("verify-ca-certificate", (error as Error).message);
    }
  }),
} as const;

export type FunnelInputs = Inputs<typeof funnelInputSpec>;

export interface FunnelSettings {
  connection: ConnectOptions;
  desired: DesiredEntry[];
  resetOthers: boolean;
  verify: FunnelVerifySettings | undefined;
}

export interface FunnelVerifySettings {
  timeoutMs: number;
  address: string | undefined;
  caCertificate: string | undefined;
}

/**
 * Reads and checks every input; throws InputError before anything connects. `mask: false` is
 * for the CLI: outside a runner `::add-mask::` would print the secret itself.
 */
export function readFunnelInputs(
  source?: InputSource,
  log?: RemoteLog,
  options: { mask?: boolean } = {},
): FunnelSettings {
  const i = getInputs(funnelInputSpec, source, options);
  if (i.config === undefined) {
    throw new InputError("config", "is required: the list of ports to serve", {
      hint: "For example:\nconfig: |\n  - port: 443\n    target: 80\n    funnel: true",
    });
  }
  return {
    connection: connectOptionsFrom(i, log),
    desired: i.config,
    resetOthers: i["reset-others"],
    verify: i.verify
      ? {
          timeoutMs: i["verify-timeout"],
          address: i["verify-address"],
          caCertificate: i["verify-ca-certificate"],
        }
      : undefined,
  };
}
