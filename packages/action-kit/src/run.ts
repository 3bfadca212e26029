import * as core from "@actions/core";
import { describeFailure, describeStacks } from "./internal/failure.js";
import { resetTimings } from "./log.js";

export type StepFunction = () => Promise<unknown> | unknown;

// Saved by the main step; the runner hands it back to the post step as STATE_isPost.
const IS_POST = "isPost";

/**
 * Runs an action's main step, or its post step when the runner starts the same bundle again
 * for `runs.post`. Whatever is thrown ends in one annotation (see describeFailure): a failed
 * main step calls core.setFailed (process.exitCode = 1); a failed post step only warns, since
 * cleanup should not turn a good deploy red. Stack traces go to the debug log. Never calls
 * process.exit: the returned promise settles and node exits with process.exitCode.
 */
export async function run(main: StepFunction, post?: StepFunction): Promise<void> {
  resetTimings();
  const isPost = post !== undefined && core.getState(IS_POST) === "true";
  try {
    if (isPost) {
      await post();
    } else {
      // Saved before main runs so cleanup still happens when main fails half-way.
      if (post !== undefined) core.saveState(IS_POST, "true");
      await main();
    }
  } catch (error) {
    for (const stack of describeStacks(error)) core.debug(stack);
    const message = describeFailure(error);
    if (isPost) core.warning(message, { title: "Post step" });
    else core.setFailed(message);
  }
}
