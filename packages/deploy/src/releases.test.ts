import { render } from "@smoker/remote";
import { describe, expect, test } from "vitest";
import {
  auditCommand,
  isDeploymentId,
  listCommand,
  newDeploymentId,
  parseRecords,
  previousRelease,
  pruneCommand,
  type ReleaseRecord,
  releasesToPrune,
} from "./releases.js";

function record(id: string, status: ReleaseRecord["status"], createdAt: string): ReleaseRecord {
  return {
    id,
    project: "app",
    version: "1",
    status,
    createdAt,
    compose: "v2",
    files: ["docker-compose.yml"],
    services: [],
    by: { run: "1", actor: "a", commit: "c", runner: "r" },
  };
}

const r1 = record("20261130T100000Z-1.0.0-aaaaaa", "shipped", "2026-11-30T10:00:00.000Z");
const r2 = record("20261130T110000Z-2.0.0-bbbbbb", "failed", "2026-11-30T11:00:00.000Z");
const r3 = record("20261130T120000Z-3.0.0-cccccc", "shipped", "2026-11-30T12:00:00.000Z");

describe("deployment ids", () => {
  test("sort by time, name the version, and are unique", () => {
    const at = new Date("2026-11-30T23:15:00.123Z");
    const id = newDeploymentId("1.2.3", at);
    expect(id).toMatch(/^20261130T231500Z-1\.2\.3-[0-9a-f]{6}$/);
    expect(isDeploymentId(id)).toBe(true);
    expect(newDeploymentId("1.2.3", at)).not.toBe(id);
    expect(newDeploymentId("a/b c", at)).toMatch(/-a_b_c-/);
  });
  test.each(["../etc", "20261130T231500Z-x-zzzzzz", "", "20261130T231500Z--abcdef"])(
    "rejects %j",
    (v) => {
      expect(isDeploymentId(v)).toBe(false);
    },
  );
});

describe("records", () => {
  test("parse skips torn lines and sorts oldest first", () => {
    const text = [
      JSON.stringify(r3),
      '{"id":"2026113',
      JSON.stringify(r1),
      JSON.stringify(r2),
      "",
    ].join("\n");
    expect(parseRecords(text).map((r) => r.id)).toEqual([r1.id, r2.id, r3.id]);
  });
  test("previous is the newest shipped release other than the current one, skipping failed ones", () => {
    expect(previousRelease([r1, r2, r3], r3.id)?.id).toBe(r1.id);
    expect(previousRelease([r1, r2, r3])?.id).toBe(r3.id);
    expect(previousRelease([r2])).toBeUndefined();
  });
  test("prune keeps the newest N and never the protected ones", () => {
    expect(releasesToPrune([r1, r2, r3], 2).map((r) => r.id)).toEqual([r1.id]);
    expect(releasesToPrune([r1, r2, r3], 1, [r1.id]).map((r) => r.id)).toEqual([r2.id, r3.id]);
    expect(releasesToPrune([r1, r2, r3], 5)).toEqual([]);
  });
});

describe("commands", () => {
  test.each([
    [
      listCommand("/opt/app"),
      "find /opt/app/.smoker/releases -maxdepth 1 -type f -name '*.json' -exec cat -- '{}' + 2> /dev/null",
    ],
    [auditCommand("/opt/app"), "mkdir -p -- /opt/app/.smoker && cat >> /opt/app/.smoker/audit.log"],
    [
      pruneCommand("/opt/app", [r1.id]),
      `rm -rf -- /opt/app/.smoker/releases/${r1.id}.json /opt/app/.smoker/releases/${r1.id}`,
    ],
  ])("%#: %s", (script, expected) => {
    expect(render(script)).toBe(expected);
  });
});
