/**
 * What Discord rejects in the JSON body of Execute Webhook / Edit Webhook Message, for the
 * simulator in server.ts. Based on Discord's published contract, not on our client's code:
 *
 * - Embed Limits (Message resource): title 256, description 4096, 25 fields, field name 256,
 *   field value 1024, footer text 2048, author name 256; field name and value required; 6000
 *   characters summed over title, description, field names/values, footer text and author
 *   name of all embeds; at most 10 embeds (Execute Webhook); content at most 2000.
 * - Lengths are Unicode code points: Discord's API is Python 3 and counts `len(str)` (a staff
 *   answer in discord/discord-api-docs#1315). Counted here with for..of, not `.length`.
 * - Errors: 400 `{"code": 50035, "message": "Invalid Form Body", "errors": {...}}` where
 *   errors nests by path down to `{"_errors": [{"code", "message"}]}` (Opcodes and Status
 *   Codes > Error Messages); "Embed size exceeds maximum size of 6000" under `embeds`;
 *   an empty message is 400 `{"code": 50006, "message": "Cannot send an empty message"}`.
 * - allowed_mentions (Message resource > Allowed Mentions): parse holds only "roles", "users",
 *   "everyone"; "users" in parse together with a users list (or "roles" with roles) is a
 *   validation error; each list holds at most 100 ids.
 */

export interface FieldError {
  code: string;
  message: string;
}

/** Discord's nested error tree: objects by key/index down to `_errors` arrays. */
export interface ErrorTree {
  _errors?: FieldError[];
  [key: string]: ErrorTree | FieldError[] | undefined;
}

export interface DiscordError {
  code: number;
  message: string;
  errors?: ErrorTree;
}

export const EMBED_LIMITS = {
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  total: 6000,
  embeds: 10,
  content: 2000,
} as const;

export function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

class Collector {
  readonly tree: ErrorTree = {};
  count = 0;

  add(path: ReadonlyArray<string | number>, error: FieldError): void {
    let node = this.tree;
    for (const key of path) {
      const k = String(key);
      node[k] ??= {};
      node = node[k] as ErrorTree;
    }
    node._errors ??= [];
    node._errors.push(error);
    this.count += 1;
  }
}

const tooLong = (max: number): FieldError => ({
  code: "BASE_TYPE_MAX_LENGTH",
  message: `Must be ${max} or fewer in length.`,
});
const required: FieldError = { code: "BASE_TYPE_REQUIRED", message: "This field is required" };
const notString: FieldError = {
  code: "STRING_TYPE_CONVERT",
  message: "Could not interpret as string.",
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkString(
  errors: Collector,
  path: Array<string | number>,
  value: unknown,
  max: number,
  options: { required?: boolean } = {},
): number {
  if (value === undefined || value === null) {
    if (options.required) errors.add(path, required);
    return 0;
  }
  if (typeof value !== "string") {
    errors.add(path, notString);
    return 0;
  }
  const n = codePoints(value);
  if (options.required && value.trim() === "") errors.add(path, required);
  if (n > max) errors.add(path, tooLong(max));
  return n;
}

function checkUrl(errors: Collector, path: Array<string | number>, value: unknown): void {
  if (value === undefined || value === null) return;
  let ok = typeof value === "string";
  if (ok) {
    try {
      const url = new URL(value as string);
      ok = ["http:", "https:", "attachment:"].includes(url.protocol);
    } catch {
      ok = false;
    }
  }
  if (!ok) errors.add(path, { code: "URL_TYPE_INVALID_URL", message: "Not a well formed URL." });
}

/** Characters of one embed that count against the 6000 total. */
function checkEmbed(errors: Collector, index: number, embed: unknown): number {
  const at = (...rest: Array<string | number>) => ["embeds", index, ...rest];
  if (!isRecord(embed)) {
    errors.add(at(), {
      code: "MODEL_TYPE_CONVERT",
      message: "Only dictionaries may be used in a ModelType",
    });
    return 0;
  }
  let total = 0;
  total += checkString(errors, at("title"), embed.title, EMBED_LIMITS.title);
  total += checkString(errors, at("description"), embed.description, EMBED_LIMITS.description);
  checkUrl(errors, at("url"), embed.url);
  if (embed.color !== undefined && embed.color !== null) {
    const c = embed.color;
    if (typeof c !== "number" || !Number.isInteger(c) || c < 0 || c > 0xffffff) {
      errors.add(at("color"), {
        code: "NUMBER_TYPE_MAX",
        message: "Int value should be less than or equal to 16777215.",
      });
    }
  }
  if (embed.timestamp !== undefined && embed.timestamp !== null) {
    if (typeof embed.timestamp !== "string" || Number.isNaN(Date.parse(embed.timestamp))) {
      errors.add(at("timestamp"), {
        code: "DATE_TYPE_PARSE",
        message: "Could not parse timestamp.",
      });
    }
  }
  if (embed.footer !== undefined) {
    if (!isRecord(embed.footer)) errors.add(at("footer"), required);
    else {
      total += checkString(
        errors,
        at("footer", "text"),
        embed.footer.text,
        EMBED_LIMITS.footerText,
        { required: true },
      );
      checkUrl(errors, at("footer", "icon_url"), embed.footer.icon_url);
    }
  }
  if (embed.author !== undefined) {
    if (!isRecord(embed.author)) errors.add(at("author"), required);
    else {
      total += checkString(
        errors,
        at("author", "name"),
        embed.author.name,
        EMBED_LIMITS.authorName,
        { required: true },
      );
      checkUrl(errors, at("author", "url"), embed.author.url);
    }
  }
  if (embed.fields !== undefined) {
    if (!Array.isArray(embed.fields)) {
      errors.add(at("fields"), { code: "BASE_TYPE_LIST", message: "Must be a list." });
    } else {
      if (embed.fields.length > EMBED_LIMITS.fields)
        errors.add(at("fields"), tooLong(EMBED_LIMITS.fields));
      embed.fields.forEach((f: unknown, i: number) => {
        if (!isRecord(f)) {
          errors.add(at("fields", i), required);
          return;
        }
        total += checkString(errors, at("fields", i, "name"), f.name, EMBED_LIMITS.fieldName, {
          required: true,
        });
        total += checkString(errors, at("fields", i, "value"), f.value, EMBED_LIMITS.fieldValue, {
          required: true,
        });
        if (f.inline !== undefined && typeof f.inline !== "boolean") {
          errors.add(at("fields", i, "inline"), {
            code: "BASE_TYPE_BOOLEAN",
            message: "Must be either true or false.",
          });
        }
      });
    }
  }
  return total;
}

function checkAllowedMentions(errors: Collector, value: unknown): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) {
    errors.add(["allowed_mentions"], {
      code: "MODEL_TYPE_CONVERT",
      message: "Only dictionaries may be used in a ModelType",
    });
    return;
  }
  const parse = value.parse ?? [];
  if (!Array.isArray(parse)) {
    errors.add(["allowed_mentions", "parse"], {
      code: "BASE_TYPE_LIST",
      message: "Must be a list.",
    });
    return;
  }
  parse.forEach((p: unknown, i: number) => {
    if (p !== "roles" && p !== "users" && p !== "everyone") {
      errors.add(["allowed_mentions", "parse", i], {
        code: "BASE_TYPE_CHOICES",
        message: `Value must be one of ('roles', 'users', 'everyone').`,
      });
    }
  });
  for (const kind of ["roles", "users"] as const) {
    const ids = value[kind];
    if (ids === undefined) continue;
    if (!Array.isArray(ids)) {
      errors.add(["allowed_mentions", kind], {
        code: "BASE_TYPE_LIST",
        message: "Must be a list.",
      });
      continue;
    }
    if (ids.length > 100) errors.add(["allowed_mentions", kind], tooLong(100));
    if (ids.length > 0 && parse.includes(kind)) {
      errors.add(["allowed_mentions"], {
        code: "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
        message: `parse:["${kind}"] and ${kind}: [ids] are mutually exclusive.`,
      });
    }
    ids.forEach((id: unknown, i: number) => {
      if (typeof id !== "string" || !/^[0-9]{17,20}$/.test(id)) {
        errors.add(["allowed_mentions", kind, i], {
          code: "NUMBER_TYPE_COERCE",
          message: `Value "${String(id)}" is not snowflake.`,
        });
      }
    });
  }
}

/**
 * The error Discord would answer for this body, or undefined when it would take it.
 * `creating` is true for Execute Webhook (an empty message is refused) and false for an edit
 * (a PATCH may change only some fields).
 */
export function validateMessage(body: unknown, creating: boolean): DiscordError | undefined {
  if (!isRecord(body)) {
    return { code: 50109, message: "The request body contains invalid JSON." };
  }
  const errors = new Collector();
  checkString(errors, ["content"], body.content, EMBED_LIMITS.content);
  let total = 0;
  if (body.embeds !== undefined && body.embeds !== null) {
    if (!Array.isArray(body.embeds)) {
      errors.add(["embeds"], { code: "BASE_TYPE_LIST", message: "Must be a list." });
    } else {
      if (body.embeds.length > EMBED_LIMITS.embeds)
        errors.add(["embeds"], tooLong(EMBED_LIMITS.embeds));
      body.embeds.forEach((embed: unknown, i: number) => {
        total += checkEmbed(errors, i, embed);
      });
      if (total > EMBED_LIMITS.total) {
        errors.add(["embeds"], {
          code: "MAX_EMBED_SIZE_EXCEEDED",
          message: `Embed size exceeds maximum size of ${EMBED_LIMITS.total}`,
        });
      }
    }
  }
  checkAllowedMentions(errors, body.allowed_mentions);
  if (errors.count > 0) return { code: 50035, message: "Invalid Form Body", errors: errors.tree };
  const hasContent = typeof body.content === "string" && body.content.trim() !== "";
  const hasEmbeds = Array.isArray(body.embeds) && body.embeds.length > 0;
  if (creating && !hasContent && !hasEmbeds) {
    return { code: 50006, message: "Cannot send an empty message" };
  }
  return undefined;
}

export interface MentionState {
  content?: string | undefined;
  allowed_mentions?: { parse?: string[]; roles?: string[]; users?: string[] } | undefined;
}

/**
 * Who a message's content would notify, by Discord's rules: mentions in embeds never ping;
 * in content, @everyone/@here only with "everyone" in parse, `<@&id>` only when the role is
 * listed or "roles" parsed, `<@id>` only when the user is listed or "users" parsed. Without
 * allowed_mentions every mention in the content pings.
 */
export function pingsOf(message: MentionState): string[] {
  const content = message.content ?? "";
  const allowed = message.allowed_mentions;
  const parse = allowed?.parse ?? [];
  const all = allowed === undefined;
  const pings: string[] = [];
  for (const m of content.matchAll(/@(everyone|here)\b/g)) {
    if (all || parse.includes("everyone")) pings.push(`@${m[1]}`);
  }
  for (const m of content.matchAll(/<@&([0-9]+)>/g)) {
    if (all || parse.includes("roles") || (allowed?.roles ?? []).includes(m[1]!))
      pings.push(`role:${m[1]}`);
  }
  for (const m of content.matchAll(/<@!?([0-9]+)>/g)) {
    if (all || parse.includes("users") || (allowed?.users ?? []).includes(m[1]!))
      pings.push(`user:${m[1]}`);
  }
  return pings;
}
