import {
  getInputs,
  type InputDef,
  InputError,
  type InputSource,
  input,
  maskDerived,
} from "@smoker/action-kit";
import { DeploymentJsonError, parseDeploymentImages, type ServiceImage } from "./deployment.js";
import { type DeployStatus, type Mention, STATUSES } from "./notice.js";
import {
  parseApiBase,
  parseWebhookUrl,
  type WebhookCredentials,
  WebhookUrlError,
} from "./webhook-url.js";

/** An optional input parsed by `parse`, which throws InputError itself. */
function parsedWith<T>(
  name: string,
  parse: (raw: string) => T,
  options: { required?: boolean; secret?: boolean } = {},
): InputDef<T, boolean> {
  return {
    kind: name,
    required: options.required === true,
    secret: options.secret === true,
    default: undefined,
    parse,
  };
}

const SNOWFLAKE = /[0-9]{17,20}/;

/** `role:ID`, `<@&ID>` for a role; `user:ID`, `<@ID>`, `<@!ID>` for a user. */
export function parseMention(raw: string): Mention {
  const text = raw.trim();
  const role = /^(?:role:([0-9]{17,20})|<@&([0-9]{17,20})>)$/.exec(text);
  if (role !== null) return { kind: "role", id: (role[1] ?? role[2])! };
  const user = /^(?:user:([0-9]{17,20})|<@!?([0-9]{17,20})>)$/.exec(text);
  if (user !== null) return { kind: "user", id: (user[1] ?? user[2])! };
  throw new InputError(
    "mention-on-failure",
    "must be role:ID or <@&ID> for a role, user:ID or <@ID> for a user (ID: 17 to 20 digits)",
    {
      value: text,
      hint: "A bare id could be either: say which (Discord > Copy Role ID / Copy User ID).",
    },
  );
}

/**
 * The inputs of discord-notify's action.yml, by their names there (the smoker CLI's notify
 * flags too). Every one is parsed before any request.
 */
export const notifyInputSpec = {
  "webhook-url": parsedWith(
    "webhook-url",
    (raw): WebhookCredentials => {
      try {
        return parseWebhookUrl(raw);
      } catch (error) {
        if (!(error instanceof WebhookUrlError)) throw error;
        throw new InputError("webhook-url", `must be a Discord webhook URL: it ${error.rule}`, {
          secret: true,
          hint: "Copy it from the channel's settings > Integrations > Webhooks > Copy Webhook URL.",
        });
      }
    },
    { required: true, secret: true },
  ),
  status: input.enum(STATUSES, { required: true }),
  environment: input.string({ maxLength: 100 }),
  version: input.string({ maxLength: 200 }),
  title: input.string({}),
  details: input.string({}),
  deployment: parsedWith("deployment", (raw): ServiceImage[] => {
    try {
      return parseDeploymentImages(raw);
    } catch (error) {
      if (!(error instanceof DeploymentJsonError)) throw error;
      throw new InputError("deployment", error.rule, {
        hint: "Pass deploy-compose's images output as it is (steps.<id>.outputs.images).",
      });
    }
  }),
  "message-id": input.string({ pattern: SNOWFLAKE }),
  "thread-id": input.string({ pattern: SNOWFLAKE }),
  "mention-on-failure": parsedWith("mention-on-failure", parseMention),
  "fail-on-error": input.boolean({ default: false }),
  timeout: input.duration({ default: "10s", min: "1s", max: "2m" }),
  "api-base-url": parsedWith("api-base-url", (raw): string => {
    try {
      return parseApiBase(raw);
    } catch (error) {
      if (!(error instanceof WebhookUrlError)) throw error;
      throw new InputError("api-base-url", error.rule, { value: raw.trim() });
    }
  }),
} as const;

export interface NotifySettings {
  webhook: WebhookCredentials;
  status: DeployStatus;
  environment: string | undefined;
  version: string | undefined;
  title: string | undefined;
  details: string | undefined;
  services: ServiceImage[];
  messageId: string | undefined;
  threadId: string | undefined;
  mention: Mention | undefined;
  failOnError: boolean;
  timeoutMs: number;
  apiBase: string | undefined;
}

/**
 * Reads and checks every input; throws InputError before anything is sent. mask: false
 * outside a runner (the CLI), where masking commands would print the secret instead.
 */
export function readNotifyInputs(
  source?: InputSource,
  options: { mask?: boolean } = {},
): NotifySettings {
  const mask = options.mask ?? true;
  const i = getInputs(notifyInputSpec, source, { mask });
  const webhook = i["webhook-url"] as WebhookCredentials;
  // The raw URL was masked as it was read; the token alone could still show up on its own.
  if (mask) maskDerived(webhook.token);
  return {
    webhook,
    status: i.status,
    environment: i.environment,
    version: i.version,
    title: i.title,
    details: i.details,
    services: (i.deployment as ServiceImage[] | undefined) ?? [],
    messageId: i["message-id"],
    threadId: i["thread-id"],
    mention: i["mention-on-failure"] as Mention | undefined,
    failOnError: i["fail-on-error"],
    timeoutMs: i.timeout,
    apiBase: i["api-base-url"] as string | undefined,
  };
}
