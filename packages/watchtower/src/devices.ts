/**
 * Devices by name, or by a Tailscale tag from `tailscale status --json` on the runner.
 * The fields read are those of Tailscale's ipnstate.Status / PeerStatus: Peer (a map of
 * peers), HostName, DNSName (FQDN ending with a dot), TailscaleIPs, Tags (ACL tags, omitted
 * when none) and Online (connected to the control plane).
 */
export interface Device {
  /** What the log and the outputs call it. */
  name: string;
  /** What SSH connects to. */
  address: string;
  /** False when Tailscale already knows the device is offline (no connection is tried). */
  online: boolean;
}

export class DeviceListError extends Error {
  override name = "DeviceListError";
}

interface Peer {
  HostName?: unknown;
  DNSName?: unknown;
  TailscaleIPs?: unknown;
  Tags?: unknown;
  Online?: unknown;
}

/** The peers of `status` that carry `tag`, sorted by name; IPv4 address first. */
export function devicesWithTag(statusJson: string, tag: string): Device[] {
  let status: { Peer?: Record<string, Peer> | null; Self?: Peer };
  try {
    status = JSON.parse(statusJson);
  } catch {
    throw new DeviceListError("`tailscale status --json` did not print JSON");
  }
  if (typeof status !== "object" || status === null) {
    throw new DeviceListError("`tailscale status --json` printed no status object");
  }
  const peers = Object.values(status.Peer ?? {});
  const devices: Device[] = [];
  for (const peer of peers) {
    const tags = Array.isArray(peer.Tags) ? peer.Tags : [];
    if (!tags.includes(tag)) continue;
    const ips = (Array.isArray(peer.TailscaleIPs) ? peer.TailscaleIPs : []).filter(
      (ip): ip is string => typeof ip === "string",
    );
    const address = ips.find((ip) => !ip.includes(":")) ?? ips[0];
    const dns = typeof peer.DNSName === "string" ? peer.DNSName.replace(/\.$/, "") : "";
    const name =
      (typeof peer.HostName === "string" && peer.HostName) || dns.split(".")[0] || address;
    if (address === undefined || !name) continue;
    devices.push({ name, address, online: peer.Online === true });
  }
  return devices.sort((a, b) => a.name.localeCompare(b.name));
}

/** Devices from a list of hosts: tried, whatever their state. */
export function devicesFromList(hosts: readonly string[]): Device[] {
  return hosts.map((host) => ({ name: host, address: host, online: true }));
}
