// The stand-in checked against tailscale's own examples: the steps and ServeConfig JSON of
// TestServeDevConfigMutations (cmd/tailscale/cli/serve_v2_test.go, groups "combos",
// "turn_off_https", "two_ports_same_dest"), and the refusals of serve_v2.go / ipn/serve.go.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const CLI = new URL("./standin/tailscale.mjs", import.meta.url).pathname;
const FOO = "foo.test.ts.net";
let state: string;

function node(patch: Record<string, unknown> = {}) {
  writeFileSync(
    join(state, "node.json"),
    JSON.stringify({
      backendState: "Running",
      hostName: "foo",
      dnsName: `${FOO}.`,
      capabilities: [
        "https",
        "funnel",
        "https://tailscale.com/cap/funnel-ports?ports=443,8443,10000",
      ],
      ...patch,
    }),
  );
}

function ts(line: string) {
  const r = spawnSync(process.execPath, [CLI, ...line.split(" ")], {
    env: { ...process.env, TAILSCALE_STANDIN_STATE: state, TAILSCALE_STANDIN_NO_DAEMON: "1" },
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function config() {
  return JSON.parse(ts("serve status --json").stdout);
}

beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), "ts-standin-"));
  mkdirSync(state, { recursive: true });
  node();
});
afterEach(() => rmSync(state, { recursive: true, force: true }));

// Each step starts a node process: generous on a busy machine.
describe("tailscale stand-in: serve_v2_test.go examples", { timeout: 60_000 }, () => {
  it("combos: funnel and serve on two ports, funnel per port, off", () => {
    expect(ts("serve status --json").stdout).toBe("null\n");
    expect(ts("serve --bg localhost:3000").code).toBe(0);
    expect(config()).toEqual({
      TCP: { "443": { HTTPS: true } },
      Web: { [`${FOO}:443`]: { Handlers: { "/": { Proxy: "http://localhost:3000" } } } },
    });
    ts("funnel --bg localhost:3000");
    expect(config().AllowFunnel).toEqual({ [`${FOO}:443`]: true });
    ts("serve --bg --https=8443 --set-path=/bar localhost:3001");
    expect(config().AllowFunnel).toEqual({ [`${FOO}:443`]: true });
    ts("funnel --bg --https=8443 --set-path=/bar localhost:3001");
    expect(config().AllowFunnel).toEqual({ [`${FOO}:443`]: true, [`${FOO}:8443`]: true });
    // serve on a funnel port turns funnel off for it
    ts("serve --bg localhost:3000");
    expect(config()).toEqual({
      AllowFunnel: { [`${FOO}:8443`]: true },
      TCP: { "443": { HTTPS: true }, "8443": { HTTPS: true } },
      Web: {
        [`${FOO}:443`]: { Handlers: { "/": { Proxy: "http://localhost:3000" } } },
        [`${FOO}:8443`]: { Handlers: { "/bar": { Proxy: "http://localhost:3001" } } },
      },
    });
    ts("serve --bg --https=8443 --set-path=/bar off");
    expect(config()).toEqual({
      TCP: { "443": { HTTPS: true } },
      Web: { [`${FOO}:443`]: { Handlers: { "/": { Proxy: "http://localhost:3000" } } } },
    });
    ts("serve --bg --tcp=8443 tcp://localhost:5432");
    expect(config().TCP["8443"]).toEqual({ TCPForward: "localhost:5432" });
    ts("serve off");
    expect(config()).toEqual({ TCP: { "8443": { TCPForward: "localhost:5432" } } });
    ts("serve --tls-terminated-tcp=8443 off");
    expect(config()).toEqual({});
  });

  it("expands targets like ExpandProxyTargetValue and keeps ports apart", () => {
    ts("funnel --bg 3000");
    ts("serve --bg --https=8443 --set-path=/foo localhost:3000");
    ts("serve --bg --https=10000 http://127.0.0.1:3000/foo/bar");
    ts("serve --bg --https=443 --set-path=bar https+insecure://127.0.0.1:8443");
    const sc = config();
    expect(sc.Web[`${FOO}:443`].Handlers).toEqual({
      "/": { Proxy: "http://127.0.0.1:3000" },
      "/bar": { Proxy: "https+insecure://127.0.0.1:8443" },
    });
    expect(sc.Web[`${FOO}:8443`].Handlers).toEqual({ "/foo": { Proxy: "http://localhost:3000" } });
    expect(sc.Web[`${FOO}:10000`].Handlers).toEqual({
      "/": { Proxy: "http://127.0.0.1:3000/foo/bar" },
    });
    // the second serve on 443 turned its funnel off
    expect(sc.AllowFunnel).toBeUndefined();
    expect(ts("serve reset").code).toBe(0);
    expect(config()).toEqual({});
  });

  it("refuses what the real CLI refuses, with its messages", () => {
    const cases: [string, RegExp][] = [
      ["serve --https=443 --bg http://localhost:0", /invalid port "0"/],
      ["serve --https=443 --bg httpz://127.0.0.1", /supported schemes/],
      ["serve --https=443 --bg 192.168.1.1:3000", /only localhost or 127.0.0.1/],
      ["serve --https=443 --set-path=/foo off", /handler does not exist/],
      ["funnel --http=80 3000", /flag provided but not defined: -http/],
      ["serve --http=80 --https=443 --bg 3000", /cannot serve multiple types/],
      [
        "funnel --bg --https=9000 3000",
        /port 9000 is not allowed for funnel; allowed ports are: 443,8443,10000/,
      ],
      [
        "serve https / http://127.0.0.1:3000",
        /the CLI for serve and funnel has changed[\s\S]*tailscale serve --bg http:\/\/127.0.0.1:3000/,
      ],
      ["serve https:8443 /api http://127.0.0.1:3001", /--https 8443 --set-path \/api/],
      ["funnel 443 on", /the CLI for serve and funnel has changed/],
      ["serve --bg 3000 4000", /invalid argument format/],
    ];
    for (const [line, message] of cases) {
      const r = ts(line);
      expect(r.code, line).not.toBe(0);
      expect(r.stderr, line).toMatch(message);
    }
    ts("serve --tls-terminated-tcp=443 --bg tcp://localhost:5432");
    expect(ts("serve --https=443 --bg localhost:3000").stderr).toMatch(
      /want to serve "https" but port is already serving "tls-terminated-tcp"/,
    );
    expect(config().TCP["443"]).toEqual({ TCPForward: "localhost:5432", TerminateTLS: FOO });
  });

  it("says logged out, and refuses funnel without the node attribute", () => {
    node({ backendState: "NeedsLogin" });
    expect(ts("serve --bg 3000")).toMatchObject({ code: 1, stderr: "Logged out.\n" });
    expect(JSON.parse(ts("status --json").stdout).BackendState).toBe("NeedsLogin");
    node({ capabilities: ["https"] });
    expect(ts("funnel --bg 3000").stderr).toBe(
      'Funnel not available; "funnel" node attribute not set. See https://tailscale.com/s/no-funnel.\n',
    );
    expect(ts("serve status --json").stdout).toBe("null\n");
  });
});
