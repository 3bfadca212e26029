/**
 * A deployment notice as the JSON body of a webhook message: one embed (colour by status,
 * links to the run and the commit, duration, a field per service) within Discord's limits,
 * and mentions that only ever ping the one role or user asked for, and only on failure.
 */
import type { APIEmbed, APIEmbedField } from "discord.js";
import type { ServiceImage } from "./deployment.js";
import { charCount, LIMITS, markdownClosers, truncate } from "./limits.js";

export const STATUSES = ["success", "failure", "cancelled", "started", "rolled-back"] as const;
export type DeployStatus = (typeof STATUSES)[number];

/** Embed colours (24-bit RGB) and the emoji that leads the title. */
const LOOK: Record<DeployStatus, { color: number; emoji: string }> = {
  success: { color: 0x2ecc71, emoji: "✅" },
  failure: { color: 0xe74c3c, emoji: "❌" },
  cancelled: { color: 0x95a5a6, emoji: "⚪" },
  started: { color: 0x3498db, emoji: "🚀" },
  "rolled-back": { color: 0xe67e22, emoji: "↩️" },
};

export function colorOf(status: DeployStatus): number {
  return LOOK[status].color;
}

/** Who to ping when a deploy fails. */
export interface Mention {
  kind: "role" | "user";
  id: string;
}

/** Where the notice links to: the GitHub run and commit (from the runner's GITHUB_* env). */
export interface RunContext {
  serverUrl: string;
  repository?: string | undefined;
  runId?: string | undefined;
  runAttempt?: string | undefined;
  sha?: string | undefined;
  actor?: string | undefined;
  workflow?: string | undefined;
}

export function runContextFromEnv(env: NodeJS.ProcessEnv = process.env): RunContext {
  const nonEmpty = (value: string | undefined) => (value === "" ? undefined : value);
  return {
    serverUrl: (nonEmpty(env.GITHUB_SERVER_URL) ?? "https://github.com").replace(/\/+$/, ""),
    repository: nonEmpty(env.GITHUB_REPOSITORY),
    runId: nonEmpty(env.GITHUB_RUN_ID),
    runAttempt: nonEmpty(env.GITHUB_RUN_ATTEMPT),
    sha: nonEmpty(env.GITHUB_SHA),
    actor: nonEmpty(env.GITHUB_ACTOR),
    workflow: nonEmpty(env.GITHUB_WORKFLOW),
  };
}

export function runUrl(run: RunContext): string | undefined {
  if (run.repository === undefined || run.runId === undefined) return undefined;
  return `${run.serverUrl}/${run.repository}/actions/runs/${run.runId}`;
}

export function commitUrl(run: RunContext): string | undefined {
  if (run.repository === undefined || run.sha === undefined) return undefined;
  return `${run.serverUrl}/${run.repository}/commit/${run.sha}`;
}

export interface NoticeInput {
  status: DeployStatus;
  environment?: string | undefined;
  version?: string | undefined;
  /** Replaces the title made from status, version and environment. */
  title?: string | undefined;
  /** Free text (commit messages, a failure's log tail): the embed's description. */
  details?: string | undefined;
  services?: readonly ServiceImage[] | undefined;
  run: RunContext;
  /** Since the deploy started; shown when known. */
  durationMs?: number | undefined;
  /** Pinged only when status is failure. */
  mention?: Mention | undefined;
  /** The embed's timestamp. */
  at?: Date | undefined;
}

/** allowed_mentions: `parse: []` turns every mention in the text (@everyone too) inert. */
export interface AllowedMentions {
  parse: never[];
  roles?: string[];
  users?: string[];
}

/** The JSON body of an execute-webhook or edit-message request. */
export interface WebhookMessage {
  /** "" when there is nothing to say besides the embed (an edit then clears older content). */
  content: string;
  embeds: APIEmbed[];
  allowed_mentions: AllowedMentions;
}

/** "850 ms", "42 s", "3m 07s", "1h 02m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

function defaultTitle(input: NoticeInput): string {
  const what = input.version === undefined ? "" : ` ${input.version}`;
  const where = input.environment === undefined ? "" : ` to ${input.environment}`;
  const on = input.environment === undefined ? "" : ` on ${input.environment}`;
  switch (input.status) {
    case "started":
      return `Deploying${what}${where}…`;
    case "success":
      return `Deployed${what}${where}`;
    case "failure":
      return `Deploy${input.version === undefined ? "" : ` of ${input.version}`}${where} failed`;
    case "cancelled":
      return `Deploy${input.version === undefined ? "" : ` of ${input.version}`}${where} cancelled`;
    case "rolled-back":
      return `Deploy${what}${on} failed and was rolled back`;
  }
}

/** Text shown inside a code span: a backtick in it would end the span early. */
function codeSpan(text: string): string {
  return `\`${text.replaceAll("`", "'")}\``;
}

function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.split(":", 2);
  return hex === undefined ? digest : `${algorithm}:${hex.slice(0, 12)}`;
}

// Short texts (names, versions, image refs) are capped well below Discord's own limits, so
// that the title, author, footer and run fields can never crowd the 6000 total by themselves:
// at most 256 + 256 + 256 + 5 x (11 + 256) plus the "+N more" field, about 3100 in all.
const SHORT = 256;

function field(name: string, value: string, inline = true, max = SHORT): APIEmbedField {
  // Discord rejects empty names and values; a zero-width space is its usual stand-in.
  return {
    name: truncate(name.trim() === "" ? "\u200b" : name, Math.min(SHORT, LIMITS.fieldName)),
    value: truncate(value.trim() === "" ? "\u200b" : value, Math.min(max, LIMITS.fieldValue)),
    inline,
  };
}

/** A code span around `text` cut to `max` code points (the cut inside the backticks). */
function shortCode(text: string, max: number): string {
  return codeSpan(truncate(text.replaceAll("`", "'"), max));
}

function serviceField(s: ServiceImage): APIEmbedField {
  const digest = s.digest === null ? "no digest" : shortCode(shortDigest(s.digest), 80);
  return field(s.service, `${shortCode(s.image, 200)}\n${digest}`);
}

function runFields(input: NoticeInput): APIEmbedField[] {
  const fields: APIEmbedField[] = [];
  if (input.environment !== undefined) fields.push(field("Environment", input.environment));
  if (input.version !== undefined) fields.push(field("Version", shortCode(input.version, 200)));
  if (input.durationMs !== undefined) {
    fields.push(field("Duration", formatDuration(input.durationMs)));
  }
  const commit = commitUrl(input.run);
  if (input.run.sha !== undefined) {
    const short = codeSpan(input.run.sha.slice(0, 7));
    fields.push(field("Commit", commit === undefined ? short : `[${short}](${commit})`));
  }
  const run = runUrl(input.run);
  if (run !== undefined) {
    const attempt =
      input.run.runAttempt !== undefined && input.run.runAttempt !== "1"
        ? ` (attempt ${input.run.runAttempt})`
        : "";
    fields.push(field("Run", `[#${input.run.runId}](${run})${attempt}`));
  }
  return fields;
}

function embedChars(embed: APIEmbed): number {
  let n = charCount(embed.title ?? "") + charCount(embed.description ?? "");
  n += charCount(embed.footer?.text ?? "") + charCount(embed.author?.name ?? "");
  for (const f of embed.fields ?? []) n += charCount(f.name) + charCount(f.value);
  return n;
}

/** The characters Discord sums against its 6000 limit, over all embeds of a message. */
export function messageEmbedChars(message: Pick<WebhookMessage, "embeds">): number {
  return message.embeds.reduce((sum, embed) => sum + embedChars(embed), 0);
}

// A description is worth more than the 30th service's digest, but not unboundedly: when the
// total is tight, services make room until the description keeps at least this much.
const DESCRIPTION_FLOOR = 1024;

/** Service fields for `count` services shown, then one "+N more" field naming the rest. */
function serviceFields(services: readonly ServiceImage[], shown: number): APIEmbedField[] {
  const fields = services.slice(0, shown).map(serviceField);
  const rest = services.slice(shown);
  if (rest.length > 0) {
    const names = rest.map((s) => s.service).join(", ");
    const name = `+${rest.length} more service${rest.length === 1 ? "" : "s"}`;
    fields.push(field(name, names, false, LIMITS.fieldValue));
  }
  return fields;
}

function mentionText(mention: Mention): string {
  return mention.kind === "role" ? `<@&${mention.id}>` : `<@${mention.id}>`;
}

/** The message for a notice, within every one of Discord's limits. */
export function buildNotice(input: NoticeInput): WebhookMessage {
  const look = LOOK[input.status];
  const title = truncate(`${look.emoji} ${input.title ?? defaultTitle(input)}`, LIMITS.title);
  const embed: APIEmbed = { title, color: look.color };
  const url = runUrl(input.run);
  if (url !== undefined) embed.url = url;
  if (input.run.repository !== undefined) {
    embed.author = {
      name: truncate(input.run.repository, Math.min(SHORT, LIMITS.authorName)),
      url: `${input.run.serverUrl}/${input.run.repository}`,
    };
  }
  const footer = ["smoker", input.run.workflow, input.run.actor && `by ${input.run.actor}`]
    .filter((part) => part !== undefined && part !== "")
    .join(" · ");
  embed.footer = { text: truncate(footer, Math.min(SHORT, LIMITS.footerText)) };
  embed.timestamp = (input.at ?? new Date()).toISOString();

  const fixed = runFields(input);
  const services = input.services ?? [];
  // Room left for services among the 25 fields; the last one says how many were left out.
  const room = LIMITS.fields - fixed.length;
  let shown = services.length <= room ? services.length : room - 1;
  const trimmed = input.details?.trim() ?? "";
  // Text from commits or logs may leave a code block open; closed here so it ends in the embed.
  const details = `${trimmed}${markdownClosers(trimmed)}`;

  const assemble = (): APIEmbed => {
    const fields = [...fixed, ...serviceFields(services, shown)];
    const withFields: APIEmbed = fields.length > 0 ? { ...embed, fields } : { ...embed };
    const budget = LIMITS.totalEmbedChars - embedChars(withFields);
    const limit = Math.min(LIMITS.description, budget);
    if (details !== "" && limit > 0) withFields.description = truncate(details, limit);
    return withFields;
  };

  let built = assemble();
  const wanted = Math.min(charCount(details), DESCRIPTION_FLOOR);
  while (shown > 0 && charCount(built.description ?? "") < wanted) {
    shown -= 1;
    built = assemble();
  }

  const allowed: AllowedMentions = { parse: [] };
  let content = "";
  if (input.status === "failure" && input.mention !== undefined) {
    if (input.mention.kind === "role") allowed.roles = [input.mention.id];
    else allowed.users = [input.mention.id];
    const link = url === undefined ? "" : `\n${url}`;
    content = truncate(`${mentionText(input.mention)} ${title}${link}`, LIMITS.content);
  }
  return { content, embeds: [built], allowed_mentions: allowed };
}
