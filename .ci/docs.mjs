// Regenerates the inputs and outputs tables of every actions/<name>/README.md from its
// action.yml, between <!-- inputs:start/end --> and <!-- outputs:start/end --> markers, and
// fails when an input or output has no description. `--check` fails on any difference instead.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

const root = new URL("..", import.meta.url).pathname;
const check = process.argv.includes("--check");
let problems = 0;

const cell = (text) =>
  String(text ?? "")
    .replaceAll("|", "\\|")
    .replaceAll("\n", " ")
    .trim();

function table(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(3, ...all.map((r) => r[c].length)));
  const line = (r) => `| ${r.map((v, c) => v.padEnd(widths[c])).join(" | ")} |`;
  return [
    line(header),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...rows.map(line),
  ].join("\n");
}

for (const name of readdirSync(join(root, "actions"))) {
  const yml = join(root, "actions", name, "action.yml");
  const readmePath = join(root, "actions", name, "README.md");
  if (!existsSync(yml)) continue;
  const action = parse(readFileSync(yml, "utf8"));
  for (const [kind, entries] of [
    ["input", action.inputs ?? {}],
    ["output", action.outputs ?? {}],
  ]) {
    for (const [key, entry] of Object.entries(entries)) {
      if (!entry?.description?.trim()) {
        console.error(`actions/${name}/action.yml: ${kind} ${key} has no description`);
        problems++;
      }
    }
  }
  const inputs = table(
    ["name", "default", "description"],
    Object.entries(action.inputs ?? {}).map(([k, e]) => [
      `\`${k}\``,
      e.required ? "required" : e.default === undefined ? "" : `\`${cell(e.default)}\``,
      cell(e.description),
    ]),
  );
  const outputs = table(
    ["name", "description"],
    Object.entries(action.outputs ?? {}).map(([k, e]) => [`\`${k}\``, cell(e.description)]),
  );
  const current = existsSync(readmePath)
    ? readFileSync(readmePath, "utf8")
    : `# ${action.name}\n\n${action.description}\n\n## Inputs\n\n<!-- inputs:start -->\n<!-- inputs:end -->\n\n## Outputs\n\n<!-- outputs:start -->\n<!-- outputs:end -->\n`;
  const next = current
    .replace(
      /<!-- inputs:start -->[\s\S]*?<!-- inputs:end -->/,
      `<!-- inputs:start -->\n${inputs}\n<!-- inputs:end -->`,
    )
    .replace(
      /<!-- outputs:start -->[\s\S]*?<!-- outputs:end -->/,
      `<!-- outputs:start -->\n${outputs}\n<!-- outputs:end -->`,
    );
  if (next !== current) {
    if (check) {
      console.error(`actions/${name}/README.md: tables differ from action.yml (run npm run docs)`);
      problems++;
    } else {
      writeFileSync(readmePath, next);
      console.log(`actions/${name}/README.md updated`);
    }
  }
}
if (problems > 0) process.exit(1);
