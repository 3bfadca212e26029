export {
  type DeliveryOptions,
  NotifyError,
  type NotifyErrorKind,
  type PostedMessage,
  WebhookPoster,
} from "./client.js";
export { DeploymentJsonError, parseDeploymentImages, type ServiceImage } from "./deployment.js";
export {
  type NotifySettings,
  notifyInputSpec,
  parseMention,
  readNotifyInputs,
} from "./inputs.js";
export { charCount, ELLIPSIS, LIMITS, markdownClosers, truncate } from "./limits.js";
export {
  type AllowedMentions,
  buildNotice,
  colorOf,
  commitUrl,
  type DeployStatus,
  formatDuration,
  type Mention,
  messageEmbedChars,
  type NoticeInput,
  type RunContext,
  runContextFromEnv,
  runUrl,
  STATUSES,
  type WebhookMessage,
} from "./notice.js";
export { type NotifyLog, notify } from "./notify.js";
export {
  DISCORD_API_BASE,
  isSnowflake,
  parseApiBase,
  parseWebhookUrl,
  type WebhookCredentials,
  WebhookUrlError,
} from "./webhook-url.js";
