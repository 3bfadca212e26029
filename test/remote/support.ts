import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { type ConnectOptions, connect, type Remote } from "@smoker/remote";
import { type Lab, type LabHost, loadLab } from "../lab/lab.js";

/** The lab as it is now (re-read: fault switches such as rotate-key rewrite it). */
export function lab(): Lab {
  return loadLab();
}

export function host(name = "dev-cloud"): LabHost {
  const h = lab().hosts.find((x) => x.name === name);
  if (!h) throw new Error(`the lab has no host ${name}`);
  return h;
}

export function clientKey(): string {
  return readFileSync(lab().clientKey, "utf8");
}

/** Connect options for a lab host, pinned to its current fingerprint unless overridden. */
export function options(h: LabHost, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    host: h.ip,
    port: h.port,
    username: h.user,
    privateKey: clientKey(),
    hostKeys: { fingerprints: [h.fingerprint] },
    connectTimeoutMs: 5_000,
    ...extra,
  };
}

/** Opens a pinned connection, runs `fn`, closes it. */
export async function withRemote<T>(h: LabHost, fn: (r: Remote) => Promise<T>): Promise<T> {
  const remote = await connect(options(h));
  try {
    return await fn(remote);
  } finally {
    remote.close();
  }
}

/** Lines sshd logged for successful logins so far (to prove a refused key never got that far). */
export function acceptedLogins(h: LabHost): number {
  const log = readFileSync(`${lab().dir}/hosts/${h.name}/sshd.log`, "utf8");
  return log.split("\n").filter((l) => l.includes("Accepted publickey")).length;
}

/** Samples every process's command line on this machine (lab hosts share its pid namespace). */
export function sampleCmdlines() {
  const child = spawn(
    "sh",
    [
      "-c",
      'while :; do for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f"; echo; done 2>/dev/null; echo "--sample--"; done',
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  let text = "";
  child.stdout.on("data", (d: Buffer) => {
    text += d.toString();
  });
  return {
    stop: () =>
      new Promise<{ text: string; count: number }>((resolve) => {
        child.on("close", () => resolve({ text, count: text.split("--sample--").length - 1 }));
        child.kill("SIGKILL");
      }),
  };
}
