// Named formats of the PVE schema, checked as pve-common src/PVE/JSONSchema.pm (and the
// qemu-server/pve-storage/pve-access-control formats the action's endpoints use) check them:
// same regexes, same die() messages. Formats the action never sends are accepted unchecked.
import type { PropSchema } from "./schema.js";

/** A die() inside a format check; `errors` when it is a "format error" of a property string. */
export class FormatError extends Error {
  constructor(
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
  }
}

const fail = (msg: string): never => {
  throw new FormatError(`${msg}\n`);
};

const IPV4 = String.raw`(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const isIpv4 = (s: string) => new RegExp(`^${IPV4}$`).test(s);
function isIpv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(":")) return false;
  try {
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}
const cidr = (s: string, v6: boolean) => {
  const m = /^(.+)\/(\d+)$/.exec(s);
  if (!m) return false;
  const bits = Number(m[2]);
  return (v6 ? isIpv6(m[1]!) : isIpv4(m[1]!)) && bits > 7 && bits <= (v6 ? 128 : 32);
};
const DNS_LABEL = "[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?";
const isDnsName = (s: string) => new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`).test(s);
const CONTENT_TYPES = ["images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import"];

/** PVE::Tools::split_list. */
export function splitList(text: string): string[] {
  if (text.includes("\0")) return text.split("\0");
  return text
    .replace(/[,;]/g, " ")
    .trim()
    .split(/\s+/)
    .filter((s) => s !== "");
}

const validators: Record<string, (v: string) => void> = {
  string: () => {},
  urlencoded: (v) => {
    if (!/^[-%a-zA-Z0-9_.!~*'()]*$/.test(v)) fail(`invalid urlencoded string: ${v}`);
  },
  "pve-configid": (v) => {
    if (!/^[a-z][a-z0-9_-]+$/i.test(v)) fail(`invalid configuration ID '${v}'`);
  },
  "pve-storage-id": (v) => {
    if (!/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v))
      fail(`storage ID '${v}' contains illegal characters`);
  },
  "pve-bridge-id": (v) => {
    if (!/^[-_.\w\d]+$/.test(v)) fail(`invalid bridge ID '${v}'`);
  },
  "pve-vmid": (v) => {
    if (!/^[1-9][0-9]{2,8}$/.test(v)) fail("value does not look like a valid VM ID");
  },
  "pve-node": (v) => {
    if (!/^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/.test(v)) {
      fail("value does not look like a valid node name");
    }
  },
  "mac-addr": (v) => {
    if (!/^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i.test(v)) {
      fail("value does not look like a valid unicast MAC address");
    }
  },
  ipv4: (v) => {
    if (!isIpv4(v)) fail("value does not look like a valid IPv4 address");
  },
  ipv6: (v) => {
    if (!isIpv6(v)) fail("value does not look like a valid IPv6 address");
  },
  ip: (v) => {
    if (!isIpv4(v) && !isIpv6(v)) fail("value does not look like a valid IP address");
  },
  CIDR: (v) => {
    if (!cidr(v, false) && !cidr(v, true)) fail("value does not look like a valid CIDR network");
  },
  CIDRv4: (v) => {
    if (!cidr(v, false)) fail("value does not look like a valid IPv4 CIDR network");
  },
  CIDRv6: (v) => {
    if (!cidr(v, true)) fail("value does not look like a valid IPv6 CIDR network");
  },
  "pve-ipv4-config": (v) => {
    if (!/^(?:dhcp|manual)$/.test(v) && !cidr(v, false)) {
      fail("value does not look like a valid ipv4 network configuration");
    }
  },
  "pve-ipv6-config": (v) => {
    if (!/^(?:auto|dhcp|manual)$/.test(v) && !cidr(v, true)) {
      fail("value does not look like a valid ipv6 network configuration");
    }
  },
  email: (v) => {
    if (!/^[\w+\-~]+(\.[\w+\-~]+)*@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/.test(v)) {
      fail("value does not look like a valid email address");
    }
  },
  "email-or-username": (v) => {
    if (
      !/^[\w+\-~]+(\.[\w+\-~]+)*@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/.test(v) &&
      !/^[\w+\-~.]+$/.test(v)
    ) {
      fail("value does not look like a valid email address or user name");
    }
  },
  "dns-name": (v) => {
    if (!isDnsName(v)) fail("value does not look like a valid DNS name");
  },
  address: (v) => {
    if (!isIpv4(v) && !isIpv6(v) && !isDnsName(v)) {
      fail(`value does not look like a valid address: ${v}`);
    }
  },
  "disk-size": (v) => {
    if (!/^(\d+(\.\d+)?)([KMGT])?$/.test(v))
      fail(`value does not look like a valid disk size: ${v}`);
  },
  "pve-startup-order": (v) => {
    const ok =
      v !== "" &&
      v.split(",").every((p) => /^\s*$/.test(p) || /^((order=)?\d+|up=\d+|down=\d+)$/.test(p));
    if (!ok) fail("unable to parse startup options");
  },
  "pve-tag": (v) => {
    if (!/^[a-z0-9_][a-z0-9_\-+.]*$/i.test(v)) fail("invalid characters in tag");
  },
  "pve-task-status-type": (v) => {
    if (!/^(ok|error|warning|unknown)$/i.test(v)) fail(`invalid status '${v}'`);
  },
  // pve-access-control PVE::AccessControl: pool ids, realms, user ids.
  "pve-poolid": (v) => {
    if (!/^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+){0,2}$/.test(v)) {
      fail(`pool name '${v}' contains illegal characters`);
    }
  },
  "pve-realm": (v) => {
    if (!/^[A-Za-z][A-Za-z0-9.\-_]+$/.test(v)) fail(`realm '${v}' contains illegal characters`);
  },
  "pve-userid": (v) => {
    if (!/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(v) || v.length > 64) {
      fail(`value '${v}' does not look like a valid user name`);
    }
  },
  // pve-storage PVE::Storage::parse_volume_id.
  "pve-volume-id": (v) => {
    if (!/^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.test(v)) fail(`unable to parse volume ID '${v}'`);
  },
  "pve-storage-content": (v) => {
    if (!CONTENT_TYPES.includes(v)) fail(`invalid content type '${v}'`);
  },
};

/** Hash-based named formats (qemu-server): parsed as property strings. */
const propertyFormats: Record<string, Record<string, PropSchema>> = {
  // qemu-server PVE::QemuServer $ipconfig_fmt (keys ip, gw, ip6, gw6).
  "pve-qm-ipconfig": {
    ip: { type: "string", format: "pve-ipv4-config", optional: 1 },
    gw: { type: "string", format: "ipv4", optional: 1 },
    ip6: { type: "string", format: "pve-ipv6-config", optional: 1 },
    gw6: { type: "string", format: "ipv6", optional: 1 },
  },
};

export function namedPropertyFormat(name: string): Record<string, PropSchema> | undefined {
  return propertyFormats[name];
}

/** check_format for a named format, "<name>-list" or "<name>-opt". */
export function checkNamedFormat(format: string, value: string): void {
  if (format === "regex") return;
  const m = /^(.*?)(?:-(list|opt))?$/.exec(format)!;
  const name = m[1]!;
  const kind = m[2];
  const validate = validators[name];
  if (!validate) return; // a format the action does not send: accepted unchecked
  if (kind === "list") {
    for (const v of splitList(value)) validate(v);
  } else if (kind === "opt") {
    if (value) validate(value);
  } else {
    validate(value);
  }
}
