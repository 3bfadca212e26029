import type { PostedMessage } from "./client.js";
import { NotifyError, WebhookPoster } from "./client.js";
import type { NotifySettings } from "./inputs.js";
import { buildNotice, runContextFromEnv, type WebhookMessage } from "./notice.js";

export interface NotifyLog {
  info(line: string): void;
  warn(line: string): void;
}

/**
 * Sends the notice `settings` describe: a new message, or, with a message id, an edit of that
 * message to the outcome (its duration counted from when it was posted). Resolves to the id
 * of the message that now shows the outcome; delivery failures reject with NotifyError.
 */
export async function notify(
  settings: NotifySettings,
  log: NotifyLog,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const poster = new WebhookPoster(settings.webhook, {
    apiBase: settings.apiBase,
    threadId: settings.threadId,
    timeoutMs: settings.timeoutMs,
    log: log.info,
  });
  try {
    return await deliver(poster, settings, log, env);
  } finally {
    poster.close();
  }
}

async function deliver(
  poster: WebhookPoster,
  settings: NotifySettings,
  log: NotifyLog,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const what = `${settings.status} notice${settings.environment ? ` for ${settings.environment}` : ""}`;
  let original: PostedMessage | undefined;
  if (settings.messageId !== undefined) {
    try {
      original = await poster.fetch(settings.messageId);
    } catch (error) {
      if (!(error instanceof NotifyError) || error.kind !== "unknown-message") throw error;
      log.warn(
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
    run: runContextFromEnv(env),
    durationMs: Number.isNaN(startedAt) ? undefined : Math.max(0, Date.now() - startedAt),
    mention: settings.mention,
  });

  if (original === undefined) {
    const posted = await poster.post(notice);
    log.info(`Posted the ${what}: message ${posted.id}`);
    return posted.id;
  }
  // Discord does not notify for mentions added by an edit: the ping goes in a new message.
  const edited = await poster.edit(original.id, { ...notice, content: "" });
  log.info(`Edited message ${edited.id} to the ${what}`);
  if (notice.content !== "") {
    const ping: WebhookMessage = { ...notice, embeds: [] };
    const posted = await poster.post(ping);
    log.info(`Posted the failure ping as message ${posted.id}`);
  }
  return edited.id;
}
