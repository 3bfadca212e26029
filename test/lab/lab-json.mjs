// Writes LAB_DIR/lab.json for lab.sh (bash has no safe way to quote JSON).
//
// Input: environment LAB_DIR, LAB_NAME, LAB_GATEWAY and LAB_REGISTRY (empty: no registry),
// plus two tab-separated files lab.sh keeps in LAB_DIR/state:
//   hosts.tsv   name ip netns dockerHost optDir hostKeyFile knownHostsLine fingerprint
//   images.tsv  key ref            (e.g. "backend:1.0.0" "10.231.0.1:5000/smoker/backend@sha256:...")
// The shape is the contract that test/lab/lab.ts reads; keep both in step.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

function need(name) {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`lab-json.mjs: ${name} is not set`);
  }
  return value;
}

function rows(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => line.split("\t"));
}

const dir = need("LAB_DIR");
const state = join(dir, "state");
const keys = join(dir, "keys");

const hosts = rows(join(state, "hosts.tsv")).map((cols) => {
  if (cols.length !== 8) throw new Error(`lab-json.mjs: bad hosts.tsv row: ${cols.join(" | ")}`);
  const [name, ip, netns, dockerHost, optDir, hostKeyFile, knownHostsLine, fingerprint] = cols;
  return {
    name,
    ip,
    port: 22,
    user: "root",
    netns,
    dockerHost,
    optDir,
    binDir: join(dirname(optDir), "bin"),
    hostKeyFile,
    knownHostsLine,
    fingerprint,
  };
});

const images = {};
for (const [key, ref] of rows(join(state, "images.tsv"))) images[key] = ref;

const lab = {
  name: need("LAB_NAME"),
  dir,
  gateway: need("LAB_GATEWAY"),
  registry: process.env.LAB_REGISTRY ? process.env.LAB_REGISTRY : null,
  clientKey: join(keys, "id_ed25519"),
  clientKeyPassphraseProtected: join(keys, "id_ed25519_pass"),
  passphraseFile: join(keys, "passphrase"),
  knownHostsFile: join(dir, "known_hosts"),
  hosts,
  images,
};

// Write then rename, so that a reader never sees half a file.
const target = join(dir, "lab.json");
writeFileSync(`${target}.tmp`, `${JSON.stringify(lab, null, 2)}\n`);
renameSync(`${target}.tmp`, target);
