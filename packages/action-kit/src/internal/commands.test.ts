import { expect, test } from "vitest";
import { parseCommands } from "./commands.js";

test("reads masks and annotations, unescaped, and ignores everything else", () => {
  const log = [
    "plain text ::add-mask::not a command",
    "::group::Deploy",
    "::add-mask::line 1%0Aline 2",
    "::add-mask::100%25",
    "::error::Deploy failed: boom%0ACheck the host.",
    "::warning title=Post step%3A cleanup%2C keys::could not delete",
    "::notice::fyi",
    "::debug::details",
    "::endgroup::",
  ].join("\n");
  expect(parseCommands(log)).toEqual({
    masked: ["line 1\nline 2", "100%"],
    annotations: [
      { level: "error", message: "Deploy failed: boom\nCheck the host." },
      { level: "warning", title: "Post step: cleanup, keys", message: "could not delete" },
      { level: "notice", message: "fyi" },
    ],
  });
});
