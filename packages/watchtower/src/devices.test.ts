import { describe, expect, it } from "vitest";
import { DeviceListError, devicesFromList, devicesWithTag } from "./devices.js";

// Shaped like `tailscale status --json` (ipnstate.Status): Peer is keyed by node key.
const status = JSON.stringify({
  BackendState: "Running",
  Self: { HostName: "runner", TailscaleIPs: ["100.64.0.1"], Tags: ["tag:ci"], Online: true },
  Peer: {
    "nodekey:a": {
      HostName: "pi-kitchen",
      DNSName: "pi-kitchen.tail1234.ts.net.",
      TailscaleIPs: ["100.64.0.7", "fd7a:115c:a1e0::7"],
      Tags: ["tag:device"],
      Online: true,
    },
    "nodekey:b": {
      HostName: "pi-garage",
      DNSName: "pi-garage.tail1234.ts.net.",
      TailscaleIPs: ["fd7a:115c:a1e0::8", "100.64.0.8"],
      Tags: ["tag:device", "tag:other"],
      Online: false,
    },
    "nodekey:c": { HostName: "laptop", TailscaleIPs: ["100.64.0.9"], Online: true },
  },
});

describe("devicesWithTag", () => {
  it("lists the tagged peers by name with their IPv4 address and online state", () => {
    expect(devicesWithTag(status, "tag:device")).toEqual([
      { name: "pi-garage", address: "100.64.0.8", online: false },
      { name: "pi-kitchen", address: "100.64.0.7", online: true },
    ]);
  });

  it("does not count the runner itself, and finds nothing for an unknown tag", () => {
    expect(devicesWithTag(status, "tag:ci")).toEqual([]);
    expect(devicesWithTag(JSON.stringify({ Peer: null }), "tag:device")).toEqual([]);
  });

  it("rejects output that is not JSON", () => {
    expect(() => devicesWithTag("not json", "tag:device")).toThrow(DeviceListError);
  });
});

describe("devicesFromList", () => {
  it("tries every listed device", () => {
    expect(devicesFromList(["pi-1"])).toEqual([{ name: "pi-1", address: "pi-1", online: true }]);
  });
});
