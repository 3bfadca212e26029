import { ActionError, type ActionErrorOptions } from "@smoker/action-kit";

/** Compose could not be used on a host: not installed, a file or name it refuses, bad output. */
export class ComposeError extends ActionError {
  constructor(message: string, options: ActionErrorOptions = {}) {
    super(message, options);
    this.name = "ComposeError";
  }
}

/** Why a watched service is not up. */
export type UnhealthyReason = "exited" | "restarting" | "unhealthy" | "missing" | "timeout";

const HINTS: Record<UnhealthyReason, (container: string) => string> = {
  exited: (c) =>
    `The container stopped on its own: its last log lines are above (all of them: \`docker logs ${c}\` on the host). Check the image's command and the service's environment and volumes.`,
  restarting: (c) =>
    `The container keeps crashing and Docker keeps restarting it: its last log lines are above (all of them: \`docker logs ${c}\` on the host).`,
  unhealthy: (c) =>
    `The service runs but its healthcheck fails: \`docker inspect --format '{{json .State.Health}}' ${c}\` on the host shows each check's output.`,
  missing: () =>
    "The service has no container: check the service name against the compose files (`docker compose config --services`) and that nothing else removed it.",
  timeout: () =>
    "The service was still starting. If it is merely slow (a long healthcheck start_period), raise the timeout; otherwise its log lines above say what it is waiting for.",
};

/**
 * A watched service failed: it exited, crash-looped, turned unhealthy, lost its container, or
 * was still starting at the timeout. The message ends with the container's last log lines.
 */
export class UnhealthyError extends ComposeError {
  readonly service: string;
  readonly reason: UnhealthyReason;
  /** Name of the container judged, when there is one. */
  readonly container: string | undefined;
  /** Its last log lines (stdout and stderr), possibly empty. */
  readonly logs: string;

  constructor(failure: {
    service: string;
    reason: UnhealthyReason;
    detail: string;
    container?: string;
    logs?: string;
  }) {
    const logs = failure.logs?.trimEnd() ?? "";
    const tail = logs === "" ? "" : `\nLast log lines of ${failure.container}:\n${logs}`;
    super(`${failure.detail}${tail}`, { hint: HINTS[failure.reason](failure.container ?? "") });
    this.name = "UnhealthyError";
    this.service = failure.service;
    this.reason = failure.reason;
    this.container = failure.container;
    this.logs = logs;
  }
}
