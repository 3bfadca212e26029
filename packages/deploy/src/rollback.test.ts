import { describe, expect, test } from "vitest";
import type { ReleaseRecord } from "./releases.js";
import { chooseTarget, RollbackError } from "./rollback.js";

function release(
  id: string,
  status: ReleaseRecord["status"],
  image: string,
  at: string,
): ReleaseRecord {
  return {
    id,
    project: "app",
    version: id.split("-")[1]!,
    status,
    createdAt: at,
    compose: "v2",
    files: ["docker-compose.yml"],
    services: [
      { service: "backend", container: "c", imageRef: "r", imageId: image, digest: undefined },
    ],
    by: { run: "1", actor: "a", commit: "c", runner: "r" },
  };
}

const v1 = release("20261130T100000Z-1.0.0-aaaaaa", "shipped", "sha256:1", "2026-11-30T10:00:00Z");
const v2 = release("20261130T110000Z-2.0.0-bbbbbb", "shipped", "sha256:2", "2026-11-30T11:00:00Z");
const v3 = release("20261130T120000Z-3.0.0-cccccc", "failed", "sha256:3", "2026-11-30T12:00:00Z");
const running = (image: string) => new Map([["backend", image]]);

describe("chooseTarget", () => {
  test("previous is the shipped release before the running one, skipping failed ones", () => {
    const { target, current } = chooseTarget([v1, v2, v3], running("sha256:2"), "previous");
    expect(current?.id).toBe(v2.id);
    expect(target.id).toBe(v1.id);
  });

  test("after a rollback the rolled-away release is not 'previous' again", () => {
    const v2gone = { ...v2, status: "rolled-back" as const };
    expect(() => chooseTarget([v1, v2gone], running("sha256:1"), "previous")).toThrow(
      RollbackError,
    );
  });

  test("an explicit id is taken as asked, even a newer one", () => {
    expect(chooseTarget([v1, v2], running("sha256:1"), v2.id).target.id).toBe(v2.id);
  });

  test("an unknown id names what is kept", () => {
    expect(() => chooseTarget([v1], running("sha256:1"), "20261130T000000Z-x-abcdef")).toThrow(
      /no release/,
    );
  });

  test("when what runs matches no record, previous is the newest shipped one", () => {
    const { target, current } = chooseTarget([v1, v2], running("sha256:9"), "previous");
    expect(current).toBeUndefined();
    expect(target.id).toBe(v2.id);
  });
});
