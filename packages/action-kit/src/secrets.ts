import { maskLines } from "./internal/mask.js";

/**
 * Masks a value computed from a secret (a base64 form of a key, a URL carrying a token): the
 * whole value and each of its lines. Call it before the value can reach any log line.
 */
export function maskDerived(value: string): void {
  maskLines(value);
}
