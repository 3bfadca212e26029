import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "@smoker/action-kit";
import { describe, expect, test } from "vitest";
import { readDeployInputs as readInputs, sanitizeProjectName } from "./inputs.js";

const KEY = generateKeyPairSync("ed25519")
  .privateKey.export({ format: "pem", type: "pkcs8" })
  .toString();
const FP = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8";

const workspace = mkdtempSync(join(tmpdir(), "deploy-inputs-"));
mkdirSync(join(workspace, "My Stack"));
writeFileSync(join(workspace, "My Stack/docker-compose.yml"), "services: {}\n");
writeFileSync(join(workspace, "My Stack/prod.yml"), "services: {}\n");
mkdirSync(join(workspace, "other"));
writeFileSync(join(workspace, "other/prod.yml"), "services: {}\n");

const base = {
  host: "10.0.0.5",
  "private-key": KEY,
  "host-fingerprint": FP,
  "compose-files": "My Stack/docker-compose.yml",
};

function read(values: Record<string, string>) {
  return readInputs((name) => ({ ...base, ...values })[name as keyof typeof base] ?? "", workspace);
}

function errorOf(values: Record<string, string>): InputError {
  try {
    read(values);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("no InputError");
}

describe("deploy-compose inputs", () => {
  test("defaults: project from the folder name, dir under /opt, everything on", () => {
    const i = read({
      "compose-files": "My Stack/docker-compose.yml\nMy Stack/prod.yml",
      version: "1.2.3-rc.1",
    });
    expect(i).toMatchObject({
      projectName: "my-stack",
      projectDir: "/opt/my-stack",
      version: "1.2.3-rc.1",
      pull: true,
      rollbackOnFailure: true,
      waitTimeoutMs: 120_000,
      lockTimeoutMs: 300_000,
      forceUnlock: false,
      keepReleases: 10,
    });
    expect(i.composeFiles.map((f) => f.name)).toEqual(["docker-compose.yml", "prod.yml"]);
  });

  test.each([
    [{ version: "1.0;touch /tmp/pwn" }, "version"],
    [{ version: "$(id)" }, "version"],
    [{ version: "1.0\ntouch /tmp/pwn" }, "version"],
    [{ version: "`id`" }, "version"],
    [{ "project-name": "app;id" }, "project-name"],
    [{ "project-name": "$(id)" }, "project-name"],
    [{ "project-name": "App" }, "project-name"],
    [{ services: "web\n$(id)" }, "services"],
    [{ services: "a;b" }, "services"],
    [{ "project-dir": "/opt/../etc" }, "project-dir"],
    [{ "project-dir": "relative/dir" }, "project-dir"],
    [{ "project-dir": "/opt/x y" }, "project-dir"],
    [{ "compose-files": "../outside.yml" }, "compose-files"],
    [{ "compose-files": "missing.yml" }, "compose-files"],
    [{ "compose-files": "My Stack/prod.yml\nother/prod.yml" }, "compose-files"],
    [{ env: "GOOD=1\nnot a pair" }, "env"],
    [{ "keep-releases": "1" }, "keep-releases"],
    [{ "wait-timeout": "forever" }, "wait-timeout"],
    [{ "host-fingerprint": "" }, "host-fingerprint"],
  ])("%# rejects %j naming the input", (values, name) => {
    expect(errorOf(values).input).toBe(name);
  });

  test("a secret env value never appears in its error", () => {
    const e = errorOf({ env: "TOKEN=hunter2-secret\nbroken line hunter2" });
    expect(e.message).not.toContain("hunter2");
  });

  test.each([
    ["My Stack", "my-stack"],
    ["_x.Y", "x-y"],
    ["infra", "infra"],
  ])("sanitizes %j to %j", (folder, name) => {
    expect(sanitizeProjectName(folder)).toBe(name);
  });
});
