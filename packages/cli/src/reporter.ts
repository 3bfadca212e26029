import type { Reporter } from "@smoker/deploy";

export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** Colours and live phase lines only on a terminal; plain lines in CI and pipes. */
  tty: boolean;
}

export interface TerminalReporter extends Reporter {
  table(rows: string[][]): void;
}

const dim = (tty: boolean, s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const green = (tty: boolean, s: string) => (tty ? `\x1b[32m${s}\x1b[0m` : s);
const red = (tty: boolean, s: string) => (tty ? `\x1b[31m${s}\x1b[0m` : s);

/** Phases as one line each: `▸ name` when it starts, `✓ name (1.2 s)` or `✗ ...` when it ends. */
export function terminalReporter(io: Output): TerminalReporter {
  let depth = 0;
  return {
    async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const pad = "  ".repeat(depth);
      const started = Date.now();
      io.out(`${pad}${dim(io.tty, "▸")} ${name}\n`);
      depth++;
      try {
        const value = await fn();
        io.out(
          `${pad}${green(io.tty, "✓")} ${name} ${dim(io.tty, `(${seconds(Date.now() - started)})`)}\n`,
        );
        return value;
      } catch (error) {
        io.out(
          `${pad}${red(io.tty, "✗")} ${name} ${dim(io.tty, `(failed after ${seconds(Date.now() - started)})`)}\n`,
        );
        throw error;
      } finally {
        depth--;
      }
    },
    info: (m) => io.out(`${"  ".repeat(depth)}  ${m}\n`),
    warn: (m) =>
      io.err(`${"  ".repeat(depth)}  ${io.tty ? "\x1b[33mwarning\x1b[0m" : "warning"}: ${m}\n`),
    debug: () => {},
    table(rows) {
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
      for (const [k, row] of rows.entries()) {
        const line = row
          .map((cell, c) => cell.padEnd(widths[c]!))
          .join("  ")
          .trimEnd();
        io.out(`${k === 0 ? dim(io.tty, line) : line}\n`);
      }
    },
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
