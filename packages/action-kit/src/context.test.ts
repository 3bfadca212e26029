import { expect, test } from "vitest";
import { runIdentity } from "./context.js";

test("identity of a GitHub run, and of a local one", () => {
  expect(
    runIdentity({
      GITHUB_REPOSITORY: "smoker/app",
      GITHUB_RUN_ID: "42",
      GITHUB_RUN_ATTEMPT: "2",
      GITHUB_ACTOR: "octocat",
      GITHUB_SHA: "abc",
      RUNNER_NAME: "lab-runner",
    }),
  ).toEqual({ run: "smoker/app#42.2", actor: "octocat", commit: "abc", runner: "lab-runner" });
  expect(runIdentity({})).toMatchObject({ run: "local#0.1", actor: "unknown", commit: "unknown" });
});
