import { render } from "@smoker/remote";
import { describe, expect, test } from "vitest";
import { archiveCommand, backupsToPrune, parseVerify, verifyCommand } from "./backups.js";

describe("backup commands", () => {
  test("the archive is made read-only, without network, by the chosen image", () => {
    expect(
      render(
        archiveCommand("busybox:1.36", "shop_data", "/opt/shop/.smoker/backups/x", "data.tar.gz"),
      ),
    ).toBe(
      "docker run --rm --network none -v shop_data:/volume:ro -v /opt/shop/.smoker/backups/x:/backup busybox:1.36 tar -czf /backup/data.tar.gz -C /volume .",
    );
  });
  test("verification lists, counts, hashes and sizes in one round trip", () => {
    expect(render(verifyCommand("/b/data.tar.gz"))).toBe(
      "tar -tzf /b/data.tar.gz > /b/data.tar.gz.list && wc -l /b/data.tar.gz.list && sha256sum -- /b/data.tar.gz && stat -c %s /b/data.tar.gz",
    );
    const sum = "a".repeat(64);
    expect(parseVerify(`3 /b/data.tar.gz.list\n${sum}  /b/data.tar.gz\n2048\n`)).toEqual({
      entries: 3,
      sha256: sum,
      bytes: 2048,
    });
    expect(() => parseVerify("garbage")).toThrow(/unexpected/);
  });
});

describe("retention: 7 daily, 4 weekly, 12 monthly", () => {
  const id = (d: string, n = 0) => `${d.replaceAll("-", "")}T0${n}0000Z-1.0-abcdef`;

  test("several backups a day: only the newest of each day is kept", () => {
    const ids = [id("2026-11-30", 1), id("2026-11-30", 2), id("2026-11-29", 1)];
    expect(backupsToPrune(ids)).toEqual([id("2026-11-30", 1)]);
  });

  test("a nightly backup for 60 days keeps 7 days, then one per week and month", () => {
    const ids = Array.from({ length: 60 }, (_, k) =>
      id(new Date(Date.UTC(2026, 10, 30) - k * 86_400_000).toISOString().slice(0, 10)),
    );
    const kept = ids.filter((x) => !backupsToPrune(ids).includes(x));
    // 7 daily (Nov 24-30), weekly adds the newest of earlier weeks, monthly the newest of Oct.
    expect(kept.slice(0, 7)).toEqual(ids.slice(0, 7));
    expect(kept.length).toBeGreaterThanOrEqual(9);
    expect(kept.length).toBeLessThanOrEqual(12);
    expect(kept).toContain(id("2026-10-31"));
    expect(kept).not.toContain(id("2026-10-30"));
  });

  test("names that are not deployment ids are never pruned", () => {
    expect(backupsToPrune(["manual-copy", id("2026-11-30")])).toEqual([]);
  });
});
