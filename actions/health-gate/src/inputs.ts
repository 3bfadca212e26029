import {
  getInputs,
  type InputDef,
  InputError,
  type InputSource,
  type Inputs,
  input,
} from "@smoker/action-kit";
import { PROJECT_NAME_RULE } from "@smoker/deploy";
import {
  type Check,
  CheckSpecError,
  checksFromUrls,
  parseCaCertificates,
  parseChecks,
} from "@smoker/health";
import { type ConnectOptions, connectOptionsFrom, getConnectionInputs } from "@smoker/remote";

/** An optional input parsed by `parse`, which throws InputError itself. */
function parsedWith<T>(kind: string, parse: (raw: string) => T): InputDef<T, false> {
  return { kind, required: false, secret: false, default: undefined, parse };
}

function specErrorFor(name: string, error: unknown): unknown {
  if (!(error instanceof CheckSpecError)) return error;
  const rule = error.entry === undefined ? error.rule : `entry ${error.entry}: ${error.rule}`;
  return new InputError(name, rule);
}

const urlList = input.list();

/** The inputs of action.yml, by their names there. Every one is parsed before any request. */
export const spec = {
  // Parsed from the raw text: trimming would shift the first line of an indented YAML block.
  checks: parsedWith("checks", (raw): Check[] => {
    try {
      return parseChecks(raw);
    } catch (error) {
      throw specErrorFor("checks", error);
    }
  }),
  urls: parsedWith("urls", (raw): Check[] => {
    try {
      return checksFromUrls(urlList.parse(raw));
    } catch (error) {
      throw specErrorFor("urls", error);
    }
  }),
  timeout: input.duration({ default: "120s", min: "1s", max: "6h" }),
  interval: input.duration({ default: "250ms", min: "10ms", max: "5m" }),
  "success-threshold": input.integer({ default: 2, min: 1, max: 100 }),
  "ca-certificate": parsedWith("ca-certificate", (raw): string => {
    try {
      return parseCaCertificates(raw).join("\n");
    } catch (error) {
      throw new InputError("ca-certificate", (error as Error).message);
    }
  }),
  "insecure-tls": input.boolean({ default: false }),
  // With host, the stack's containers are watched too (the connection inputs of deploy-compose).
  host: input.string({}),
  "project-name": input.string({ pattern: PROJECT_NAME_RULE }),
  "stable-for": input.duration({ default: "0s", max: "1h" }),
} as const;

export type ActionInputs = Inputs<typeof spec>;

/** What the gate runs with, once the rules that span inputs hold. */
export interface GateSettings {
  checks: Check[];
  timeoutMs: number;
  intervalMs: number;
  successThreshold: number;
  caCertificate: string | undefined;
  insecureTls: boolean;
  /** Watch this project's containers over SSH while checking (fail fast on crash loops). */
  watch?: { connection: ConnectOptions; projectName: string; stableMs: number } | undefined;
}

const EXAMPLE = "checks: |\n  - url: http://10.0.0.5:3001/health\n    contains: ok";

/** Reads and checks every input; throws InputError before anything is requested. */
export function readInputs(source?: InputSource): GateSettings {
  const i = getInputs(spec, source);
  if (i.checks !== undefined && i.urls !== undefined) {
    throw new InputError("urls", "cannot be combined with checks", {
      hint: "List every endpoint in checks (a plain entry is just `- url: ...`).",
    });
  }
  const checks = i.checks ?? i.urls;
  if (checks === undefined) {
    throw new InputError("checks", "or urls is required: the gate needs something to check", {
      hint: `For example:\n${EXAMPLE}`,
    });
  }
  if (i["insecure-tls"] && i["ca-certificate"] !== undefined) {
    throw new InputError("insecure-tls", "cannot be true when ca-certificate is set", {
      hint: "Keep ca-certificate (certificates are then verified against it) and drop insecure-tls.",
    });
  }
  let watch: GateSettings["watch"];
  if (i.host === undefined && i["stable-for"] > 0) {
    throw new InputError("stable-for", "needs host and project-name: it watches the containers", {
      hint: "Add the connection inputs (host, private-key, host-fingerprint...) and project-name.",
    });
  }
  if (i.host !== undefined) {
    if (i["project-name"] === undefined) {
      throw new InputError(
        "project-name",
        "is required with host: it names the stack whose containers are watched",
      );
    }
    watch = {
      connection: connectOptionsFrom(getConnectionInputs(source)),
      projectName: i["project-name"],
      stableMs: i["stable-for"],
    };
  }
  return {
    checks,
    timeoutMs: i.timeout,
    intervalMs: i.interval,
    successThreshold: i["success-threshold"],
    caCertificate: i["ca-certificate"],
    insecureTls: i["insecure-tls"],
    watch,
  };
}
