import { InputError } from "@smoker/action-kit";
import { afterEach, describe, expect, test, vi } from "vitest";
import { readFunnelInputs } from "./inputs.js";

const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\ninputsecretmaterial\n-----END OPENSSH PRIVATE KEY-----\n";
const BASE: Record<string, string> = {
  host: "10.0.0.5",
  "private-key": KEY,
  "host-fingerprint": "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
  config: "- port: 443\n  target: 80\n  funnel: true\n- port: 8080\n  path: /api\n  target: 3001\n",
};
const from = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? "";

/** What went to stdout (where ::add-mask:: commands go) while `fn` ran. */
function stdoutOf(fn: () => void): string {
  const printed: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return printed.join("");
}

afterEach(() => vi.restoreAllMocks());

describe("readFunnelInputs", () => {
  test("parses the config and the defaults (verify on, 60 s, others left alone)", () => {
    const s = readFunnelInputs(from(BASE), undefined, { mask: false });
    expect(s.desired).toEqual([
      { port: 443, path: "/", target: "80", proxy: "http://127.0.0.1:80", funnel: true },
      {
        port: 8080,
        path: "/api",
        target: "3001",
        proxy: "http://127.0.0.1:3001",
        funnel: false,
      },
    ]);
    expect(s.resetOthers).toBe(false);
    expect(s.verify).toEqual({ timeoutMs: 60_000, address: undefined, caCertificate: undefined });
    expect(s.connection).toMatchObject({ host: "10.0.0.5", port: 22, username: "root" });
  });

  test("verify: false leaves nothing to probe; reset-others and verify-address are read", () => {
    expect(
      readFunnelInputs(from({ ...BASE, verify: "false" }), undefined, { mask: false }).verify,
    ).toBeUndefined();
    const s = readFunnelInputs(
      from({ ...BASE, "reset-others": "true", "verify-address": "10.0.0.9" }),
      undefined,
      { mask: false },
    );
    expect(s.resetOthers).toBe(true);
    expect(s.verify?.address).toBe("10.0.0.9");
  });

  test.each([
    [{ config: "" }, /Input "config" is required/],
    [{ config: "- port: 9000\n  target: 1\n  funnel: true\n" }, /funnel is only possible/],
    [{ "verify-address": "a b" }, /Input "verify-address"/],
    [{ "verify-timeout": "0s" }, /Input "verify-timeout"/],
    [{ "verify-ca-certificate": "not a pem" }, /Input "verify-ca-certificate"/],
  ])("%j is refused with an InputError", (patch, message) => {
    const read = () => readFunnelInputs(from({ ...BASE, ...patch }), undefined, { mask: false });
    expect(read).toThrow(InputError);
    expect(read).toThrow(message);
  });

  test("masks the private key for a runner, and never with mask: false (the CLI)", () => {
    const masked = stdoutOf(() => readFunnelInputs(from(BASE)));
    expect(masked).toContain("::add-mask::inputsecretmaterial");
    const cli = stdoutOf(() => readFunnelInputs(from(BASE), undefined, { mask: false }));
    expect(cli).not.toContain("::add-mask::");
    expect(cli).not.toContain("inputsecretmaterial");
  });
});
