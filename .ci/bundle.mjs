// Bundles every action with ncc: actions/<name>/src/index.ts -> dist/<name>/index.js.
// `--check` builds into a temporary folder instead and fails on any difference from the
// committed dist/, so what runners execute is always what the sources say.
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const check = process.argv.includes("--check");
const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const actions = readdirSync(join(root, "actions"), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, "actions", d.name, "src/index.ts")))
  .map((d) => d.name)
  .filter((name) => only.length === 0 || only.includes(name));

// SMOKER_BUILD_DIR (a folder inside the repository, so that third-party packages still resolve
// from its node_modules, e.g. .tools/build-NAME) lets different actions be bundled at once.
const build = process.env.SMOKER_BUILD_DIR ?? join(root, ".tools/build");
compileToJavaScript();

const outRoot = check ? mkdtempSync(join(tmpdir(), "smoker-dist-")) : join(root, "dist");
const ncc = join(root, "node_modules/.bin/ncc");
let differences = 0;

for (const name of actions) {
  const out = join(outRoot, name);
  rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  execFileSync(
    ncc,
    [
      "build",
      join(build, "actions", name, "src/index.js"),
      "-o",
      out,
      "--source-map",
      "--license",
      "licenses.txt",
      "--quiet",
    ],
    { cwd: root, stdio: "inherit" },
  );
  console.log(`${check ? "built" : "bundled"} ${name} in ${Date.now() - started} ms`);
  if (check) differences += compare(join(root, "dist", name), out);
}

if (check) {
  const stale = existsSync(join(root, "dist"))
    ? readdirSync(join(root, "dist")).filter((d) => !actions.includes(d) && only.length === 0)
    : [];
  for (const d of stale) {
    console.error(`dist/${d} has no action in actions/${d}: delete it`);
    differences++;
  }
  rmSync(outRoot, { recursive: true, force: true });
  if (differences > 0) {
    console.error(
      `\ndist/ is out of date (${differences} difference(s)): run \`npm run bundle\` and commit dist/.`,
    );
    process.exit(1);
  }
  console.log(`dist/ matches the sources (${actions.length} action(s))`);
}

function compare(committed, fresh) {
  const files = new Set([...list(committed), ...list(fresh)]);
  let n = 0;
  for (const f of files) {
    const a = join(committed, f);
    const b = join(fresh, f);
    if (!existsSync(a) || !existsSync(b) || !readFileSync(a).equals(readFileSync(b))) {
      console.error(`differs: ${relative(root, a)}`);
      n++;
    }
  }
  return n;
}

function list(dir, prefix = "") {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? list(join(dir, d.name), join(prefix, d.name)) : [join(prefix, d.name)],
  );
}

// tsc emits every package and action into .tools/build; each emitted package gets a package.json
// whose exports name the .js files, and .tools/build/node_modules/@smoker/* links to them, so ncc
// resolves our packages to JavaScript and third-party ones from the root node_modules.
function compileToJavaScript() {
  rmSync(build, { recursive: true, force: true });
  // Type errors are the typecheck step's to report (exit 2: emitted anyway); an action still
  // bundles while unrelated work elsewhere in the tree does not compile yet.
  const tsc = spawnSync(
    join(root, "node_modules/.bin/tsc"),
    ["-p", "tsconfig.build.json", "--outDir", build],
    { cwd: root, encoding: "utf8" },
  );
  if (tsc.status === 2) {
    console.error("tsc reported type errors (see `npm run typecheck`); bundling what it emitted");
  } else if (tsc.status !== 0) {
    process.stderr.write(tsc.stdout + tsc.stderr);
    throw new Error(`tsc failed (exit ${tsc.status ?? tsc.signal})`);
  }
  mkdirSync(join(build, "node_modules/@smoker"), { recursive: true });
  for (const kind of ["packages", "actions"]) {
    if (!existsSync(join(root, kind))) continue;
    for (const d of readdirSync(join(root, kind), { withFileTypes: true })) {
      const manifest = join(root, kind, d.name, "package.json");
      if (!d.isDirectory() || !existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, "utf8"));
      const text = JSON.stringify(pkg).replaceAll(/\.\/src\/([^"]+)\.ts"/g, './src/$1.js"');
      mkdirSync(join(build, kind, d.name), { recursive: true });
      writeFileSync(join(build, kind, d.name, "package.json"), text);
      if (kind === "packages") {
        symlinkSync(join(build, kind, d.name), join(build, "node_modules", pkg.name), "dir");
      }
      // A package's own node_modules (a version that differs from the hoisted one, e.g. undici 7
      // beside @actions/http-client's undici 6) must win for its code, as it does unbundled.
      const own = join(root, kind, d.name, "node_modules");
      if (existsSync(own)) symlinkSync(own, join(build, kind, d.name, "node_modules"), "dir");
    }
  }
}
