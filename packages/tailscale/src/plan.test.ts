import { render } from "@smoker/remote";
import { describe, expect, it } from "vitest";
import { parseDesired } from "./desired.js";
import { commandFor, planChanges } from "./plan.js";
import { currentEntries, parseServeConfig } from "./serve-config.js";

const DNS = "prod-cloud.tail4e2b9.ts.net";
const PROD = parseDesired(`
- {port: 443, target: 80, funnel: true}
- {port: 8443, target: 3001, funnel: true}
`);
// What the CLI leaves after `funnel --bg 80` and `funnel --bg '--https=8443' 3001`.
const APPLIED = {
  TCP: { "443": { HTTPS: true }, "8443": { HTTPS: true } },
  Web: {
    [`${DNS}:443`]: { Handlers: { "/": { Proxy: "http://127.0.0.1:80" } } },
    [`${DNS}:8443`]: { Handlers: { "/": { Proxy: "http://127.0.0.1:3001" } } },
  },
  AllowFunnel: { [`${DNS}:443`]: true, [`${DNS}:8443`]: true },
};

function commands(sc: unknown, resetOthers = false, desired = PROD) {
  const current = currentEntries(parseServeConfig(JSON.stringify(sc)), DNS);
  const plan = planChanges(desired, current, { resetOthers });
  return { plan, argv: plan.steps.map((s) => render(commandFor(s))) };
}

describe("planChanges", () => {
  it("a fresh node (null) gets both entries in the current syntax", () => {
    expect(commands(null).argv).toEqual([
      "tailscale funnel --bg '--https=443' 80",
      "tailscale funnel --bg '--https=8443' 3001",
    ]);
  });

  it("a node that already serves the config gets nothing", () => {
    const { plan, argv } = commands(APPLIED);
    expect(argv).toEqual([]);
    expect(plan.unchanged).toHaveLength(2);
    expect(plan.extras).toEqual([]);
  });

  it("drift: a removed port is put back, and only that", () => {
    const drifted = structuredClone(APPLIED) as typeof APPLIED & Record<string, never>;
    delete (drifted.TCP as Record<string, unknown>)["8443"];
    delete (drifted.Web as Record<string, unknown>)[`${DNS}:8443`];
    delete (drifted.AllowFunnel as Record<string, unknown>)[`${DNS}:8443`];
    expect(commands(drifted).argv).toEqual(["tailscale funnel --bg '--https=8443' 3001"]);
  });

  it("a changed target or a funnel turned off is set again", () => {
    const sc = structuredClone(APPLIED);
    sc.Web[`${DNS}:443`]!.Handlers["/"] = { Proxy: "http://127.0.0.1:8080" };
    delete (sc.AllowFunnel as Record<string, boolean>)[`${DNS}:8443`];
    const { plan, argv } = commands(sc);
    expect(argv).toEqual([
      "tailscale funnel --bg '--https=443' 80",
      "tailscale funnel --bg '--https=8443' 3001",
    ]);
    expect(plan.steps.map((s) => s.action === "set" && s.reason)).toEqual(["target", "funnel"]);
  });

  it("an extra entry is reported and left alone, or turned off with reset-others", () => {
    const sc = structuredClone(APPLIED) as Record<string, Record<string, unknown>>;
    sc.TCP!["10000"] = { HTTPS: true };
    sc.Web![`${DNS}:10000`] = { Handlers: { "/docs": { Text: "hi" } } };
    const kept = commands(sc);
    expect(kept.argv).toEqual([]);
    expect(kept.plan.extras.map((e) => [e.port, e.path, e.target])).toEqual([
      [10000, "/docs", "text:hi"],
    ]);
    expect(commands(sc, true).argv).toEqual([
      "tailscale serve '--https=10000' '--set-path=/docs' off",
    ]);
  });

  it("a TCP forwarder on a wanted port is freed first; elsewhere it is only reported", () => {
    const sc = {
      TCP: { "443": { TCPForward: "127.0.0.1:22" }, "2222": { TCPForward: "127.0.0.1:22" } },
    };
    const { plan, argv } = commands(sc);
    expect(argv).toEqual([
      "tailscale serve '--tcp=443' off",
      "tailscale funnel --bg '--https=443' 80",
      "tailscale funnel --bg '--https=8443' 3001",
    ]);
    expect(plan.extras.map((e) => e.port)).toEqual([2222]);
  });

  it("serve entries with paths use --set-path and the serve subcommand", () => {
    const desired = parseDesired("- {port: 4545, path: /api, target: 'localhost:3000'}");
    expect(commands(null, false, desired).argv).toEqual([
      "tailscale serve --bg '--https=4545' '--set-path=/api' localhost:3000",
    ]);
  });
});
