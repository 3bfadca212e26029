import { hostname } from "node:os";

/** Who is running this step: recorded in deploy locks, release records and the audit log. */
export interface RunIdentity {
  /** `owner/repo#runId.attempt` (`local#0.1` outside GitHub). */
  run: string;
  actor: string;
  commit: string;
  /** The runner's name, or this machine's host name. */
  runner: string;
}

export function runIdentity(env: NodeJS.ProcessEnv = process.env): RunIdentity {
  return {
    run: `${env.GITHUB_REPOSITORY ?? "local"}#${env.GITHUB_RUN_ID ?? "0"}.${env.GITHUB_RUN_ATTEMPT ?? "1"}`,
    actor: env.GITHUB_ACTOR ?? "unknown",
    commit: env.GITHUB_SHA ?? "unknown",
    runner: env.RUNNER_NAME ?? hostname(),
  };
}
