import { isIPv4 } from "node:net";
import { parse as parseYaml } from "yaml";
import { SpecError } from "./errors.js";

export type GuestType = "lxc" | "qemu";

export interface GuestNetwork {
  bridge: string;
  /** IPv4 with prefix, e.g. 10.20.0.11/24. */
  ip: string;
  gateway?: string | undefined;
  /** VLAN tag. */
  vlan?: number | undefined;
}

/** One guest of the spec, defaults applied. */
export interface GuestSpec {
  name: string;
  vmid: number;
  type: GuestType;
  /** Clone from this template guest. */
  template?: number | undefined;
  /** Or (lxc) create from this OS template volume, e.g. local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst. */
  ostemplate?: string | undefined;
  fullClone: boolean;
  storage?: string | undefined;
  cores: number;
  /** MiB. */
  memory: number;
  /** Root disk size in GiB. */
  diskGiB: number;
  network: GuestNetwork;
  sshKeys: string[];
  tags: string[];
  startOnBoot: boolean;
  sshPort: number;
  unprivileged: boolean;
}

export interface GuestsSpec {
  guests: GuestSpec[];
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const BRIDGE = /^[a-zA-Z][a-zA-Z0-9_.-]{0,15}$/;
const STORAGE = /^[a-z][a-z0-9_.-]*$/i;
const VOLID = /^[a-z][a-z0-9_.-]*:[^\s,;]+$/i;
const TAG = /^[a-z0-9_][a-z0-9_+.-]*$/;
const SSH_KEY =
  /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/;

const GUEST_KEYS = new Set([
  "name",
  "vmid",
  "type",
  "template",
  "ostemplate",
  "full-clone",
  "storage",
  "cores",
  "memory",
  "disk",
  "network",
  "ssh-keys",
  "tags",
  "start-on-boot",
  "ssh-port",
  "unprivileged",
]);
const NETWORK_KEYS = new Set(["bridge", "ip", "gateway", "vlan"]);

type Raw = Record<string, unknown>;

function isMap(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkKeys(map: Raw, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(map)) {
    if (!allowed.has(key)) {
      throw new SpecError(
        `${where}.${key}`,
        `is not a known key (known: ${[...allowed].join(", ")})`,
      );
    }
  }
}

function int(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new SpecError(
      field,
      `must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

function str(value: unknown, field: string, pattern: RegExp, rule: string): string {
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new SpecError(field, `${rule} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function bool(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") {
    throw new SpecError(field, `must be true or false (got ${JSON.stringify(value)})`);
  }
  return value;
}

function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new SpecError(field, "must be a list");
  return value;
}

/** `16G`, `16` (GiB) or `512M` (must still be whole GiB) into GiB. */
function diskGiB(value: unknown, field: string): number {
  const text = typeof value === "number" ? String(value) : value;
  const match = typeof text === "string" ? /^(\d+)\s*([GT]?)$/i.exec(text.trim()) : null;
  if (!match) {
    throw new SpecError(
      field,
      `must be a size in GiB like 16G or 1T (got ${JSON.stringify(value)})`,
    );
  }
  const gib = Number(match[1]) * (match[2]?.toUpperCase() === "T" ? 1024 : 1);
  if (gib < 1 || gib > 65536) throw new SpecError(field, "must be from 1G to 64T");
  return gib;
}

function cidr(value: unknown, field: string): string {
  const rule = "must be an IPv4 address with its prefix length, like 10.20.0.11/24";
  if (typeof value !== "string")
    throw new SpecError(field, `${rule} (got ${JSON.stringify(value)})`);
  const [address, prefix, extra] = value.split("/");
  const bits = Number(prefix);
  if (
    extra !== undefined ||
    !isIPv4(address ?? "") ||
    !/^\d{1,2}$/.test(prefix ?? "") ||
    bits < 1 ||
    bits > 32
  ) {
    throw new SpecError(field, `${rule} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function network(value: unknown, defaults: unknown, field: string): GuestNetwork {
  const merged = { ...(isMap(defaults) ? defaults : {}), ...(isMap(value) ? value : {}) };
  if (value !== undefined && !isMap(value))
    throw new SpecError(field, "must be a map (bridge, ip, gateway, vlan)");
  checkKeys(merged, NETWORK_KEYS, field);
  if (merged.ip === undefined)
    throw new SpecError(`${field}.ip`, "is required (a static address like 10.20.0.11/24)");
  const result: GuestNetwork = {
    bridge: str(
      merged.bridge ?? "vmbr0",
      `${field}.bridge`,
      BRIDGE,
      "must be a bridge name like vmbr0",
    ),
    ip: cidr(merged.ip, `${field}.ip`),
  };
  if (merged.gateway !== undefined) {
    if (typeof merged.gateway !== "string" || !isIPv4(merged.gateway)) {
      throw new SpecError(
        `${field}.gateway`,
        `must be an IPv4 address (got ${JSON.stringify(merged.gateway)})`,
      );
    }
    result.gateway = merged.gateway;
  }
  if (merged.vlan !== undefined) result.vlan = int(merged.vlan, `${field}.vlan`, 1, 4094);
  return result;
}

function guest(raw: unknown, defaults: Raw, index: number): GuestSpec {
  const where = `guests[${index}]`;
  if (!isMap(raw)) throw new SpecError(where, "must be a map with at least name, vmid and type");
  checkKeys(raw, GUEST_KEYS, where);
  const value = (key: string) => (raw[key] !== undefined ? raw[key] : defaults[key]);
  const field = (key: string) => `${where}.${key}`;
  const name = str(
    raw.name,
    field("name"),
    NAME,
    "must be a host name: lower-case letters, digits and dashes",
  );
  const vmid = int(raw.vmid, field("vmid"), 100, 999_999_999);
  const type = raw.type;
  if (type !== "lxc" && type !== "qemu") {
    throw new SpecError(field("type"), `must be lxc or qemu (got ${JSON.stringify(type)})`);
  }
  const spec: GuestSpec = {
    name,
    vmid,
    type,
    fullClone:
      value("full-clone") === undefined ? false : bool(value("full-clone"), field("full-clone")),
    cores: int(value("cores") ?? 1, field("cores"), 1, 512),
    memory: int(value("memory") ?? 512, field("memory"), 16, 4_194_304),
    diskGiB: diskGiB(value("disk") ?? "8G", field("disk")),
    network: network(raw.network, defaults.network, field("network")),
    sshKeys: list(value("ssh-keys") ?? [], field("ssh-keys")).map((key, i) =>
      str(
        key,
        `${field("ssh-keys")}[${i}]`,
        SSH_KEY,
        "must be one OpenSSH public key line (ssh-ed25519 AAAA... comment)",
      ),
    ),
    tags: list(value("tags") ?? [], field("tags")).map((tag, i) =>
      str(
        tag,
        `${field("tags")}[${i}]`,
        TAG,
        "must be a Proxmox tag: lower-case letters, digits, _ - + .",
      ),
    ),
    startOnBoot:
      value("start-on-boot") === undefined
        ? false
        : bool(value("start-on-boot"), field("start-on-boot")),
    sshPort: int(value("ssh-port") ?? 22, field("ssh-port"), 1, 65535),
    unprivileged:
      value("unprivileged") === undefined
        ? true
        : bool(value("unprivileged"), field("unprivileged")),
  };
  const storage = value("storage");
  if (storage !== undefined)
    spec.storage = str(storage, field("storage"), STORAGE, "must be a storage id like local-lvm");
  if (raw.template !== undefined)
    spec.template = int(raw.template, field("template"), 100, 999_999_999);
  if (raw.ostemplate !== undefined) {
    spec.ostemplate = str(
      raw.ostemplate,
      field("ostemplate"),
      VOLID,
      "must be a volume id like local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst",
    );
  }
  if (spec.template !== undefined && spec.ostemplate !== undefined) {
    throw new SpecError(
      field("ostemplate"),
      "cannot be combined with template: clone or create, not both",
    );
  }
  if (spec.template === undefined && spec.ostemplate === undefined) {
    throw new SpecError(
      field("template"),
      type === "lxc"
        ? "or ostemplate is required: what to make the guest from"
        : "is required: the vmid of the template to clone",
    );
  }
  if (type === "qemu" && spec.ostemplate !== undefined) {
    throw new SpecError(
      field("ostemplate"),
      "is for lxc guests only: a qemu guest is cloned from a template",
    );
  }
  if (type === "lxc" && spec.template !== undefined && raw["ssh-keys"] !== undefined) {
    // Proxmox takes ssh-public-keys only when creating a container, not on clone or config.
    throw new SpecError(
      field("ssh-keys"),
      "cannot be set on a cloned lxc guest (Proxmox accepts them only on create): bake them into the template",
    );
  }
  if (spec.template === vmid) throw new SpecError(field("template"), "must differ from vmid");
  return spec;
}

/** Parses and checks a guest spec (YAML text). Throws SpecError naming the field. */
export function parseGuestsSpec(text: string): GuestsSpec {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new SpecError("(file)", `is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!isMap(doc)) throw new SpecError("(file)", "must be a map with a guests list");
  checkKeys(doc, new Set(["defaults", "guests"]), "(top level)");
  const defaults = doc.defaults ?? {};
  if (!isMap(defaults)) throw new SpecError("defaults", "must be a map");
  checkKeys(
    defaults,
    new Set(
      [...GUEST_KEYS].filter(
        (k) => !["name", "vmid", "type", "template", "ostemplate"].includes(k),
      ),
    ),
    "defaults",
  );
  const raws = list(doc.guests, "guests");
  if (raws.length === 0) throw new SpecError("guests", "must list at least one guest");
  const guests = raws.map((raw, i) => guest(raw, defaults, i));
  const seen = {
    name: new Map<string, number>(),
    vmid: new Map<number, number>(),
    ip: new Map<string, number>(),
  };
  guests.forEach((g, i) => {
    for (const [key, v] of [
      ["name", g.name],
      ["vmid", g.vmid],
      ["ip", g.network.ip.split("/")[0]],
    ] as const) {
      const map = seen[key] as Map<string | number, number>;
      const before = map.get(v);
      if (before !== undefined) {
        throw new SpecError(
          `guests[${i}].${key === "ip" ? "network.ip" : key}`,
          `repeats guests[${before}]'s ${key} ${v}`,
        );
      }
      map.set(v, i);
    }
  });
  const vmids = new Set(guests.map((g) => g.vmid));
  guests.forEach((g, i) => {
    if (g.template !== undefined && vmids.has(g.template)) {
      throw new SpecError(
        `guests[${i}].template`,
        `names guest ${g.template} of this spec: a template is not a guest to converge`,
      );
    }
  });
  return { guests };
}
