// How Proxmox wants parameters (see /work/shared/proxmox/contract-facts.json, read from
// pve-http-server AnyEvent.pm extract_params and pve-common JSONSchema.pm): form bodies, booleans
// exactly 1/0 ("true" fails the type check), qemu `sshkeys` percent-encoded inside the value.

export type ParamValue = string | number | boolean;
export type Params = Readonly<Record<string, ParamValue | undefined>>;

/** One value as Proxmox parses it: booleans 1/0, numbers in decimal. */
export function paramText(value: ParamValue): string {
  if (typeof value === "boolean") return value ? "1" : "0";
  return String(value);
}

/**
 * `application/x-www-form-urlencoded` with %20 for spaces (never `+`, which the server would
 * have to guess about), keys in the order given, undefined values left out.
 */
export function formEncode(params: Params): string {
  return Object.entries(params)
    .filter((entry): entry is [string, ParamValue] => entry[1] !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(paramText(value))}`)
    .join("&");
}

/**
 * The qemu `sshkeys` value: the keys one per line, percent-encoded as the web UI does it
 * (encodeURIComponent, `%0A` between keys). Proxmox stores and returns it still encoded; a
 * form body then encodes it a second time on the wire (`%` becomes `%25`).
 */
export function encodeSshKeys(keys: readonly string[]): string {
  return encodeURIComponent(keys.join("\n"));
}

/** The keys of a qemu `sshkeys` config value (encoded as Proxmox returns it). */
export function decodeSshKeys(value: string): string[] {
  let text: string;
  try {
    text = decodeURIComponent(value);
  } catch {
    text = value;
  }
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** A Proxmox property string (`name=eth0,bridge=vmbr0,ip=10.0.0.5/24`) as ordered pairs. */
export function parsePropertyString(text: string): Array<[string, string]> {
  return text
    .split(",")
    .filter((part) => part !== "")
    .map((part) => {
      const at = part.indexOf("=");
      return at < 0 ? [part, ""] : [part.slice(0, at), part.slice(at + 1)];
    });
}

export function formatPropertyString(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([key, value]) => (value === "" ? key : `${key}=${value}`)).join(",");
}

/** Sets (or adds at the end) keys of a property string, keeping the others in place. */
export function updatePropertyString(
  text: string,
  updates: Readonly<Record<string, string | undefined>>,
): string {
  const pairs = parsePropertyString(text);
  for (const [key, value] of Object.entries(updates)) {
    const at = pairs.findIndex(([k]) => k === key);
    if (value === undefined) {
      if (at >= 0) pairs.splice(at, 1);
    } else if (at >= 0) {
      pairs[at] = [key, value];
    } else {
      pairs.push([key, value]);
    }
  }
  return formatPropertyString(pairs);
}

export function propertyOf(text: string | undefined, key: string): string | undefined {
  if (text === undefined) return undefined;
  return parsePropertyString(text).find(([k]) => k === key)?.[1];
}

/** Size text (`8G`, `512M`, `1T`, `8` = GiB) in MiB, or undefined when unreadable. */
export function sizeToMiB(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)([KMGT])?$/i.exec(text.trim());
  if (!match) return undefined;
  const factor = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 }[
    (match[2] ?? "G").toUpperCase() as "K" | "M" | "G" | "T"
  ];
  return Number(match[1]) * factor;
}

/** Tags as Proxmox keeps them: lower case, sorted, unique, joined by `;`. */
export function normaliseTags(tags: readonly string[] | string | undefined): string[] {
  const list = typeof tags === "string" ? tags.split(/[;,\s]+/) : (tags ?? []);
  return [...new Set(list.map((t) => t.trim().toLowerCase()).filter((t) => t !== ""))].sort();
}
