import * as core from "@actions/core";

/**
 * Registers `value` with the runner's log masker: the whole value and, separately, each
 * non-empty line of it, because the runner matches masks line by line and a multi-line
 * secret (a private key) is only hidden when every line is registered on its own.
 *
 * GitHub already masks values that came from `secrets.*`, but inputs may also come from
 * `vars`, step outputs or files, and forms derived from a secret (base64, a URL with a
 * token) are never known to it. So every non-empty string is masked, however short.
 */
export function maskLines(value: string): void {
  const seen = new Set<string>();
  for (const candidate of [value.trim(), ...value.split(/\r?\n/).map((line) => line.trim())]) {
    if (candidate === "" || seen.has(candidate)) continue;
    seen.add(candidate);
    core.setSecret(candidate);
  }
}
