/**
 * Discord's size limits for a webhook message, and the one truncation every text shares.
 *
 * Figures from Discord's API reference ("Embed Limits" under the Message resource, and Execute
 * Webhook): title 256, description 4096, 25 fields, field name 256, field value 1024, footer
 * text 2048, author name 256, at most 6000 characters summed over title, description, field
 * names and values, footer text and author name of ALL embeds of a message, 10 embeds, and
 * content 2000. Going over any of them is a 400 "Invalid Form Body" (code 50035).
 *
 * How Discord counts: its API is written in Python 3 and measures `len(str)`, i.e. Unicode
 * CODE POINTS (a Discord engineer's answer in discord/discord-api-docs#1315: "\U0010FFFF \uffff"
 * is 3 characters). So an emoji outside the BMP counts 1 here, although it is 2 UTF-16 code
 * units in JavaScript's `.length` and 4 bytes in UTF-8. `charCount` counts the same way.
 */
export const LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  /** Title, description, field names and values, footer text, author name, across embeds. */
  totalEmbedChars: 6000,
} as const;

/** Discord's count of a string: Unicode code points (see the file comment). */
export function charCount(text: string): number {
  let count = 0;
  // for..of walks code points; a lone surrogate counts 1, as Python counts it.
  for (const _ of text) count += 1;
  return count;
}

export const ELLIPSIS = "…";

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });

// Markdown markers that pair up; a cut that leaves one open is closed again.
const PAIRED = ["**", "__", "~~", "||"] as const;
const MARKER_CHARS = new Set(["*", "_", "~", "|", "`"]);

/**
 * What has to be appended to `text` to close the markdown it leaves open: an unclosed code
 * fence (```), inline code (`` ` `` runs) and bold/underline/strike/spoiler pairs. Italics
 * with single `*`/`_` are left alone: they are too often plain text (snake_case) to guess.
 */
export function markdownClosers(text: string): string {
  let fence = false;
  let inlineRun = 0; // length of the backtick run that opened inline code, 0 = none
  const open: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "\\" && !fence && inlineRun === 0) {
      i += 2;
      continue;
    }
    if (ch === "`") {
      let run = 1;
      while (text[i + run] === "`") run += 1;
      if (inlineRun > 0) {
        if (run === inlineRun) inlineRun = 0;
      } else if (run >= 3) {
        fence = !fence;
      } else if (!fence) {
        inlineRun = run;
      }
      i += run;
      continue;
    }
    if (!fence && inlineRun === 0) {
      const marker = PAIRED.find((m) => text.startsWith(m, i));
      if (marker !== undefined) {
        const at = open.lastIndexOf(marker);
        if (at >= 0) open.splice(at, 1);
        else open.push(marker);
        i += marker.length;
        continue;
      }
    }
    i += 1;
  }
  if (fence) return text.endsWith("\n") ? "```" : "\n```";
  if (inlineRun > 0) return "`".repeat(inlineRun);
  return open.reverse().join("");
}

interface Grapheme {
  text: string;
  /** Code points in it: what Discord counts. */
  size: number;
}

function graphemes(text: string): Grapheme[] {
  return Array.from(segmenter.segment(text), ({ segment }) => ({
    text: segment,
    size: charCount(segment),
  }));
}

/**
 * The longest prefix of `parts` of at most `budget` code points that ends between two words
 * when it can: a cut falls on whitespace unless the only whitespace is in the first half (one
 * huge word, a digest or a URL), where a cut inside it keeps more. Never splits a grapheme,
 * so neither a surrogate pair nor an emoji sequence is broken. Trailing whitespace is dropped.
 */
function prefixWithin(parts: readonly Grapheme[], budget: number): string {
  let used = 0;
  let end = 0;
  while (end < parts.length && used + parts[end]!.size <= budget) {
    used += parts[end]!.size;
    end += 1;
  }
  const atBoundary = end === parts.length || /^\s/.test(parts[end]!.text);
  if (!atBoundary) {
    let space = end - 1;
    while (space > 0 && !/^\s/.test(parts[space]!.text)) space -= 1;
    if (space > 0 && space >= end / 2) end = space;
  }
  // A cut through a marker run (`**` -> `*`) would leave half a marker: drop the half.
  if (end < parts.length && end > 0) {
    const next = parts[end]!.text;
    while (end > 0 && MARKER_CHARS.has(next) && parts[end - 1]!.text === next) end -= 1;
  }
  return parts
    .slice(0, end)
    .map((p) => p.text)
    .join("")
    .trimEnd();
}

/**
 * `text` shortened to at most `max` code points (Discord's count): cut between words, ended
 * with an ellipsis, and with any markdown it leaves open closed again, so a cut never turns
 * the rest of a message into a code block or leaves a dangling `**`. Unchanged when it fits.
 */
export function truncate(text: string, max: number): string {
  if (max < 0 || !Number.isInteger(max)) throw new RangeError(`Invalid limit ${max}`);
  if (charCount(text) <= max) return text;
  if (max === 0) return "";
  const parts = graphemes(text);
  let budget = max - charCount(ELLIPSIS);
  // Closing markers take room, which may move the cut and change what needs closing: shrink
  // the budget by the overflow until the whole result fits (a few rounds at most).
  while (budget > 0) {
    const kept = prefixWithin(parts, budget);
    const result = `${kept}${ELLIPSIS}${markdownClosers(kept)}`;
    const over = charCount(result) - max;
    if (over <= 0) return result;
    budget -= over;
  }
  return ELLIPSIS.slice(0, max);
}
