// infra/stacks/*: the compose files as both real Compose implementations read them (v2 plugin
// `docker compose` and v1 `docker-compose`, as the lab installs them), set up the way
// deploy-compose sets a project up: the files in a project folder, the secrets in its .env,
// VERSION in the environment.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "../deploy/support.js";

const COMPOSE = {
  v2: ["docker", "compose"],
  v1: ["docker-compose"],
} as const;
type Flavour = keyof typeof COMPOSE;
const FLAVOURS = Object.keys(COMPOSE) as Flavour[];

const scratch = mkdtempSync(join(tmpdir(), "smoker-stacks-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Service {
  image: string;
  container_name?: string;
  environment?: Record<string, string>;
  labels?: Record<string, string>;
  command?: string[];
  ports?: Array<string | { host_ip?: string; published: string | number; target: number }>;
  volumes?: Array<string | { type: string; source: string; target: string; read_only?: boolean }>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
interface Config {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

let projects = 0;
/** A project folder as deploy-compose leaves it: the stack's files and a .env. */
function project(stack: "cloud" | "device", env: Record<string, string>): string {
  const dir = join(scratch, String(projects++), stack);
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, "infra/stacks", stack), dir, { recursive: true });
  rmSync(join(dir, "README.md"), { force: true });
  writeFileSync(
    join(dir, ".env"),
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
    { mode: 0o600 },
  );
  return dir;
}

function config(flavour: Flavour, dir: string, version = "1.4.2") {
  const [program, ...args] = COMPOSE[flavour];
  const run = spawnSync(program, [...args, "config"], {
    cwd: dir,
    encoding: "utf8",
    // Only what a deploy gives Compose: PATH, and VERSION as deploy-compose exports it.
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", VERSION: version },
  });
  return {
    status: run.status,
    stderr: run.stderr,
    config: run.status === 0 ? (parse(run.stdout) as Config) : undefined,
  };
}

/** "host_ip:published:target" whichever syntax the flavour prints. */
function ports(service: Service): string[] {
  return (service.ports ?? []).map((p) =>
    typeof p === "string"
      ? p.replace(/\/tcp$/, "")
      : `${p.host_ip ?? "0.0.0.0"}:${p.published}:${p.target}`,
  );
}

function mounts(service: Service): string[] {
  return (service.volumes ?? []).map((v) =>
    typeof v === "string"
      ? v.replace(/:rw$/, "")
      : `${v.source}:${v.target}${v.read_only ? ":ro" : ""}`,
  );
}

const CLOUD_ENV = {
  MONGO_INITDB_ROOT_USERNAME: "root",
  MONGO_INITDB_ROOT_PASSWORD: "root-secret-1",
  MONGO_ADMIN_USERNAME: "admin",
  MONGO_ADMIN_PASSWORD: "admin-secret-2",
  MONGO_APP_USERNAME: "smoker-app",
  MONGO_APP_PASSWORD: "app-secret-3",
  TAILNET_ADDRESS: "100.101.102.104",
};

const DEVICE_TOKEN = "watchtower-token-4";

function deviceEnv(): Record<string, string> {
  const tokenFile = join(scratch, `watchtower-${projects}.env`);
  writeFileSync(tokenFile, `WATCHTOWER_HTTP_API_TOKEN=${DEVICE_TOKEN}\n`, { mode: 0o600 });
  return { TAILNET_ADDRESS: "100.101.102.103", WATCHTOWER_ENV_FILE: tokenFile };
}

describe("the files hold no secret", () => {
  it.each([
    "infra/stacks/cloud/docker-compose.yml",
    "infra/stacks/device/docker-compose.yml",
    "infra/stacks/cloud/mongo-init/01-users.js",
  ])("%s: every password or token is a variable", (file) => {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const line of text.split("\n")) {
      const m = /^\s*-?\s*"?([A-Z_]*(PASSWORD|TOKEN|SECRET)[A-Z_]*)"?\s*[:=]\s*(.+)$/.exec(line);
      if (m) expect(m[3], line).toMatch(/^\$\{[A-Z_]+(:\?[^}]*)?\}$/);
    }
    expect(text).not.toMatch(/pwd:\s*["'`]/);
  });
});

describe.each(FLAVOURS)("cloud stack, Compose %s", (flavour) => {
  let ok: ReturnType<typeof config>;
  beforeAll(() => {
    ok = config(flavour, project("cloud", CLOUD_ENV));
  });

  it("is valid with the secrets in .env", () => {
    expect(ok.status, ok.stderr).toBe(0);
  });

  it("runs MongoDB 7 with authentication from .env, on a named volume, with its init scripts", () => {
    const mongo = ok.config!.services.mongo!;
    expect(mongo.image).toBe("mongo:7");
    expect(mongo.environment).toMatchObject({
      MONGO_INITDB_ROOT_USERNAME: "root",
      MONGO_INITDB_ROOT_PASSWORD: "root-secret-1",
      MONGO_ADMIN_PASSWORD: "admin-secret-2",
      MONGO_APP_DATABASE: "smoker",
      MONGO_APP_USERNAME: "smoker-app",
      MONGO_APP_PASSWORD: "app-secret-3",
    });
    expect(Object.keys(ok.config!.volumes ?? {})).toEqual(["mongo-data"]);
    const m = mounts(mongo);
    expect(m).toContain("mongo-data:/data/db");
    expect(m.some((v) => /\/mongo-init:\/docker-entrypoint-initdb\.d:ro$/.test(v))).toBe(true);
    expect(mongo.ports ?? []).toEqual([]);
    expect(mongo.healthcheck!.test.join(" ")).toMatch(/mongosh .*ping/);
  });

  it("runs the backend and frontend of the deployed VERSION, behind a healthy database", () => {
    const { backend, frontend } = ok.config!.services;
    expect(backend!.image).toBe("ghcr.io/smoker/backend:1.4.2");
    expect(frontend!.image).toBe("ghcr.io/smoker/frontend:1.4.2");
    expect(backend!.depends_on?.mongo?.condition).toBe("service_healthy");
    expect(backend!.environment).toMatchObject({
      MONGO_HOST: "mongo",
      MONGO_DATABASE: "smoker",
      MONGO_USERNAME: "smoker-app",
      MONGO_PASSWORD: "app-secret-3",
    });
    // The root and admin credentials stay with the database.
    expect(JSON.stringify(backend!.environment)).not.toMatch(/root-secret|admin-secret/);
    expect(JSON.stringify(frontend)).not.toMatch(/secret/);
    // On loopback for Tailscale serve/funnel (funnel-config) and on the tailnet address for the
    // health gate; never on every interface.
    expect(ports(backend!)).toEqual(["127.0.0.1:3001:3001", "100.101.102.104:3001:3001"]);
    expect(ports(frontend!)).toEqual(["127.0.0.1:80:80", "100.101.102.104:80:80"]);
    for (const service of [backend!, frontend!]) {
      expect(service.healthcheck!.test[0]).toBe("CMD-SHELL");
    }
  });

  it("takes another registry from .env", () => {
    const other = config(
      flavour,
      project("cloud", { ...CLOUD_ENV, REGISTRY: "10.231.0.1:5000/smoker" }),
      "nightly",
    );
    expect(other.status, other.stderr).toBe(0);
    expect(other.config!.services.backend!.image).toBe("10.231.0.1:5000/smoker/backend:nightly");
  });

  it.each(Object.keys(CLOUD_ENV))("refuses to start without %s, naming it", (missing) => {
    const env = Object.fromEntries(Object.entries(CLOUD_ENV).filter(([k]) => k !== missing));
    const run = config(flavour, project("cloud", env));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`set ${missing} in the stack's .env`);
  });
});

describe.each(FLAVOURS)("device stack, Compose %s", (flavour) => {
  let ok: ReturnType<typeof config>;
  beforeAll(() => {
    ok = config(flavour, project("device", deviceEnv()));
  });
  const services = () => ok.config!.services;

  it("is valid with the tailnet address in .env and the token file in place", () => {
    expect(ok.status, ok.stderr).toBe(0);
  });

  it("names the containers as the Pi does", () => {
    expect(
      Object.fromEntries(Object.entries(services()).map(([k, s]) => [k, s.container_name])),
    ).toEqual({
      device_service: "device_service",
      frontend_smoker: "frontend_smoker",
      electron_shell: "electron_shell",
      watchtower: "watchtower",
    });
  });

  it("labels exactly the app containers for Watchtower, in its scope", () => {
    for (const name of ["device_service", "frontend_smoker", "electron_shell"]) {
      expect(services()[name]!.labels, name).toMatchObject({
        "com.centurylinklabs.watchtower.enable": "true",
        "com.centurylinklabs.watchtower.scope": "smoker",
      });
      expect(services()[name]!.image).toMatch(/^ghcr\.io\/smoker\/[a-z-]+:1\.4\.2$/);
    }
    const watchtower = services().watchtower!;
    expect(watchtower.labels?.["com.centurylinklabs.watchtower.enable"]).toBeUndefined();
    expect(watchtower.labels?.["com.centurylinklabs.watchtower.scope"]).toBe("smoker");
  });

  it("runs Watchtower (the maintained fork) label-enabled, scoped, without cleanup, API on the tailnet only", () => {
    const watchtower = services().watchtower!;
    expect(watchtower.image).toMatch(/^nickfedor\/watchtower:/);
    expect(watchtower.command).toEqual(
      expect.arrayContaining([
        "--label-enable",
        "--scope=smoker",
        "--http-api-update",
        "--http-api-periodic-polls",
      ]),
    );
    expect(watchtower.command!.join(" ")).not.toMatch(/cleanup|token/i);
    expect(watchtower.environment?.WATCHTOWER_CLEANUP).toBe("false");
    expect(ports(watchtower)).toEqual(["100.101.102.103:8080:8080"]);
    // The app: on loopback and the tailnet address (the health gate), not every interface.
    expect(ports(services().device_service!)).toEqual([
      "127.0.0.1:3001:3001",
      "100.101.102.103:3001:3001",
    ]);
    expect(mounts(watchtower)).toContain("/var/run/docker.sock:/var/run/docker.sock");
    // v2 resolves env_file into the environment, v1 keeps the token out of its output.
    if (flavour === "v2")
      expect(watchtower.environment?.WATCHTOWER_HTTP_API_TOKEN).toBe(DEVICE_TOKEN);
    expect(JSON.stringify(watchtower.command)).not.toContain(DEVICE_TOKEN);
  });

  it("refuses to start without the tailnet address (it would not bind the API to 0.0.0.0)", () => {
    const { TAILNET_ADDRESS: _, ...env } = deviceEnv();
    const run = config(flavour, project("device", env));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("set TAILNET_ADDRESS");
  });

  it("refuses to start without the token file", () => {
    const run = config(
      flavour,
      project("device", { ...deviceEnv(), WATCHTOWER_ENV_FILE: join(scratch, "absent.env") }),
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("absent.env");
  });
});
