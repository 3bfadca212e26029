// A stand-in for Watchtower (containrrr/watchtower and its maintained fork nickfedor/watchtower),
// for lab devices: the real image cannot be pulled here. It runs as the container the action's
// compose file describes (argv, env_file, socket mount, published port are the action's), and
// does what Watchtower does through the engine's API on /var/run/docker.sock.
//
// Based on Watchtower's published contract (docs/arguments.md, docs/http-api-mode.md,
// docs/container-selection.md, docs/running-multiple-instances.md, pkg/api/api.go,
// pkg/api/update/update.go, pkg/filters/filters.go, pkg/container/container.go):
// - flags --http-api-update, --http-api-token, --http-api-periodic-polls, --label-enable,
//   --scope, --cleanup, --interval/-i (seconds), --schedule/-s (6-field cron), --stop-timeout,
//   --include-restarting, --include-stopped, --debug, --no-startup-message, --no-pull; names as
//   positional arguments; the WATCHTOWER_* environment equivalents. An unknown flag, both
//   --interval and --schedule, or --http-api-update without a token end the program (exit 1).
// - the API listens on :8080; every request needs `Authorization: Bearer <token>` exactly,
//   else 401 with an empty body. GET/POST /v1/update runs one update scan and answers 200 when
//   it is done; `image=a,b` (repeatable) limits it to containers whose image name, cut at its
//   first ":", is listed (Watchtower's own rule, which cuts a registry's port off too).
// - selection: running containers (plus restarting/stopped ones when asked); with
//   --label-enable only those labelled com.centurylinklabs.watchtower.enable=true; with --scope
//   only those whose com.centurylinklabs.watchtower.scope label equals it; never those
//   labelled enable=false.
// - an update pulls the container's image by the name it was created with (an image given by
//   digest is pinned and never changes), and when the image id differs stops the container,
//   removes it and creates it again under the same name with the same config, host config and
//   networks, the image's own defaults (env, labels, cmd...) replaced by the new image's;
//   the old image is removed only with --cleanup.
// - with --http-api-update, periodic polls run only with --http-api-periodic-polls.
import { createServer, request } from "node:http";

const SOCKET = "/var/run/docker.sock";
const log = (level, msg) =>
  process.stdout.write(
    `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}\n`,
  );
const fatal = (msg) => {
  log("fatal", msg);
  process.exit(1);
};

// ---- configuration, as Watchtower reads it (flags first, then WATCHTOWER_* variables) ----
const env = process.env;
const truthy = (v) => v !== undefined && /^(1|t|true)$/i.test(v);
const config = {
  apiUpdate: truthy(env.WATCHTOWER_HTTP_API_UPDATE),
  token: env.WATCHTOWER_HTTP_API_TOKEN ?? "",
  periodicPolls: truthy(env.WATCHTOWER_HTTP_API_PERIODIC_POLLS),
  labelEnable: truthy(env.WATCHTOWER_LABEL_ENABLE),
  scope: env.WATCHTOWER_SCOPE ?? "",
  cleanup: truthy(env.WATCHTOWER_CLEANUP),
  interval: env.WATCHTOWER_POLL_INTERVAL ? Number(env.WATCHTOWER_POLL_INTERVAL) : undefined,
  schedule: env.WATCHTOWER_SCHEDULE ?? "",
  stopTimeout: 10,
  includeRestarting: truthy(env.WATCHTOWER_INCLUDE_RESTARTING),
  includeStopped: truthy(env.WATCHTOWER_INCLUDE_STOPPED),
  noPull: truthy(env.WATCHTOWER_NO_PULL),
  names: [],
};
const BOOL_FLAGS = {
  "--http-api-update": "apiUpdate",
  "--http-api-periodic-polls": "periodicPolls",
  "--label-enable": "labelEnable",
  "--cleanup": "cleanup",
  "-c": "cleanup",
  "--include-restarting": "includeRestarting",
  "--include-stopped": "includeStopped",
  "-S": "includeStopped",
  "--no-pull": "noPull",
  "--debug": null,
  "-d": null,
  "--no-startup-message": null,
};
const VALUE_FLAGS = {
  "--http-api-token": "token",
  "--scope": "scope",
  "--interval": "interval",
  "-i": "interval",
  "--schedule": "schedule",
  "-s": "schedule",
  "--stop-timeout": "stopTimeout",
};
const argv = process.argv.slice(2);
for (let k = 0; k < argv.length; k++) {
  const [flag, inline] = argv[k].startsWith("--") ? argv[k].split(/=(.*)/s) : [argv[k], undefined];
  if (flag in BOOL_FLAGS) {
    if (BOOL_FLAGS[flag]) config[BOOL_FLAGS[flag]] = inline === undefined ? true : truthy(inline);
  } else if (flag in VALUE_FLAGS) {
    const value = inline ?? argv[++k];
    if (value === undefined) fatal(`flag needs an argument: ${flag}`);
    config[VALUE_FLAGS[flag]] = value;
  } else if (flag.startsWith("-")) {
    fatal(`unknown flag: ${flag}`);
  } else {
    config.names.push(flag);
  }
}
if (config.interval !== undefined) {
  config.interval = Number(config.interval);
  if (!Number.isInteger(config.interval) || config.interval <= 0) fatal("invalid interval");
}
config.stopTimeout = Number.parseInt(String(config.stopTimeout), 10) || 10;
if (config.interval !== undefined && config.schedule !== "") {
  fatal("Only schedule or interval can be defined, not both.");
}
if (config.schedule !== "" && config.schedule.trim().split(/\s+/).length !== 6) {
  fatal(`failed to parse schedule ${JSON.stringify(config.schedule)}: expected 6 fields`);
}
if (config.apiUpdate && config.token === "")
  fatal("api token is empty or has not been set. exiting");

// ---- the engine's API over the socket ----
function engine(method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        socketPath: SOCKET,
        method,
        path,
        headers: data ? { "content-type": "application/json", "content-length": data.length } : {},
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode >= 400) {
            reject(new Error(`${method} ${path}: ${res.statusCode} ${text.trim()}`));
          } else resolve(text);
        });
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}
const json = async (method, path, body) => {
  const text = await engine(method, path, body);
  return text.trim() === "" ? null : JSON.parse(text);
};

/** name and tag of a reference; undefined tag for a digest reference (pinned). */
function splitRef(ref) {
  if (ref.includes("@")) return { name: ref.split("@")[0], tag: undefined, pinned: true };
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  return colon > slash
    ? { name: ref.slice(0, colon), tag: ref.slice(colon + 1), pinned: false }
    : { name: ref, tag: "latest", pinned: false };
}

async function pull(ref) {
  const { name, tag } = splitRef(ref);
  const text = await engine(
    "POST",
    `/images/create?fromImage=${encodeURIComponent(name)}&tag=${encodeURIComponent(tag)}`,
  );
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const message = JSON.parse(line);
    if (message.error) throw new Error(`pull ${ref}: ${message.error}`);
  }
}

function selected(c, images) {
  const labels = c.Labels ?? {};
  const enable = labels["com.centurylinklabs.watchtower.enable"];
  if (enable !== undefined && enable.toLowerCase() === "false") return false;
  if (config.labelEnable && enable === undefined) return false;
  if (config.scope !== "" && labels["com.centurylinklabs.watchtower.scope"] !== config.scope) {
    return false;
  }
  if (config.names.length > 0) {
    const name = c.Names?.[0] ?? "";
    if (!config.names.some((n) => n === name || n === name.slice(1))) return false;
  }
  if (images !== undefined && !images.includes(c.Image.split(":")[0])) return false;
  return true;
}

const minus = (list, base) => (list ?? []).filter((x) => !(base ?? []).includes(x));
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The config to create the container again with: what the old image gave it is left out. */
function createConfig(info, oldImage, newRef) {
  const c = { ...info.Config };
  const image = oldImage?.Config ?? {};
  c.Image = newRef;
  c.Env = minus(c.Env, image.Env);
  const labels = { ...(c.Labels ?? {}) };
  for (const [k, v] of Object.entries(image.Labels ?? {})) if (labels[k] === v) delete labels[k];
  c.Labels = labels;
  if (same(c.Cmd, image.Cmd)) c.Cmd = null;
  if (same(c.Entrypoint, image.Entrypoint)) c.Entrypoint = null;
  if (same(c.Healthcheck, image.Healthcheck)) delete c.Healthcheck;
  if (c.WorkingDir === image.WorkingDir) c.WorkingDir = "";
  if (c.User === image.User) c.User = "";
  for (const key of ["ExposedPorts", "Volumes"]) {
    const own = { ...(c[key] ?? {}) };
    for (const k of Object.keys(image[key] ?? {})) delete own[k];
    c[key] = own;
  }
  // The old id as hostname would name the old container.
  if (info.Id.startsWith(c.Hostname ?? "-")) c.Hostname = "";
  return c;
}

async function recreate(summary, newImageId) {
  const info = await json("GET", `/containers/${summary.Id}/json`);
  const oldImage = await json("GET", `/images/${info.Image}/json`).catch(() => null);
  const name = info.Name;
  const ref = info.Config.Image;
  log("info", `Found new ${ref} image (${newImageId.slice(7, 19)})`);
  log("info", `Stopping ${name} (${info.Id.slice(0, 12)}) with SIGTERM`);
  await engine("POST", `/containers/${info.Id}/stop?t=${config.stopTimeout}`).catch(() => {});
  await engine("DELETE", `/containers/${info.Id}?v=false`);
  const networks = Object.entries(info.NetworkSettings?.Networks ?? {});
  const endpoint = (settings) => ({
    Aliases: (settings.Aliases ?? []).filter((a) => !info.Id.startsWith(a)),
    Links: settings.Links,
    ...(settings.IPAMConfig ? { IPAMConfig: settings.IPAMConfig } : {}),
  });
  const body = {
    ...createConfig(info, oldImage, ref),
    HostConfig: info.HostConfig,
    NetworkingConfig: {
      EndpointsConfig:
        networks.length > 0 && info.HostConfig?.NetworkMode !== "host"
          ? { [networks[0][0]]: endpoint(networks[0][1]) }
          : {},
    },
  };
  const created = await json(
    "POST",
    `/containers/create?name=${encodeURIComponent(name.slice(1))}`,
    body,
  );
  for (const [net, settings] of networks.slice(1)) {
    await engine("POST", `/networks/${net}/connect`, {
      Container: created.Id,
      EndpointConfig: endpoint(settings),
    });
  }
  log("info", `Creating ${name}`);
  await engine("POST", `/containers/${created.Id}/start`);
  if (config.cleanup) {
    await engine("DELETE", `/images/${info.Image}`).catch((e) => log("warning", String(e)));
  }
}

let running = Promise.resolve();
/** One scan; scans never overlap (Watchtower holds one lock for them). */
function scan(images) {
  const next = running.then(async () => {
    const filters = { status: ["running"] };
    if (config.includeRestarting) filters.status.push("restarting");
    if (config.includeStopped) filters.status.push("created", "exited");
    const all = await json(
      "GET",
      `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(filters))}`,
    );
    const report = { scanned: 0, updated: 0, failed: 0 };
    for (const c of all.filter((x) => selected(x, images))) {
      report.scanned += 1;
      try {
        const info = await json("GET", `/containers/${c.Id}/json`);
        const ref = info.Config.Image;
        if (splitRef(ref).pinned) {
          log("debug", `${info.Name}: pinned by digest, skipped`);
          continue;
        }
        if (!config.noPull) await pull(ref);
        const latest = await json("GET", `/images/${encodeURIComponent(ref)}/json`);
        if (latest.Id === info.Image) continue;
        await recreate(c, latest.Id);
        report.updated += 1;
      } catch (error) {
        report.failed += 1;
        log("error", `${c.Names?.[0]}: ${error.message}`);
      }
    }
    log(
      "info",
      `Session done Failed=${report.failed} Scanned=${report.scanned} Updated=${report.updated}`,
    );
    return report;
  });
  running = next.catch(() => {});
  return next;
}

// ---- the HTTP API ----
if (config.apiUpdate) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://watchtower");
    if (req.headers.authorization !== `Bearer ${config.token}`) {
      res.writeHead(401).end();
      return;
    }
    if (url.pathname !== "/v1/update") {
      res.writeHead(404).end("404 page not found\n");
      return;
    }
    req.resume();
    log("info", "Updates triggered by HTTP API request.");
    const images = url.searchParams.getAll("image").flatMap((v) => v.split(","));
    scan(images.length > 0 ? images : undefined).then(
      () => res.writeHead(200).end(),
      (error) => res.writeHead(500).end(`${error.message}\n`),
    );
  });
  server.listen(8080, () => log("info", "Watchtower HTTP API started."));
}

const pollEvery = config.interval ?? (config.schedule === "" ? 86_400 : undefined);
if (!config.apiUpdate || config.periodicPolls) {
  if (pollEvery !== undefined) {
    log("info", `Scheduling first run: every ${pollEvery}s`);
    setInterval(() => scan(undefined).catch((e) => log("error", e.message)), pollEvery * 1000);
  } else {
    // Cron schedules are accepted but not run by this stand-in.
    log("info", `Schedule ${config.schedule} accepted (not run by the lab stand-in)`);
    setInterval(() => {}, 1 << 30);
  }
} else {
  log("info", "Periodic runs are not enabled.");
}
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
