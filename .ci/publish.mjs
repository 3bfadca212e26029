// `npm run publish:prepare`: assembles publish/<name>/ for every actions/<name>/action.yml, the
// tree that release.yml pushes to the smoker/<name> repository so that `smoker/<name>@v1` works:
//
//   action.yml     with runs.main (and runs.pre / runs.post) pointing at the bundled files
//   index.js ...   everything ncc emitted into dist/<name>/ (source map, licenses.txt, the
//                  package.json that makes index.js ESM, native addons)
//   README.md      the action's README
//   LICENSE        the repository's LICENSE
//
// It uses nothing but node: the release job that holds the push keys runs it without `npm ci`,
// so no third-party install script ever runs next to those keys.
//
//   node .ci/publish.mjs [--out DIR] [NAME...]   assemble (default out: publish/)
//   node .ci/publish.mjs --list                  print the actions as JSON [{name, secret}]
//   --root DIR                                   read actions/, dist/, LICENSE from DIR (tests)
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { isAbsolute, join, posix, relative, resolve } from "node:path";

const args = process.argv.slice(2);
const flag = (name) => {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith("--")) fail(`${name} needs a value`);
  args.splice(at, 2);
  return value;
};

const root = resolve(flag("--root") ?? new URL("..", import.meta.url).pathname);
const defaultOut = join(root, "publish");
const out = resolve(flag("--out") ?? defaultOut);
const list = args.includes("--list");
const only = args.filter((a) => !a.startsWith("--"));
const unknownFlags = args.filter((a) => a.startsWith("--") && a !== "--list");
if (unknownFlags.length > 0) fail(`unknown option ${unknownFlags.join(" ")}`);

const HOOKS = ["pre", "main", "post"];
const ENTRY = /^(\s+)([A-Za-z-]+):\s*(.*?)\s*$/;

const actions = existsSync(join(root, "actions"))
  ? readdirSync(join(root, "actions"), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, "actions", d.name, "action.yml")))
      .map((d) => d.name)
      .sort()
  : [];
for (const name of only) {
  if (!actions.includes(name)) fail(`actions/${name}/action.yml does not exist`);
}
const selected = only.length > 0 ? only : actions;
if (selected.length === 0) fail(`no actions/<name>/action.yml under ${root}`);

if (list) {
  // The secret that holds each repository's deploy key: PUBLISH_KEY_DEPLOY_COMPOSE etc.
  const entries = selected.map((name) => ({
    name,
    secret: `PUBLISH_KEY_${name.toUpperCase().replaceAll(/[^A-Z0-9]/g, "_")}`,
  }));
  console.log(JSON.stringify(entries));
  process.exit(0);
}

// publish/ belongs to this script: start it afresh. Another --out folder is only written into.
if (out === defaultOut) rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const problems = [];
const license = join(root, "LICENSE");
if (!existsSync(license)) problems.push("LICENSE is missing at the repository root");

for (const name of selected) {
  const target = join(out, name);
  rmSync(target, { recursive: true, force: true });
  try {
    assemble(name, target);
    const shown = relative(process.cwd(), target);
    console.log(`assembled ${shown.startsWith("..") ? target : shown}`);
  } catch (error) {
    rmSync(target, { recursive: true, force: true });
    problems.push(`${name}: ${error.message}`);
  }
}

if (problems.length > 0) {
  console.error(`\nCould not assemble ${problems.length} action(s):`);
  for (const p of problems) console.error(`  - ${p}`);
  console.error(
    "\nBundle the actions first (`npm run bundle`), give each action a README.md, then rerun `npm run publish:prepare`.",
  );
  process.exit(1);
}
console.log(`${selected.length} action(s) assembled in ${out}`);

function assemble(name, target) {
  const dir = join(root, "actions", name);
  const dist = join(root, "dist", name);
  const text = readFileSync(join(dir, "action.yml"), "utf8");
  const runs = readRuns(text);
  if (!/^node\d+$/.test(runs.using ?? "")) {
    throw new Error(
      `action.yml: runs.using is ${JSON.stringify(runs.using)}; only JavaScript actions (node24) are published this way`,
    );
  }
  if (!runs.main) throw new Error("action.yml has no runs.main");
  if (!existsSync(dist) || !statSync(dist).isDirectory()) {
    throw new Error(`dist/${name} is missing: run \`npm run bundle\` (it writes dist/${name}/)`);
  }
  const readme = join(dir, "README.md");
  if (!existsSync(readme)) throw new Error(`actions/${name}/README.md is missing`);

  // Each hook must point into dist/<name>/; in the published tree it is the same path relative
  // to the root, e.g. ../../dist/deploy-compose/index.js -> index.js.
  const rewritten = {};
  for (const hook of HOOKS) {
    const value = runs[hook];
    if (value === undefined) continue;
    const file = resolve(dir, value);
    const inside = relative(dist, file);
    if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
      throw new Error(`action.yml: runs.${hook} is ${value}, which is not inside dist/${name}/`);
    }
    if (!existsSync(file)) {
      throw new Error(`runs.${hook} names dist/${name}/${inside}, which the bundle lacks`);
    }
    rewritten[hook] = inside.split(/[\\/]/).join(posix.sep);
  }

  mkdirSync(target, { recursive: true });
  cpSync(dist, target, { recursive: true });
  writeFileSync(join(target, "action.yml"), rewriteRuns(text, rewritten));
  cpSync(readme, join(target, "README.md"));
  if (existsSync(license)) cpSync(license, join(target, "LICENSE"));

  const again = readRuns(readFileSync(join(target, "action.yml"), "utf8"));
  for (const [hook, value] of Object.entries(rewritten)) {
    if (again[hook] !== value) throw new Error(`could not rewrite runs.${hook} in action.yml`);
  }
}

// action.yml is YAML, but the part needed here is a flat block (`runs:` then indented
// `key: scalar` lines), which is read without a YAML library so that this script needs none.
// Anything fancier than a plain or quoted scalar is refused rather than guessed at.
function runsBlock(text) {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => /^runs:\s*(#.*)?$/.test(l.replace(/\r$/, "")));
  if (start < 0) throw new Error("action.yml has no top-level `runs:` block");
  let end = start + 1;
  while (end < lines.length && (/^\s/.test(lines[end]) || lines[end].trim() === "")) end++;
  return { lines, start, end };
}

function scalar(raw) {
  const value = raw.replace(/\s+#.*$/, "");
  const quoted = /^(["'])(.*)\1$/.exec(value);
  if (quoted) return quoted[2];
  if (/^[|>&*!{[]/.test(value)) return undefined;
  return value;
}

function readRuns(text) {
  const { lines, start, end } = runsBlock(text);
  const runs = {};
  let indent;
  for (const line of lines.slice(start + 1, end)) {
    const m = ENTRY.exec(line.replace(/\r$/, ""));
    if (!m) continue;
    indent ??= m[1];
    if (m[1] !== indent) continue;
    const value = scalar(m[3]);
    if (HOOKS.includes(m[2]) && value === undefined) {
      throw new Error(`action.yml: runs.${m[2]} must be a plain path`);
    }
    runs[m[2]] = value;
  }
  return runs;
}

function rewriteRuns(text, values) {
  const { lines, start, end } = runsBlock(text);
  for (let i = start + 1; i < end; i++) {
    const m = ENTRY.exec(lines[i].replace(/\r$/, ""));
    if (m && m[2] in values) lines[i] = `${m[1]}${m[2]}: ${values[m[2]]}`;
  }
  return lines.join("\n");
}

function fail(message) {
  console.error(`publish: ${message}`);
  process.exit(1);
}
