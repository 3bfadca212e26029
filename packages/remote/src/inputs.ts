import { getInputs, InputError, type InputSource, type Inputs, input } from "@smoker/action-kit";
import { parseFingerprints, parseKnownHosts } from "./internal/host-keys.js";
import type { ConnectOptions, RemoteLog } from "./ssh.js";

const HOST = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,252}$/;

/** The connection inputs every SSH action shares (names are part of the public interface). */
export const connectionInputs = {
  host: input.string({ required: true, pattern: HOST }),
  port: input.integer({ default: 22, min: 1, max: 65535 }),
  username: input.string({ default: "root", pattern: /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/ }),
  "private-key": input.string({ required: true, secret: true }),
  passphrase: input.string({ secret: true }),
  "known-hosts": input.string({}),
  "host-fingerprint": input.list({ separator: "comma-or-newline" }),
  "insecure-skip-host-key-check": input.boolean({ default: false }),
  "connect-timeout": input.duration({ default: "20s", min: "1s", max: "10m" }),
} as const;

export type ConnectionInputs = Inputs<typeof connectionInputs>;

/**
 * Turns parsed connection inputs into connect options, applying the rules that span inputs.
 * Throws InputError before anything connects.
 */
export function connectOptionsFrom(i: ConnectionInputs, log?: RemoteLog): ConnectOptions {
  const key = i["private-key"];
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(key)) {
    throw new InputError(
      "private-key",
      "must be a private key in OpenSSH or PEM format, BEGIN and END lines included",
      {
        secret: true,
      },
    );
  }
  let fingerprints: string[] | undefined;
  if (i["host-fingerprint"]?.length) {
    try {
      fingerprints = parseFingerprints(i["host-fingerprint"].join("\n"));
    } catch (error) {
      throw new InputError("host-fingerprint", (error as Error).message);
    }
  }
  const knownHosts = i["known-hosts"];
  if (knownHosts !== undefined) {
    const parsed = parseKnownHosts(knownHosts);
    for (const bad of parsed.invalid) {
      log?.warn(
        `known-hosts line ${bad.line} is not a valid entry and is ignored (as ssh does): ${bad.reason}`,
      );
    }
    if (parsed.entries.length === 0) {
      throw new InputError(
        "known-hosts",
        "has no valid known_hosts line (expected: host key-type base64-key)",
      );
    }
  }
  const skip = i["insecure-skip-host-key-check"];
  if (!skip && !fingerprints && knownHosts === undefined) {
    throw new InputError(
      "host-fingerprint",
      "or known-hosts is required: host keys are verified by default",
      {
        hint: `On the host, run \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` and pass the SHA256:... it prints as host-fingerprint (or pass its known_hosts line as known-hosts).`,
      },
    );
  }
  return {
    host: i.host,
    port: i.port,
    username: i.username,
    // OpenSSH keys need their final newline, which input trimming removes.
    privateKey: key.endsWith("\n") ? key : `${key}\n`,
    ...(i.passphrase ? { passphrase: i.passphrase } : {}),
    hostKeys: skip
      ? "insecure-skip"
      : { ...(fingerprints ? { fingerprints } : {}), ...(knownHosts ? { knownHosts } : {}) },
    connectTimeoutMs: i["connect-timeout"],
    ...(log ? { log } : {}),
  };
}

/** Reads and checks the connection inputs of an action (for actions that need nothing else). */
export function getConnectionInputs(
  source?: InputSource,
  options: { mask?: boolean } = {},
): ConnectionInputs {
  return getInputs(connectionInputs, source, options);
}
