import { describe, expect, test } from "vitest";
import {
  decodeSshKeys,
  encodeSshKeys,
  formEncode,
  normaliseTags,
  sizeToMiB,
  updatePropertyString,
} from "./encode.js";
import { snapshotName } from "./snapshots.js";
import { parseUpid, taskSucceeded } from "./tasks.js";

describe("encoding", () => {
  test("booleans are 1/0, undefined left out, spaces %20", () => {
    expect(formEncode({ a: true, b: false, c: undefined, d: 4, e: "x y+z" })).toBe(
      "a=1&b=0&d=4&e=x%20y%2Bz",
    );
  });

  test("qemu sshkeys: percent-encoded like encodeURIComponent, %0A between keys, round-trips", () => {
    const keys = ["ssh-ed25519 AAAA+/= a@b", "ssh-rsa BBBB c"];
    const value = encodeSshKeys(keys);
    expect(value).toBe("ssh-ed25519%20AAAA%2B%2F%3D%20a%40b%0Assh-rsa%20BBBB%20c");
    // Within Proxmox's urlencoded format (pve-common pve_verify_urlencoded).
    expect(value).toMatch(/^[-%a-zA-Z0-9_.!~*'()]*$/);
    expect(decodeSshKeys(value)).toEqual(keys);
    expect(formEncode({ sshkeys: value })).toBe(
      "sshkeys=ssh-ed25519%2520AAAA%252B%252F%253D%2520a%2540b%250Assh-rsa%2520BBBB%2520c",
    );
  });

  test("property strings keep unknown keys and their order", () => {
    expect(
      updatePropertyString("name=eth0,bridge=vmbr1,hwaddr=BC:24:11:00:00:01,type=veth", {
        bridge: "vmbr0",
        ip: "10.0.0.2/24",
        tag: undefined,
      }),
    ).toBe("name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,type=veth,ip=10.0.0.2/24");
    expect(
      updatePropertyString("virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,tag=5", { tag: undefined }),
    ).toBe("virtio=BC:24:11:AA:BB:CC,bridge=vmbr0");
  });

  test("sizes and tags", () => {
    expect([sizeToMiB("8G"), sizeToMiB("512M"), sizeToMiB("1T"), sizeToMiB("x")]).toEqual([
      8192,
      512,
      1048576,
      undefined,
    ]);
    expect(normaliseTags("one, two;Three")).toEqual(["one", "three", "two"]);
  });
});

describe("snapshot names", () => {
  test.each([
    ["1.4.0", "pre-deploy-1-4-0"],
    ["v2.0.0-rc.1+build.5", "pre-deploy-v2-0-0-rc-1-build-5"],
    ["Release_2024 Q1", "pre-deploy-release_2024-q1"],
    ["0123456789abcdef0123456789abcdef01234567", "pre-deploy-0123456789abcdef0123456789abc"],
    ["1.0.0-----------------------------x", "pre-deploy-1-0-0-x"],
  ])("%s -> %s", (version, name) => {
    expect(snapshotName(version)).toBe(name);
    // pve-common's snapshot name rule: letter first, [a-z0-9_-], at most 40.
    expect(name).toMatch(/^[a-z][a-z0-9_-]{1,39}$/);
  });

  test("a version with nothing usable is refused", () => {
    expect(() => snapshotName("...")).toThrow(/nothing to name a snapshot after/);
  });
});

describe("tasks", () => {
  test("UPIDs parse as pve-common's pattern says", () => {
    expect(parseUpid("UPID:pve:00001234:00005678:AABBCCDD:vzcreate:100:root@pam:")).toEqual({
      upid: "UPID:pve:00001234:00005678:AABBCCDD:vzcreate:100:root@pam:",
      node: "pve",
      type: "vzcreate",
      id: "100",
    });
    expect(parseUpid("UPID:pve:1234:vzcreate")).toBeUndefined();
    expect(parseUpid(null)).toBeUndefined();
  });

  test("OK and WARNINGS pass; anything else is the error", () => {
    expect(
      ["OK", "WARNINGS: 2", "snapshot name 'x' already used", "unexpected status"].map(
        taskSucceeded,
      ),
    ).toEqual([true, true, false, false]);
  });
});
