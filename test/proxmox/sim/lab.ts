// Materialising simulated guests as lab hosts: hooks for startPveSimulator's onStart/onStop
// that tie a guest (by vmid) to a lab host, so that "the guest started and has its IP" means a
// real sshd and dockerd answer at that IP, and provisioning chains into a real deploy.
import { connect } from "node:net";
import type { Lab, LabHost } from "../../lab/lab.js";
import { labCommand } from "../../lab/lab.js";
import type { SimGuest, SimOptions } from "./api.js";

/** The guest's static IPv4 address as its config states it (lxc net0 ip=, qemu ipconfig0 ip=). */
export function guestAddress(guest: SimGuest): string | undefined {
  const source = guest.type === "lxc" ? guest.config.net0 : guest.config.ipconfig0;
  const ip = /(?:^|,)ip=([^,/]+)\/\d+/.exec(String(source ?? ""))?.[1];
  return ip;
}

function portAnswers(ip: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export interface MaterialiseOptions {
  /** vmid -> lab host name, e.g. { 104: "dev-cloud" }. */
  hosts: Record<number, string>;
  /**
   * Also stop/start the host's sshd when the guest stops/starts (`lab.sh refuse|accept`). A
   * fault: only on a lab of the test's own, never on the shared one.
   */
  toggleSshd?: boolean;
  /** How long a start waits for the host's SSH port (default 10 s). */
  sshWaitMs?: number;
  /** LAB_DIR etc. for lab.sh when toggleSshd is on. */
  env?: Record<string, string>;
}

/**
 * onStart/onStop hooks: a start fails (and with it the start task) unless the guest's configured
 * address is its lab host's and the host's SSH port answers.
 */
export function materialiseGuests(
  lab: Lab,
  options: MaterialiseOptions,
): Pick<SimOptions, "onStart" | "onStop"> {
  const hostOf = (guest: SimGuest): LabHost | undefined => {
    const name = options.hosts[guest.vmid];
    return name === undefined ? undefined : lab.hosts.find((h) => h.name === name);
  };
  return {
    onStart: async (guest) => {
      const host = hostOf(guest);
      if (!host) return; // not materialised: a purely simulated guest
      const ip = guestAddress(guest);
      if (ip !== host.ip) {
        throw new Error(
          `guest ${guest.vmid} is configured with address ${ip ?? "(none)"}, but its lab host ${host.name} is at ${host.ip}`,
        );
      }
      if (options.toggleSshd) {
        const r = labCommand(["accept", host.name], options.env);
        if (r.status !== 0) throw new Error(`lab.sh accept ${host.name} failed: ${r.stderr}`);
      }
      const deadline = Date.now() + (options.sshWaitMs ?? 10_000);
      while (!(await portAnswers(host.ip, host.port, 1000))) {
        if (Date.now() > deadline) {
          throw new Error(`lab host ${host.name} (${host.ip}:${host.port}) does not answer on SSH`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    onStop: async (guest) => {
      const host = hostOf(guest);
      if (!host || !options.toggleSshd) return;
      const r = labCommand(["refuse", host.name], options.env);
      if (r.status !== 0) throw new Error(`lab.sh refuse ${host.name} failed: ${r.stderr}`);
    },
  };
}
