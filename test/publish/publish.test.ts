// publish.mjs against small fixture repositories (--root): what it writes, and what it refuses.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { withTempDir } from "@smoker/action-kit/testing";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { publish } from "./support.js";

const README = "# smoker x\n";

function actionYml(runs: string): string {
  return [
    "name: smoker x",
    "description: >-",
    "  Does x. runs: main: is not the runs block",
    "inputs:",
    "  host:",
    "    description: Host.",
    "    required: true",
    "runs:",
    runs,
    "branding:",
    "  icon: upload-cloud",
    "",
  ].join("\n");
}

const fixture = (
  runs: string,
  dist: Record<string, string>,
  extra: Record<string, string> = {},
) => ({
  LICENSE: "MIT License\n",
  "actions/x/action.yml": actionYml(runs),
  "actions/x/README.md": README,
  ...Object.fromEntries(Object.entries(dist).map(([f, t]) => [`dist/x/${f}`, t])),
  ...extra,
});

const BUNDLE = {
  "index.js": "console.log('main')\n",
  "index.js.map": "{}",
  "licenses.txt": "licenses\n",
  "package.json": '{"type":"module"}',
  "build/Release/addon.node": "binary",
};

describe("publish.mjs", () => {
  it("copies the bundle, README and LICENSE and points runs.* at the bundled files", () =>
    withTempDir(
      (root) => {
        const out = join(root, "out");
        const run = publish("--root", root, "--out", out);
        expect(run.status, run.stderr).toBe(0);
        expect(readdirSync(join(out, "x")).sort()).toEqual(
          [
            "LICENSE",
            "README.md",
            "action.yml",
            "build",
            "index.js",
            "index.js.map",
            "licenses.txt",
            "package.json",
            "post.js",
          ].sort(),
        );
        expect(readFileSync(join(out, "x/build/Release/addon.node"), "utf8")).toBe("binary");
        const text = readFileSync(join(out, "x/action.yml"), "utf8");
        const yml = parse(text);
        expect(yml.runs).toEqual({
          using: "node24",
          main: "index.js",
          post: "post.js",
          "post-if": "always()",
        });
        // Everything but the rewritten lines is kept as written.
        expect(text).toBe(
          actionYml(
            "  using: node24\n  main: index.js\n  post: post.js # cleanup\n  post-if: always()",
          ).replace("post: post.js # cleanup", "post: post.js"),
        );
        expect(yml.description).toContain("runs: main: is not the runs block");
        expect(readFileSync(join(out, "x/README.md"), "utf8")).toBe(README);
        expect(readFileSync(join(out, "x/LICENSE"), "utf8")).toBe("MIT License\n");
      },
      fixture(
        '  using: node24\n  main: "../../dist/x/index.js"\n  post: ../../dist/x/post.js # cleanup\n  post-if: always()',
        { ...BUNDLE, "post.js": "console.log('post')\n" },
      ),
    ));

  it("lists the actions with the secret that holds each repository's deploy key", () =>
    withTempDir(
      (root) => {
        const run = publish("--root", root, "--list");
        expect(run.status, run.stderr).toBe(0);
        expect(JSON.parse(run.stdout)).toEqual([
          { name: "pi-watchtower", secret: "PUBLISH_KEY_PI_WATCHTOWER" },
          { name: "x", secret: "PUBLISH_KEY_X" },
        ]);
      },
      fixture("  using: node24\n  main: ../../dist/x/index.js", BUNDLE, {
        "actions/pi-watchtower/action.yml": actionYml(
          "  using: node24\n  main: ../../dist/pi-watchtower/index.js",
        ),
        "actions/no-action-yml/package.json": "{}",
      }),
    ));

  it.each([
    [
      "a missing bundle",
      fixture("  using: node24\n  main: ../../dist/x/index.js", {}),
      /x: dist\/x is missing: run `npm run bundle`/,
    ],
    [
      "a hook the bundle lacks",
      fixture(
        "  using: node24\n  main: ../../dist/x/index.js\n  post: ../../dist/x/post.js",
        BUNDLE,
      ),
      /x: runs\.post names dist\/x\/post\.js, which the bundle lacks/,
    ],
    [
      "main outside dist/x",
      fixture("  using: node24\n  main: ../../dist/y/index.js", BUNDLE, {
        "dist/y/index.js": "",
      }),
      /x: action\.yml: runs\.main is \.\.\/\.\.\/dist\/y\/index\.js, which is not inside dist\/x\//,
    ],
    [
      "a composite action",
      fixture("  using: composite\n  steps: []", BUNDLE),
      /runs\.using is "composite"; only JavaScript actions/,
    ],
    [
      "a missing README",
      {
        ...fixture("  using: node24\n  main: ../../dist/x/index.js", BUNDLE),
        "actions/x/README.md": undefined,
      },
      /actions\/x\/README\.md is missing/,
    ],
  ])("refuses %s, naming the action and what to do", (_, files, message) =>
    withTempDir(
      (root) => {
        const out = join(root, "out");
        const run = publish("--root", root, "--out", out);
        expect(run.status).toBe(1);
        expect(run.stderr).toMatch(message);
        expect(run.stderr).toContain("Could not assemble 1 action(s)");
        // Nothing half-assembled is left where release.yml would push it from.
        expect(existsSync(join(out, "x"))).toBe(false);
      },
      Object.fromEntries(
        Object.entries(files).filter((e): e is [string, string] => e[1] !== undefined),
      ),
    ),
  );

  it("assembles the others and still fails when one action cannot be", () =>
    withTempDir(
      (root) => {
        const out = join(root, "out");
        const run = publish("--root", root, "--out", out);
        expect(run.status).toBe(1);
        expect(run.stderr).toMatch(/- y: dist\/y is missing/);
        expect(existsSync(join(out, "x/index.js"))).toBe(true);
      },
      fixture("  using: node24\n  main: ../../dist/x/index.js", BUNDLE, {
        "actions/y/action.yml": actionYml("  using: node24\n  main: ../../dist/y/index.js"),
        "actions/y/README.md": README,
      }),
    ));

  it("refuses a repository without LICENSE", () =>
    withTempDir(
      (root) => {
        const run = publish("--root", root, "--out", join(root, "out"));
        expect(run.status).toBe(1);
        expect(run.stderr).toContain("LICENSE is missing at the repository root");
      },
      Object.fromEntries(
        Object.entries(fixture("  using: node24\n  main: ../../dist/x/index.js", BUNDLE)).filter(
          ([f]) => f !== "LICENSE",
        ),
      ),
    ));
});
