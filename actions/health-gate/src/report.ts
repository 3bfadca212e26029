import type { Attempt, CheckReport, HealthReport } from "@smoker/health";

/** "850 ms", "3.2 s", "2m 05s". */
export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
}

/** "1 check", "3 checks". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Failing checks repeat their line at most this often. */
export const REPEAT_EVERY_MS = 5_000;

/**
 * An onAttempt that logs sparingly: a check's first failure, then at most one line every
 * REPEAT_EVERY_MS while it keeps failing, and the moment it turns healthy. Every attempt goes
 * to `debug`.
 */
export function attemptLogger(
  info: (line: string) => void,
  debug: (line: string) => void,
): (attempt: Attempt) => void {
  const lastFailureLine = new Map<string, number>();
  return ({ check, number, result, streak, healthy, elapsedMs }) => {
    const outcome = result.ok ? `pass ${streak}` : `fail: ${result.error}`;
    debug(`${check.name} #${number} after ${duration(elapsedMs)}: ${outcome} (${result.ms} ms)`);
    if (healthy) {
      info(
        `✓ ${check.name} is healthy after ${duration(elapsedMs)} (${plural(number, "attempt")})`,
      );
      return;
    }
    if (result.ok) return;
    const last = lastFailureLine.get(check.name);
    if (last === undefined) {
      info(`… ${check.name}: ${result.error}; retrying`);
    } else if (elapsedMs - last >= REPEAT_EVERY_MS) {
      info(
        `… ${check.name}: still failing after ${duration(elapsedMs)} (${number} attempts): ${result.error}`,
      );
    } else {
      return;
    }
    lastFailureLine.set(check.name, elapsedMs);
  };
}

/** What a check last saw, in a few words. */
export function lastSeen(check: CheckReport): string {
  if (check.healthy) return "healthy";
  const why = check.lastError ?? "no failure";
  if (check.consecutivePasses === 0) return why;
  const passes = plural(check.consecutivePasses, "pass", "passes");
  return `${why}, then only ${passes} in a row before the timeout`;
}

/** One line per failing check: `name (url): what it last saw (N attempts)`. */
export function failureLines(report: HealthReport): string[] {
  return report.checks
    .filter((check) => !check.healthy)
    .map((check) => {
      // The default name is the URL's host and path: printing both would say it twice.
      const where = check.url.includes(check.name) ? check.name : `${check.name} (${check.url})`;
      return `${where}: ${lastSeen(check)} (${plural(check.attempts, "attempt")})`;
    });
}

/** What to try next, from what the failing checks saw. */
export function failureHint(report: HealthReport): string {
  const errors = report.checks.filter((c) => !c.healthy).map((c) => c.lastError ?? "");
  const hints: string[] = [];
  if (errors.some((e) => /certificate|CERT|SSL|TLS/.test(e))) {
    hints.push("The server's certificate was not trusted: pass its CA (PEM) as ca-certificate.");
  }
  if (errors.some((e) => /^(status |body |\$)/.test(e))) {
    hints.push(
      "A service answered, but not as its check expects: read its logs (docker logs), or fix expect-status, contains or json-path.",
    );
  }
  if (
    errors.some((e) => /ECONNREFUSED|no response|ECONNRESET|EHOSTUNREACH|ENOTFOUND|closed/.test(e))
  ) {
    hints.push(
      "Nothing answered in time: check that the container is running and publishes that port (docker ps, docker logs), or raise timeout if it starts slowly.",
    );
  }
  if (hints.length === 0) hints.push("Raise timeout if the service needs longer to settle.");
  return hints.join("\n");
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/**
 * The job summary table's rows, header first, HTML-escaped (core.summary inserts cell text as
 * HTML, and names, URLs and errors come from users and servers). Never an empty cell: the
 * summary writer turns "" into an unclosed tag.
 */
export function summaryRows(report: HealthReport): string[][] {
  const header = ["Check", "Result", "Attempts", "Last status", "Time to healthy"];
  const rows = report.checks.map((check) => [
    `${escapeHtml(check.name)}<br><code>${escapeHtml(check.url)}</code>`,
    check.healthy ? "✅ healthy" : `❌ ${escapeHtml(lastSeen(check))}`,
    String(check.attempts),
    check.lastStatus === undefined ? "—" : String(check.lastStatus),
    check.msToHealthy === undefined ? "—" : duration(check.msToHealthy),
  ]);
  return [header, ...rows];
}
