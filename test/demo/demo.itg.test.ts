import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { ROOT } from "../deploy/support.js";

// `npm run demo` is the README's main job: the nightly story must keep behaving as told.
test("the nightly demo plays every step as expected", () => {
  const run = spawnSync(`${ROOT}node_modules/.bin/tsx`, ["test/demo/nightly.ts"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 170_000,
  });
  expect(run.stdout).toContain("Every step behaved as expected");
  expect(run.stdout).toMatch(
    /serving 1\.0\.0 at .* although the tag now points to the crash image/,
  );
  // What Discord would show: each deploy's notice, edited from started to its outcome.
  expect(run.stdout).toContain("Discord, message edited:");
  expect(run.stdout).toMatch(/\*\*↩️ nightly-demo to dev-cloud\*\*/);
  expect(run.status).toBe(0);
});
