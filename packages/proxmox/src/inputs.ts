import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import {
  getInputs,
  type InputDef,
  InputError,
  type InputSource,
  type Inputs,
  input,
} from "@smoker/action-kit";
import { SpecError } from "./errors.js";
import { snapshotName } from "./snapshots.js";
import { type GuestSpec, parseGuestsSpec } from "./spec.js";
import { parseFingerprint, parsePemCertificates, type TlsTrust } from "./tls.js";

export const MODES = ["plan", "apply", "snapshot", "rollback-snapshot", "backup"] as const;
export type Mode = (typeof MODES)[number];

/** An optional input parsed by `parse`, which throws InputError itself. */
function parsedWith<T>(kind: string, parse: (raw: string) => T): InputDef<T, false> {
  return { kind, required: false, secret: false, default: undefined, parse };
}

// pve-access-control: USER@REALM!TOKENNAME, the token name [A-Za-z][A-Za-z0-9._-]+.
const TOKEN_ID = /[^\s:@!]+@[A-Za-z][A-Za-z0-9._-]*![A-Za-z][A-Za-z0-9._-]+/;
// pve-node: a host name label.
const NODE = /[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?/;

/**
 * The inputs of provision-proxmox's action.yml, by their names there (the smoker CLI's
 * `provision` flags too). Every one is parsed before any request.
 */
export const provisionInputSpec = {
  mode: input.enum(MODES, { default: "plan" }),
  "api-url": parsedWith("api-url", (raw): string => {
    const text = raw.trim();
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new InputError("api-url", "must be a URL like https://pve.example.lan:8006/api2/json", {
        value: text,
      });
    }
    if (url.protocol !== "https:") {
      throw new InputError("api-url", "must use https (Proxmox serves its API over TLS only)", {
        value: text,
      });
    }
    if (url.username !== "" || url.password !== "") {
      throw new InputError("api-url", "must not carry credentials: use token-id and token-secret");
    }
    return text;
  }),
  "token-id": input.string({ required: true, pattern: TOKEN_ID }),
  "token-secret": input.string({ required: true, secret: true }),
  node: input.string({ required: true, pattern: NODE }),
  "tls-fingerprint": parsedWith("tls-fingerprint", (raw): string[] => {
    const lines = raw
      .split(/[\n,]/)
      .map((l) => l.trim())
      .filter((l) => l !== "");
    return lines.map((line) => {
      try {
        return parseFingerprint(line);
      } catch (error) {
        throw new InputError("tls-fingerprint", (error as Error).message, { value: line });
      }
    });
  }),
  "ca-certificate": parsedWith("ca-certificate", (raw): string[] => {
    try {
      return parsePemCertificates(raw);
    } catch (error) {
      throw new InputError("ca-certificate", (error as Error).message);
    }
  }),
  "insecure-tls": input.boolean({ default: false }),
  spec: input.string({ default: "infra/proxmox/guests.yml" }),
  guests: input.list({ separator: "comma-or-newline" }),
  version: input.string({ maxLength: 200 }),
  snapshot: input.string({ pattern: /[a-zA-Z][a-zA-Z0-9_-]{1,39}/ }),
  "keep-snapshots": input.integer({ default: 5, min: 1, max: 100 }),
  "backup-storage": input.string({ default: "local", pattern: /[a-zA-Z][a-zA-Z0-9_.-]*/ }),
  "backup-mode": input.enum(["snapshot", "suspend", "stop"] as const, { default: "snapshot" }),
  "wait-for": input.enum(["ssh", "address", "none"] as const, { default: "ssh" }),
  "wait-timeout": input.duration({ default: "5m", min: "1s", max: "2h" }),
  "task-timeout": input.duration({ default: "30m", min: "1s", max: "12h" }),
} as const;

export type ProvisionInputs = Inputs<typeof provisionInputSpec>;

export interface ProvisionSettings {
  mode: Mode;
  apiUrl: string;
  tokenId: string;
  tokenSecret: string;
  node: string;
  trust: TlsTrust;
  specPath: string;
  /** The spec's guests this run acts on (all, or those named by `guests`). */
  guests: GuestSpec[];
  /** All guests of the spec (plan/apply report guests the spec does not name). */
  allGuests: GuestSpec[];
  /** snapshot: the name to take; rollback-snapshot: the one to go back to (or the newest of ours). */
  snapshot: string | undefined;
  keepSnapshots: number;
  backupStorage: string;
  backupMode: "snapshot" | "suspend" | "stop";
  waitFor: "ssh" | "address" | "none";
  waitTimeoutMs: number;
  taskTimeoutMs: number;
}

function trustFrom(i: ProvisionInputs): TlsTrust {
  const chosen = [
    i["tls-fingerprint"] !== undefined ? "tls-fingerprint" : undefined,
    i["ca-certificate"] !== undefined ? "ca-certificate" : undefined,
    i["insecure-tls"] ? "insecure-tls" : undefined,
  ].filter((x) => x !== undefined);
  if (chosen.length > 1) {
    throw new InputError(
      chosen[1]!,
      `cannot be combined with ${chosen[0]}: pick one way to trust the node`,
    );
  }
  if (i["tls-fingerprint"] !== undefined)
    return { kind: "fingerprint", fingerprints: i["tls-fingerprint"] };
  if (i["ca-certificate"] !== undefined) return { kind: "ca", certificates: i["ca-certificate"] };
  if (i["insecure-tls"]) return { kind: "insecure" };
  // A node with a publicly trusted certificate (ACME) needs neither.
  return { kind: "system" };
}

function readSpec(path: string, workspace: string): { file: string; guests: GuestSpec[] } {
  const file = isAbsolute(path) ? path : resolve(workspace, path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(
      "spec",
      `names a file that cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      {
        value: path,
        hint: "Paths are relative to the workspace; check out the repository first (actions/checkout).",
      },
    );
  }
  try {
    return { file, guests: parseGuestsSpec(text).guests };
  } catch (error) {
    if (error instanceof SpecError) {
      throw new InputError("spec", `(${path}): ${error.field} ${error.rule}`);
    }
    throw error;
  }
}

function selectGuests(
  all: GuestSpec[],
  names: string[] | undefined,
  specPath: string,
): GuestSpec[] {
  if (names === undefined) return all;
  return names.map((name) => {
    const found = all.find((g) => g.name === name || String(g.vmid) === name);
    if (found === undefined) {
      throw new InputError(
        "guests",
        `names ${JSON.stringify(name)}, which ${specPath} does not have`,
        {
          hint: `Known: ${all.map((g) => `${g.name} (${g.vmid})`).join(", ")}`,
        },
      );
    }
    return found;
  });
}

export interface ReadProvisionOptions {
  /**
   * Mask the token secret (core.setSecret). Default true; the CLI passes false, since outside a
   * runner `::add-mask::` would print the secret itself.
   */
  mask?: boolean;
  /** Where a relative `spec` path starts: default GITHUB_WORKSPACE, else the current directory. */
  workspace?: string;
}

/** Reads and checks every input, and the spec file; throws InputError before any request. */
export function readProvisionInputs(
  source?: InputSource,
  options: ReadProvisionOptions = {},
): ProvisionSettings {
  const i = getInputs(provisionInputSpec, source, { mask: options.mask ?? true });
  if (i["api-url"] === undefined) {
    throw new InputError("api-url", "is required", {
      hint: "The node's API, e.g. https://pve.example.lan:8006/api2/json",
    });
  }
  const trust = trustFrom(i);
  const workspace = options.workspace ?? process.env.GITHUB_WORKSPACE ?? process.cwd();
  const { guests: allGuests } = readSpec(i.spec, workspace);
  const guests = selectGuests(allGuests, i.guests, i.spec);
  if (i.mode !== "snapshot" && i.mode !== "rollback-snapshot") {
    // Reject what would be silently ignored, so a wrong mode is noticed.
    if (i.snapshot !== undefined)
      throw new InputError(
        "snapshot",
        `is only for snapshot and rollback-snapshot (mode is ${i.mode})`,
      );
  }
  let snapshot: string | undefined = i.snapshot;
  if (i.mode === "snapshot" && snapshot === undefined) {
    if (i.version === undefined) {
      throw new InputError("version", "is required with mode snapshot (or give snapshot)", {
        hint: "The snapshot is named pre-deploy-<version>, e.g. the release tag being deployed",
      });
    }
    snapshot = snapshotName(i.version);
  }
  if (i.mode === "rollback-snapshot" && snapshot === undefined && i.version !== undefined) {
    snapshot = snapshotName(i.version);
  }
  return {
    mode: i.mode,
    apiUrl: i["api-url"],
    tokenId: i["token-id"],
    tokenSecret: i["token-secret"],
    node: i.node,
    trust,
    specPath: i.spec,
    guests,
    allGuests,
    snapshot,
    keepSnapshots: i["keep-snapshots"],
    backupStorage: i["backup-storage"],
    backupMode: i["backup-mode"],
    waitFor: i["wait-for"],
    waitTimeoutMs: i["wait-timeout"],
    taskTimeoutMs: i["task-timeout"],
  };
}
