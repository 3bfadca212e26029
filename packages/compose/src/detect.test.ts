import { render } from "@smoker/remote";
import { describe, expect, test } from "vitest";
import type { ComposeTool } from "./commands.js";
import { type DetectOptions, detectCommand, detectCompose, parseDetection } from "./detect.js";
import { ComposeError } from "./errors.js";
import { FakeRunner, fail, ok } from "./internal/fake-runner.js";

const PLUGIN_TRY = "docker compose version --short && echo smoker:compose-plugin";
const STANDALONE_TRY = "docker-compose version --short && echo smoker:compose-standalone";

describe("detectCommand: every candidate in one round trip", () => {
  test.each<[DetectOptions, string]>([
    [{}, `{ ${PLUGIN_TRY}; } || { ${STANDALONE_TRY}; }`],
    [{ prefer: "v2" }, `{ ${PLUGIN_TRY}; } || { ${STANDALONE_TRY}; }`],
    [{ prefer: "v1" }, `{ ${STANDALONE_TRY}; } || { ${PLUGIN_TRY}; }`],
    [{ prefer: "v1", strict: true }, STANDALONE_TRY],
    [{ strict: true }, PLUGIN_TRY],
  ])("%j", (options, expected) => {
    expect(render(detectCommand(options))).toBe(expected);
  });
});

describe("parseDetection", () => {
  const plugin = ["docker", "compose"];
  const standalone = ["docker-compose"];
  test.each<[string, string, ComposeTool | undefined]>([
    [
      "the v2 plugin (Debian's version suffix kept)",
      "2.26.1-4\nsmoker:compose-plugin\n",
      { kind: "v2", version: "2.26.1-4", argv: plugin },
    ],
    [
      "v1",
      "1.29.2\nsmoker:compose-standalone\n",
      { kind: "v1", version: "1.29.2", argv: standalone },
    ],
    [
      "a v2 binary installed as docker-compose is v2, run as docker-compose",
      "v2.29.7\nsmoker:compose-standalone\n",
      { kind: "v2", version: "2.29.7", argv: standalone },
    ],
    [
      "noise before the version",
      "some warning\n1.29.2\r\nsmoker:compose-standalone",
      { kind: "v1", version: "1.29.2", argv: standalone },
    ],
    ["no marker", "2.26.1\n", undefined],
    ["a marker without a version", "smoker:compose-plugin\n", undefined],
    ["not a version", "docker: unknown command\nsmoker:compose-plugin\n", undefined],
    ["nothing", "", undefined],
  ])("%s", (_name, stdout, expected) => {
    expect(parseDetection(stdout)).toEqual(expected);
  });
});

describe("detectCompose", () => {
  test("one command, and the tool it names", async () => {
    const runner = new FakeRunner(() => ok("1.29.2\nsmoker:compose-standalone\n"));
    const tool = await detectCompose(runner, { prefer: "v1" });
    expect(tool).toEqual({ kind: "v1", version: "1.29.2", argv: ["docker-compose"] });
    expect(runner.commands).toEqual([`{ ${STANDALONE_TRY}; } || { ${PLUGIN_TRY}; }`]);
  });

  test("neither flavour: a ComposeError that says what was tried and how to install", async () => {
    const runner = new FakeRunner(() =>
      fail(127, "docker: 'compose' is not a docker command.\nsh: 1: docker-compose: not found\n"),
    );
    const error = await detectCompose(runner).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComposeError);
    expect((error as Error).message).toBe(
      "No Docker Compose found on the host (tried `docker compose` and `docker-compose`): " +
        "docker: 'compose' is not a docker command.\nsh: 1: docker-compose: not found",
    );
    expect((error as ComposeError).hint).toMatch(/Install the Compose plugin/);
  });

  test("strict v1 on a host without it says so", async () => {
    const runner = new FakeRunner(() => fail(127, "sh: 1: docker-compose: not found"));
    const error = (await detectCompose(runner, { prefer: "v1", strict: true }).catch(
      (e: unknown) => e,
    )) as ComposeError;
    expect(error.message).toMatch(/tried `docker-compose`\)/);
    expect(error.hint).toMatch(/Install docker-compose/);
  });
});
