import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { SpecError } from "./errors.js";
import { parseGuestsSpec } from "./spec.js";

const base =
  "name: a\n    vmid: 101\n    type: lxc\n    ostemplate: local:vztmpl/d.tar.zst\n    network: { ip: 10.0.0.2/24 }";
const one = (extra: string) => `guests:\n  - ${base}\n    ${extra}\n`;

function errorOf(text: string): SpecError {
  try {
    parseGuestsSpec(text);
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error("no error");
}

describe("parseGuestsSpec", () => {
  test("the repository's own spec: four guests, defaults applied", () => {
    const file = new URL("../../../infra/proxmox/guests.yml", import.meta.url);
    const { guests } = parseGuestsSpec(readFileSync(file, "utf8"));
    expect(guests.map((g) => [g.name, g.vmid, g.type, g.network.ip, g.network.gateway])).toEqual([
      ["github-runner", 103, "lxc", "10.20.0.103/24", "10.20.0.1"],
      ["dev-cloud", 104, "lxc", "10.20.0.104/24", "10.20.0.1"],
      ["prod-cloud", 106, "lxc", "10.20.0.106/24", "10.20.0.1"],
      ["smoker-vm", 9001, "qemu", "10.20.0.91/24", "10.20.0.1"],
    ]);
    expect(guests[3]).toMatchObject({ template: 9000, cores: 4, memory: 1024, startOnBoot: true });
  });

  test.each([
    [one("cores: 0"), "guests[0].cores", /whole number from 1/],
    [one("colour: red"), "guests[0].colour", /is not a known key/],
    [one("disk: 10GB"), "guests[0].disk", /size in GiB/],
    [one("tags: [Bad Tag]"), "guests[0].tags[0]", /Proxmox tag/],
    [one("ssh-keys: [not-a-key]"), "guests[0].ssh-keys[0]", /OpenSSH public key/],
    [one("template: 9000"), "guests[0].ostemplate", /cannot be combined with template/],
    [
      `guests:\n  - name: a\n    vmid: 101\n    type: lxc\n    template: 900\n    network: { ip: 10.0.0.2 }\n`,
      "guests[0].network.ip",
      /with its prefix length/,
    ],
    [
      `guests:\n  - name: a\n    vmid: 101\n    type: qemu\n    network: { ip: 10.0.0.2/24 }\n`,
      "guests[0].template",
      /is required/,
    ],
    [
      `guests:\n  - ${base}\n  - ${base.replace("name: a", "name: b")}\n`,
      "guests[1].vmid",
      /repeats guests\[0\]/,
    ],
    [`guests: []\n`, "guests", /at least one/],
    [`guests: [\n`, "(file)", /not valid YAML/],
  ])("rejects %#, naming %s", (text, field, rule) => {
    const error = errorOf(text);
    expect(error.field).toBe(field);
    expect(error.rule).toMatch(rule);
  });
});
