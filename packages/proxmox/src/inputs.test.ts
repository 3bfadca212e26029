import { readFileSync } from "node:fs";
import { InputError } from "@smoker/action-kit";
import { withTempDir } from "@smoker/action-kit/testing";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { provisionInputSpec, readProvisionInputs } from "./inputs.js";

const FP = Array.from({ length: 32 }, () => "ab").join(":");
const root = new URL("../../..", import.meta.url).pathname;
const base: Record<string, string> = {
  "api-url": "https://pve.lan:8006/api2/json",
  "token-id": "deploy@pve!ci",
  "token-secret": "secret-uuid",
  node: "pve",
  "tls-fingerprint": FP,
};
const read = (extra: Record<string, string>) =>
  readProvisionInputs((name) => ({ ...base, ...extra })[name] ?? "", { workspace: root });

/** What `fn` writes to stdout (where @actions/core puts workflow commands such as add-mask). */
function printed(fn: () => unknown): string {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = write;
  }
  return chunks.join("");
}

function inputError(extra: Record<string, string>): InputError {
  try {
    read(extra);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("no error");
}

describe("readProvisionInputs", () => {
  test("defaults: plan of the repository's spec, fingerprint upper-cased", () => {
    const s = read({});
    expect(s).toMatchObject({
      mode: "plan",
      node: "pve",
      trust: { kind: "fingerprint", fingerprints: [FP.toUpperCase()] },
      specPath: "infra/proxmox/guests.yml",
      keepSnapshots: 5,
      waitFor: "ssh",
      waitTimeoutMs: 300_000,
    });
    expect(s.guests.map((g) => g.name)).toEqual([
      "github-runner",
      "dev-cloud",
      "prod-cloud",
      "smoker-vm",
    ]);
  });

  test("snapshot names come from the version; guests select by name or vmid", () => {
    const s = read({ mode: "snapshot", version: "1.4.0", guests: "dev-cloud, 106" });
    expect(s.snapshot).toBe("pre-deploy-1-4-0");
    expect(s.guests.map((g) => g.vmid)).toEqual([104, 106]);
  });

  test.each([
    [{ "api-url": "http://pve.lan:8006" }, "api-url", /must use https/],
    [{ "token-id": "deploy@pve" }, "token-id", /must match/],
    [{ "tls-fingerprint": "AB:CD" }, "tls-fingerprint", /32 colon-separated hex pairs/],
    [{ "insecure-tls": "true" }, "insecure-tls", /cannot be combined with tls-fingerprint/],
    [{ mode: "destroy" }, "mode", /must be one of/],
    [{ mode: "snapshot" }, "version", /is required with mode snapshot/],
    [{ guests: "nope" }, "guests", /which infra\/proxmox\/guests.yml does not have/],
    [{ spec: "missing.yml" }, "spec", /cannot be read: ENOENT/],
    [{ "token-secret": "" }, "token-secret", /is required/],
  ])("%o fails on %s", (extra, input, rule) => {
    const error = inputError(extra);
    expect(error.input).toBe(input);
    expect(error.message).toMatch(rule);
  });

  test("a broken spec names the file and the field", async () => {
    await withTempDir(
      (dir) => {
        const error = inputError({ spec: `${dir}/g.yml` });
        expect(error.message).toBe(
          `Input "spec" (${dir}/g.yml): guests[0].memory must be a whole number from 16 to 4194304 (got "lots")`,
        );
      },
      {
        "g.yml":
          "guests:\n  - { name: a, vmid: 101, type: lxc, ostemplate: 'local:vztmpl/x', memory: lots, network: { ip: 10.0.0.2/24 } }\n",
      },
    );
  });

  test("every input of action.yml is in the spec and the other way round", () => {
    const yml = parseYaml(
      readFileSync(
        new URL("../../../actions/provision-proxmox/action.yml", import.meta.url),
        "utf8",
      ),
    ) as {
      inputs: Record<string, unknown>;
    };
    expect(Object.keys(yml.inputs).sort()).toEqual(Object.keys(provisionInputSpec).sort());
  });

  test("masks the token secret in a runner, and never with mask: false (the CLI)", () => {
    const source = (name: string) => base[name] ?? "";
    const masked = printed(() => readProvisionInputs(source, { workspace: root }));
    expect(masked).toContain(`::add-mask::${base["token-secret"]}`);
    const cli = printed(() => {
      const s = readProvisionInputs(source, { workspace: root, mask: false });
      expect(s.tokenSecret).toBe(base["token-secret"]);
    });
    expect(cli).not.toContain("add-mask");
    expect(cli).not.toContain(base["token-secret"]);
  });
});
