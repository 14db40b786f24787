/**
 * Structured logging: one JSON object per line on stdout (errors on stderr).
 *
 * Owns the log line format only. Callers decide what is worth a line; the
 * rule for sockets is one line on open and one on close, never per message.
 */

/** Fields of one log line; `event` names what happened. */
export type LogFields = { event: string } & Record<string, unknown>;

/** Where log lines go. Tests inject a collecting or silent logger. */
export interface Logger {
  info(fields: LogFields): void;
  warn(fields: LogFields): void;
  error(fields: LogFields): void;
}

function line(level: string, fields: LogFields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, ...fields });
}

/** Logs JSON lines to stdout (info) and stderr (warn, error). */
export const consoleLogger: Logger = {
  info: (fields) => console.log(line("info", fields)),
  warn: (fields) => console.error(line("warn", fields)),
  error: (fields) => console.error(line("error", fields)),
};

/** Keeps every line in memory, so tests can assert on what was logged. */
export function collectingLogger(): Logger & { lines: Array<LogFields & { level: string }> } {
  const lines: Array<LogFields & { level: string }> = [];
  return {
    lines,
    info: (fields) => void lines.push({ level: "info", ...fields }),
    warn: (fields) => void lines.push({ level: "warn", ...fields }),
    error: (fields) => void lines.push({ level: "error", ...fields }),
  };
}
