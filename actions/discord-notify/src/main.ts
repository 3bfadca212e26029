import * as core from "@actions/core";
import { info, phase, warn } from "@smoker/action-kit";
import { NotifyError, notify, readNotifyInputs } from "@smoker/discord";

export async function main(): Promise<void> {
  const settings = readNotifyInputs();
  try {
    const id = await phase("Notify Discord", () => notify(settings, { info, warn }));
    core.setOutput("message-id", id);
  } catch (error) {
    core.setOutput("message-id", settings.messageId ?? "");
    if (settings.failOnError) throw error;
    // A notice is not worth a red deploy: say what went wrong and carry on.
    const hint = error instanceof NotifyError && error.hint ? ` ${error.hint}` : "";
    const why = error instanceof Error ? error.message : String(error);
    warn(
      `The Discord notice (${settings.status}) was not delivered: ${why}.${hint} (set fail-on-error: true to fail the step instead)`,
    );
  }
}
