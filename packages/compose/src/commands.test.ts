import { render, type Script } from "@smoker/remote";
import { describe, expect, test } from "vitest";
import {
  type ComposeProject,
  type ComposeTool,
  compose,
  configServices,
  down,
  ps,
  pull,
  stop,
  up,
} from "./commands.js";
import { ComposeError } from "./errors.js";

const V2: ComposeTool = { kind: "v2", version: "2.26.1", argv: ["docker", "compose"] };
const V1: ComposeTool = { kind: "v1", version: "1.29.2", argv: ["docker-compose"] };

const app: ComposeProject = {
  tool: V2,
  dir: "/opt/app",
  name: "app",
  files: ["compose.yaml", "compose.prod.yaml"],
  env: { VERSION: "1.2.0" },
};
const legacy: ComposeProject = { tool: V1, dir: "/opt/my app", name: "legacy", files: ["a.yml"] };

const V2_PREFIX =
  "cd -- /opt/app && VERSION=1.2.0 docker compose -p app -f compose.yaml -f compose.prod.yaml";
const V1_PREFIX = "cd -- '/opt/my app' && docker-compose -p legacy -f a.yml";

describe("compose commands render exactly", () => {
  test.each<[string, Script, string]>([
    ["config v2", configServices(app), `${V2_PREFIX} config --services`],
    ["config v1", configServices(legacy), `${V1_PREFIX} config --services`],
    ["pull all", pull(app), `${V2_PREFIX} pull`],
    ["pull some", pull(legacy, ["backend", "db"]), `${V1_PREFIX} pull backend db`],
    ["up", up(app), `${V2_PREFIX} up -d`],
    [
      "up, every option",
      up(app, { services: ["web"], removeOrphans: true, forceRecreate: true, noDeps: true }),
      `${V2_PREFIX} up -d --remove-orphans --force-recreate --no-deps web`,
    ],
    ["up v1", up(legacy, { removeOrphans: true }), `${V1_PREFIX} up -d --remove-orphans`],
    ["stop", stop(app), `${V2_PREFIX} stop`],
    [
      "stop some, with a timeout",
      stop(legacy, { services: ["web"], timeoutSeconds: 5 }),
      `${V1_PREFIX} stop -t 5 web`,
    ],
    ["down", down(app), `${V2_PREFIX} down`],
    [
      "down, volumes too",
      down(legacy, { volumes: true, removeOrphans: true, timeoutSeconds: 0 }),
      `${V1_PREFIX} down -v --remove-orphans -t 0`,
    ],
    ["ps", ps(app), `${V2_PREFIX} ps -a`],
    [
      "env values are quoted, several files keep their order",
      compose(
        { ...app, env: { VERSION: "1.0; rm -rf /", B: "x" }, files: ["b.yml", "/abs/pins.yml"] },
        "config",
      ),
      "cd -- /opt/app && VERSION='1.0; rm -rf /' B=x docker compose -p app -f b.yml -f /abs/pins.yml config",
    ],
  ])("%s", (_name, script, expected) => {
    expect(render(script)).toBe(expected);
  });
});

describe("compose commands refuse what Compose would misread", () => {
  test.each<[string, () => unknown, RegExp]>([
    [
      "an uppercase project name (v1 would rename it)",
      () => up({ ...app, name: "App" }),
      /project name/,
    ],
    ["a project name with a dot", () => up({ ...app, name: "my.app" }), /project name/],
    ["a project name starting with -", () => up({ ...app, name: "-p" }), /project name/],
    ["no files", () => up({ ...app, files: [] }), /has no files/],
    ["a file that reads as a flag", () => up({ ...app, files: ["--verbose"] }), /file path/],
    ["stdin as a file", () => up({ ...app, files: ["-"] }), /file path/],
    ["a service that reads as a flag", () => up(app, { services: ["--build"] }), /service name/],
    ["a service with a space", () => pull(app, ["a b"]), /service name/],
    ["a fractional timeout", () => stop(app, { timeoutSeconds: 1.5 }), /whole seconds/],
    ["an env name that is not one", () => up({ ...app, env: { "A;B": "x" } }), /variable name/],
  ])("%s", (_name, build, message) => {
    expect(build).toThrow(message);
  });

  test("the errors are ComposeErrors with a hint", () => {
    const error = (() => {
      try {
        up({ ...app, name: "App" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ComposeError);
    expect((error as ComposeError).hint).toMatch(/lowercase/);
  });
});
