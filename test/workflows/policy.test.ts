import { describe, expect, it } from "vitest";
import {
  blankExpressions,
  checkPolicy,
  checkUses,
  type Finding,
  parse,
  runBlocks,
  shellDialect,
} from "./policy.js";

const SHA = "08eba0b27e820071cde6df949e0beb9ba4906955";

/** A workflow that breaks no rule, with `steps` spliced into its one job. */
function workflow(steps: string, extra = ""): string {
  return `name: t
on: workflow_dispatch
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    permissions:
      contents: read
${extra}    steps:
${steps}`;
}

const rules = (findings: Finding[]) => findings.map((f) => `${f.line} ${f.rule}`);

describe("checkUses", () => {
  it.each([
    [`actions/checkout@${SHA}`, `uses: actions/checkout@${SHA} # v4.3.0`, []],
    [`actions/checkout@${SHA}`, `uses: actions/checkout@${SHA} #v4`, []],
    [`actions/checkout@${SHA}`, `uses: actions/checkout@${SHA}`, ["uses-version-comment"]],
    [`actions/checkout@${SHA}`, `uses: actions/checkout@${SHA} # pinned`, ["uses-version-comment"]],
    ["actions/checkout@v4", "uses: actions/checkout@v4", ["tag-pinned-uses"]],
    ["actions/checkout@v4.3.0", "uses: actions/checkout@v4.3.0", ["tag-pinned-uses"]],
    ["actions/checkout@1.2.3-rc.1", "", ["tag-pinned-uses"]],
    ["actions/checkout@main", "", ["unpinned-uses"]],
    ["actions/checkout@08eba0b", "", ["unpinned-uses"]],
    [`actions/checkout@${SHA.toUpperCase()}`, "", ["unpinned-uses"]],
    ["actions/checkout", "", ["unpinned-uses"]],
    [`owner/repo/.github/workflows/x.yml@${SHA}`, `uses: x # v1.0.0`, []],
    ["owner/repo/path/action@v1", "", ["tag-pinned-uses"]],
    ["./actions/health-gate", "", []],
    ["./.github/workflows/deploy-stack.yml", "", []],
    ["docker://alpine:3.20", "", ["unpinned-uses"]],
    [`docker://alpine@sha256:${"a".repeat(64)}`, "", []],
  ])("%s (%s)", (value, line, expected) => {
    expect(checkUses(value, line).map((f) => f.rule)).toEqual(expected);
  });
});

describe("blankExpressions", () => {
  it("keeps length and lines, drops the expression", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: workflow expressions are the subject
    const script = 'echo "${{ inputs.a }}"\nx=${{\n  steps.b.outputs.c }} && echo "$x"';
    const blank = blankExpressions(script);
    expect(blank).toBe('echo "_______________"\nx=___\n______________________ && echo "$x"');
    expect(blank.length).toBe(script.length);
  });

  it("leaves shell parameter expansion alone", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: workflow expressions are the subject
    expect(blankExpressions('echo "${HOME}" "${VERSION#v}"')).toBe('echo "${HOME}" "${VERSION#v}"');
  });
});

describe("shellDialect", () => {
  it.each([
    ["bash", "bash"],
    ["bash --noprofile --norc -eo pipefail {0}", "bash"],
    ["/usr/bin/bash -e {0}", "bash"],
    ["sh", "sh"],
    ["sh -e {0}", "sh"],
    ["pwsh", undefined],
    ["python", undefined],
    ["node {0}", undefined],
  ])("%s -> %s", (shell, dialect) => {
    expect(shellDialect(shell)).toBe(dialect);
  });
});

describe("runBlocks", () => {
  it("finds each script with the line it starts on and the shell that runs it", () => {
    const source = `name: t
on: push
defaults:
  run:
    shell: sh
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo one
      - shell: python
        run: |
          print("two")
  b:
    runs-on: ubuntu-latest
    defaults:
      run:
        shell: bash -e {0}
    steps:
      - run: >-
          echo three
`;
    expect(runBlocks(parse("w.yml", source))).toEqual([
      { file: "w.yml", line: 10, shell: "sh", script: "echo one" },
      { file: "w.yml", line: 13, shell: "python", script: 'print("two")\n' },
      { file: "w.yml", line: 21, shell: "bash -e {0}", script: "echo three" },
    ]);
  });

  it("defaults to bash and reads composite action steps", () => {
    const action = `name: a
description: d
runs:
  using: composite
  steps:
    - shell: bash
      run: echo hi
`;
    expect(runBlocks(parse("actions/x/action.yml", action))).toEqual([
      { file: "actions/x/action.yml", line: 7, shell: "bash", script: "echo hi" },
    ]);
    expect(runBlocks(parse("w.yml", workflow("      - run: echo hi\n")))[0]?.shell).toBe("bash");
  });
});

describe("checkPolicy", () => {
  it("passes a workflow that keeps every rule", () => {
    const source = workflow(
      `      - uses: actions/checkout@${SHA} # v4.3.0
        with:
          persist-credentials: false
      - name: greet
        env:
          WHO: \${{ github.actor }}
        run: echo "hello $WHO"
`,
    );
    expect(checkPolicy(parse("w.yml", source))).toEqual([]);
  });

  it("flags every expression in a run block, on its own line, and none outside", () => {
    const source = workflow(
      `      - env:
          OK: \${{ inputs.fine }}
        run: |
          echo "\${{ inputs.a }}"
          echo safe
          echo \${{ github.event.issue.title }} \${{ steps.x.outputs.y }}
`,
    );
    expect(rules(checkPolicy(parse("w.yml", source)))).toEqual([
      "13 expression-in-run",
      "15 expression-in-run",
      "15 expression-in-run",
    ]);
  });

  it("flags an expression in a composite action's run", () => {
    const action = `name: a
description: d
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "\${{ inputs.who }}"
`;
    expect(rules(checkPolicy(parse("actions/x/action.yml", action)))).toEqual([
      "7 expression-in-run",
    ]);
  });

  it.each([
    ["missing", "", ["1 top-level-permissions"]],
    ["write-all", "permissions: write-all\n", ["2 top-level-permissions"]],
    ["a grant", "permissions:\n  contents: read\n", ["2 top-level-permissions"]],
  ])("top-level permissions %s", (_name, permissions, expected) => {
    const source = `name: t\n${permissions}on: push\njobs:\n  a:\n    runs-on: x\n    permissions: {}\n    steps:\n      - run: echo\n`;
    expect(rules(checkPolicy(parse("w.yml", source)))).toEqual(expected);
  });

  it("asks every job, calls of reusable workflows included, for its permissions", () => {
    const source = `name: t
on: push
permissions: {}
jobs:
  a:
    runs-on: x
    steps:
      - run: echo
  b:
    uses: ./w.yml
`;
    expect(rules(checkPolicy(parse("w.yml", source)))).toEqual([
      "5 job-permissions",
      "9 job-permissions",
    ]);
  });

  it("checks persist-credentials on every checkout", () => {
    const source = workflow(
      `      - uses: actions/checkout@${SHA} # v4.3.0
      - uses: actions/checkout@${SHA} # v4.3.0
        with:
          persist-credentials: true
      - uses: actions/checkout@${SHA} # v4.3.0
        with:
          persist-credentials: "false"
`,
    );
    expect(rules(checkPolicy(parse("w.yml", source)))).toEqual([
      "10 persist-credentials",
      "11 persist-credentials",
    ]);
  });

  it("flags secrets: inherit and pull_request_target in every spelling of on:", () => {
    const caller = `name: t
on: [push, pull_request_target]
permissions: {}
jobs:
  a:
    uses: ./w.yml
    permissions: {}
    secrets: inherit
`;
    expect(rules(checkPolicy(parse("w.yml", caller)))).toEqual([
      "2 pull-request-target",
      "8 secrets-inherit",
    ]);
    const scalar = "name: t\non: pull_request_target\npermissions: {}\njobs: {}\n";
    expect(rules(checkPolicy(parse("w.yml", scalar)))).toEqual(["2 pull-request-target"]);
  });

  it("checks a remote reusable workflow's pin like an action's", () => {
    const source = `name: t
on: push
permissions: {}
jobs:
  a:
    uses: smoker/actions/.github/workflows/deploy-stack.yml@v1
    permissions: {}
`;
    expect(rules(checkPolicy(parse("w.yml", source)))).toEqual(["6 tag-pinned-uses"]);
  });

  describe("local references", () => {
    const files: Record<string, string> = {
      "actions/gate/action.yml": `name: gate
description: d
inputs:
  urls:
    description: u
    required: true
  timeout:
    description: t
    required: true
    default: 2m
outputs:
  healthy:
    description: h
runs:
  using: node24
  main: index.js
`,
      ".github/workflows/deploy.yml": `on:
  workflow_call:
    inputs:
      host:
        type: string
        required: true
    secrets:
      KEY:
        required: true
      HOOK:
        required: false
    outputs:
      images:
        value: x
jobs: {}
`,
    };
    const read = (path: string) => files[path];

    it("accepts the declared inputs and needs only those without a default", () => {
      const source = workflow(
        "      - uses: ./actions/gate\n        with:\n          urls: http://x/\n",
      );
      expect(checkPolicy(parse("w.yml", source), read)).toEqual([]);
    });

    it("flags an unknown input, a missing required one and a missing action", () => {
      const source = workflow(
        "      - uses: ./actions/gate\n        with:\n          retries: 3\n      - uses: ./actions/nope\n",
      );
      expect(
        checkPolicy(parse("w.yml", source), read).map((f) => `${f.line} ${f.rule} ${f.message}`),
      ).toEqual([
        '10 local-reference ./actions/gate requires the input "urls", which is not given',
        '12 local-reference ./actions/gate has no input "retries" (it declares: urls, timeout)',
        "13 local-reference ./actions/nope: no actions/nope/action.yml or actions/nope/action.yaml in this repository",
      ]);
    });

    it("checks a reusable workflow's inputs and secrets", () => {
      const source = `name: t
on: push
permissions: {}
jobs:
  a:
    uses: ./.github/workflows/deploy.yml
    permissions: {}
    with:
      host: h
      hots: typo
    secrets:
      HOOK: \${{ secrets.H }}
`;
      expect(
        checkPolicy(parse("w.yml", source), read).map((f) => `${f.line} ${f.rule} ${f.message}`),
      ).toEqual([
        '6 local-reference ./.github/workflows/deploy.yml requires the secret "KEY", which is not given',
        '10 local-reference ./.github/workflows/deploy.yml has no input "hots" (it declares: host)',
      ]);
    });
    it("flags outputs the local action or reusable workflow does not declare", () => {
      const source = `name: t
on: push
permissions: {}
jobs:
  deploy:
    uses: ./.github/workflows/deploy.yml
    permissions: {}
    with:
      host: h
    secrets:
      KEY: \${{ secrets.K }}
  check:
    needs: deploy
    runs-on: x
    permissions: {}
    steps:
      - id: g
        uses: ./actions/gate
        with:
          urls: http://x/
      - env:
          OK: \${{ steps.g.outputs.healthy }} \${{ needs.deploy.outputs.images }}
          BAD: \${{ steps.g.outputs.report }} \${{ needs.deploy.outputs.image }}
        run: echo "$OK $BAD"
  other:
    runs-on: x
    permissions: {}
    steps:
      - id: g
        run: echo "report=1" >> "$GITHUB_OUTPUT"
      - env:
          MINE: \${{ steps.g.outputs.report }}
        run: echo "$MINE"
`;
      expect(
        checkPolicy(parse("w.yml", source), read).map((f) => `${f.line} ${f.rule} ${f.message}`),
      ).toEqual([
        '23 local-reference needs.deploy.outputs.image: deploy declares no output "image" (it declares: images)',
        '23 local-reference steps.g.outputs.report: g declares no output "report" (it declares: healthy)',
      ]);
    });
  });

  it("reports YAML that does not parse instead of guessing", () => {
    const findings = checkPolicy(parse("w.yml", "on: push\njobs: [\n"));
    expect(findings.map((f) => f.rule)).toEqual(["yaml"]);
  });
});
