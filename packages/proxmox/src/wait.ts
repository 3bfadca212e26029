import { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { ProxmoxClient } from "./client.js";
import { guestAddresses } from "./guests.js";
import type { GuestSpec } from "./spec.js";

export interface ReadyOptions {
  timeoutMs: number;
  /** Also wait until the guest's SSH port accepts a TCP connection. */
  ssh: boolean;
  log: (message: string) => void;
  /** First pause between looks; it grows to 5 s. */
  pollMs?: number;
}

/** Resolves true when a TCP connection to host:port is accepted within timeoutMs. */
export function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.connect(port, host);
  });
}

/**
 * Waits until the guest reports the spec's address (qemu guest agent or lxc interfaces) and,
 * with `ssh`, until its SSH port answers. Returns the address.
 */
export async function waitUntilReachable(
  client: ProxmoxClient,
  node: string,
  spec: GuestSpec,
  options: ReadyOptions,
): Promise<string> {
  const deadline = Date.now() + options.timeoutMs;
  const wanted = spec.network.ip.split("/")[0]!;
  let pollMs = options.pollMs ?? 500;
  let seen: string[] = [];
  const pause = async () => {
    await sleep(pollMs);
    pollMs = Math.min(pollMs * 2, 5_000);
  };
  for (;;) {
    seen = await guestAddresses(client, node, spec.type, spec.vmid);
    if (seen.includes(wanted)) break;
    if (Date.now() + pollMs > deadline) {
      const how = spec.type === "qemu" ? "the QEMU guest agent" : "its interfaces";
      throw Object.assign(
        new Error(
          `${spec.name} did not report ${wanted} within ${Math.round(options.timeoutMs / 1000)} s (${how} showed ${seen.length === 0 ? "no address" : seen.join(", ")})`,
        ),
        {
          hint:
            spec.type === "qemu"
              ? "Is qemu-guest-agent installed and running in the guest, and does cloud-init apply ipconfig0?"
              : "Check the container's network (net0) and that it booted.",
        },
      );
    }
    await pause();
  }
  options.log(`${spec.name}: has ${wanted}`);
  if (!options.ssh) return wanted;
  pollMs = options.pollMs ?? 500;
  for (;;) {
    const left = deadline - Date.now();
    if (await tcpAnswers(wanted, spec.sshPort, Math.max(100, Math.min(3_000, left)))) break;
    if (Date.now() + pollMs > deadline) {
      throw Object.assign(
        new Error(
          `${spec.name} (${wanted}) did not accept connections on SSH port ${spec.sshPort} within ${Math.round(options.timeoutMs / 1000)} s`,
        ),
        { hint: "Check that sshd runs in the guest and that no firewall blocks the port." },
      );
    }
    await pause();
  }
  options.log(`${spec.name}: SSH port ${spec.sshPort} answers`);
  return wanted;
}
