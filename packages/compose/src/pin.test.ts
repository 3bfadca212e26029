import { describe, expect, test } from "vitest";
import { ComposeError } from "./errors.js";
import { pinnedOverride } from "./pin.js";

const A = `10.231.0.1:5000/smoker/backend@sha256:${"a".repeat(64)}`;
const B = `nginx@sha256:${"b".repeat(64)}`;

describe("pinnedOverride", () => {
  test("one service", () => {
    expect(pinnedOverride([{ service: "backend", digest: A }])).toBe(
      [
        "# Written by smoker: each service pinned to the image digest of a release.",
        "services:",
        '  "backend":',
        `    image: "${A}"`,
        "",
      ].join("\n"),
    );
  });

  test("several services, in the order given, and extra fields ignored", () => {
    const pins = [
      { service: "web.front", digest: B, imageId: "sha256:1" },
      { service: "backend", digest: A },
    ];
    expect(pinnedOverride(pins).split("\n").slice(1)).toEqual([
      "services:",
      '  "web.front":',
      `    image: "${B}"`,
      '  "backend":',
      `    image: "${A}"`,
      "",
    ]);
  });

  test.each([
    ["no services", [], /No services to pin/],
    ["a tag instead of a digest", [{ service: "a", digest: "nginx:1.25" }], /not an image digest/],
    ["a short digest", [{ service: "a", digest: "nginx@sha256:abc" }], /not an image digest/],
    ["a bare digest", [{ service: "a", digest: `sha256:${"a".repeat(64)}` }], /not an image/],
    [
      "YAML in a digest",
      [{ service: "a", digest: `x\n  command: sh@sha256:${"a".repeat(64)}` }],
      /not an image/,
    ],
    ["YAML in a service", [{ service: "a:\n  b", digest: A }], /service name/],
    [
      "a service twice",
      [
        { service: "a", digest: A },
        { service: "a", digest: B },
      ],
      /pinned twice/,
    ],
  ])("refuses %s", (_name, pins, message) => {
    expect(() => pinnedOverride(pins)).toThrow(message);
    expect(() => pinnedOverride(pins)).toThrow(ComposeError);
  });
});
