import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, HostKeyError } from "@smoker/remote";
import { afterAll, describe, expect, test } from "vitest";
import { host, lab, options } from "./support.js";

// Each known_hosts form is decided twice: by OpenSSH's own client (StrictHostKeyChecking=yes)
// and by packages/remote. They must agree, case by case, against a real sshd.
const dir = mkdtempSync(join(tmpdir(), "smoker-kh-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyOf(line: string): string {
  return line.split(" ").slice(1).join(" ");
}

function ecdsaKey(): string {
  const file = join(dir, "ecdsa");
  rmSync(file, { force: true });
  execFileSync("ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-f", file]);
  return readFileSync(`${file}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
}

function hashed(content: string): string {
  const file = join(dir, "to-hash");
  writeFileSync(file, content);
  execFileSync("ssh-keygen", ["-q", "-H", "-f", file], { stdio: "ignore" });
  return readFileSync(file, "utf8");
}

function cases(): [string, string][] {
  const h = host("dev-cloud");
  const ip = h.ip;
  const key = keyOf(h.knownHostsLine);
  const other = keyOf(host("prod-cloud").knownHostsLine);
  const prefix = ip.split(".").slice(0, 3).join(".");
  return [
    ["plain host", `${ip} ${key}`],
    ["[host]:22 form", `[${ip}]:22 ${key}`],
    ["[host]:2222 form", `[${ip}]:2222 ${key}`],
    ["hashed host", hashed(`${ip} ${key}\n`)],
    ["hashed other host", hashed(`${prefix}.99 ${key}\n`)],
    ["wildcard *", `${prefix}.* ${key}`],
    ["wildcard ?", `${prefix}.1? ${key}`],
    ["wildcard that does not match", `${prefix}.2? ${key}`],
    ["comma list", `example.invalid,${ip},other.invalid ${key}`],
    ["negated host", `${prefix}.*,!${ip} ${key}`],
    ["negation of another host", `${prefix}.*,!${prefix}.99 ${key}`],
    ["wrong key", `${ip} ${other}`],
    ["wrong key, then the right one", `${ip} ${other}\n${ip} ${key}`],
    ["only a key of another type", `${ip} ${ecdsaKey()}`],
    ["another type and the right key", `${ip} ${ecdsaKey()}\n${ip} ${key}`],
    ["revoked key beats an accepting line", `${ip} ${key}\n@revoked * ${key}`],
    ["revoked for another host only", `${ip} ${key}\n@revoked ${prefix}.99 ${key}`],
    ["revoked other key", `${ip} ${key}\n@revoked * ${other}`],
    ["cert-authority only", `@cert-authority ${ip} ${other}`],
    ["cert-authority and a plain line", `@cert-authority * ${other}\n${ip} ${key}`],
    [
      "comments, blanks and garbage around the right line",
      `# comment\n\nnot a valid line\n${ip} ${key} a comment`,
    ],
    ["comments only", "# nothing here\n"],
  ];
}

function opensshAccepts(knownHosts: string): boolean {
  const file = join(dir, "known_hosts");
  writeFileSync(file, `${knownHosts}\n`);
  const h = host("dev-cloud");
  const result = spawnSync(
    "ssh",
    [
      "-F",
      "/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${file}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "ConnectTimeout=5",
      "-i",
      lab().clientKey,
      "-p",
      String(h.port),
      `${h.user}@${h.ip}`,
      "true",
    ],
    { encoding: "utf8", timeout: 20_000 },
  );
  return result.status === 0;
}

async function weAccept(knownHosts: string): Promise<boolean> {
  try {
    const remote = await connect(options(host("dev-cloud"), { hostKeys: { knownHosts } }));
    remote.close();
    return true;
  } catch (error) {
    if (error instanceof HostKeyError) return false;
    throw error;
  }
}

describe("known_hosts decisions match OpenSSH's", () => {
  test("every form, compared with ssh -o StrictHostKeyChecking=yes", async () => {
    const table: { name: string; openssh: boolean; ours: boolean }[] = [];
    for (const [name, content] of cases()) {
      table.push({ name, openssh: opensshAccepts(content), ours: await weAccept(content) });
    }
    // Both outcomes occur, so the comparison is not trivially one-sided.
    expect(table.some((r) => r.openssh)).toBe(true);
    expect(table.some((r) => !r.openssh)).toBe(true);
    expect(table.filter((r) => r.openssh !== r.ours)).toEqual([]);
  });
});
