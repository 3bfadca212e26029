import * as core from "@actions/core";
import { info, phase, warn } from "@smoker/action-kit";
import {
  buildNotice,
  NotifyError,
  type PostedMessage,
  runContextFromEnv,
  type WebhookMessage,
  WebhookPoster,
} from "@smoker/discord";
import { type NotifySettings, readInputs } from "./inputs.js";

export async function main(): Promise<void> {
  const settings = readInputs();
  const poster = new WebhookPoster(settings.webhook, {
    apiBase: settings.apiBase,
    threadId: settings.threadId,
    timeoutMs: settings.timeoutMs,
    log: info,
  });
  try {
    const id = await phase("Notify Discord", () => deliver(poster, settings));
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
  } finally {
    poster.close();
  }
}

/** Posts or edits the notice; returns the message id. */
async function deliver(poster: WebhookPoster, settings: NotifySettings): Promise<string> {
  const what = `${settings.status} notice${settings.environment ? ` for ${settings.environment}` : ""}`;
  let original: PostedMessage | undefined;
  if (settings.messageId !== undefined) {
    try {
      original = await poster.fetch(settings.messageId);
    } catch (error) {
      if (!(error instanceof NotifyError) || error.kind !== "unknown-message") throw error;
      warn(
        `Message ${settings.messageId} is gone (deleted in Discord?): posting a new one instead`,
      );
    }
  }
  const startedAt = original?.timestamp === undefined ? Number.NaN : Date.parse(original.timestamp);
  const notice = buildNotice({
    status: settings.status,
    environment: settings.environment,
    version: settings.version,
    title: settings.title,
    details: settings.details,
    services: settings.services,
    run: runContextFromEnv(),
    durationMs: Number.isNaN(startedAt) ? undefined : Math.max(0, Date.now() - startedAt),
    mention: settings.mention,
  });

  if (original === undefined) {
    const posted = await poster.post(notice);
    info(`Posted the ${what}: message ${posted.id}`);
    return posted.id;
  }
  // Discord does not notify for mentions added by an edit: the ping goes in a new message.
  const edited = await poster.edit(original.id, { ...notice, content: "" });
  info(`Edited message ${edited.id} to the ${what}`);
  if (notice.content !== "") {
    const ping: WebhookMessage = { ...notice, embeds: [] };
    const posted = await poster.post(ping);
    info(`Posted the failure ping as message ${posted.id}`);
  }
  return edited.id;
}
