/**
 * Terminal output for the CLI: ANSI colours and cursor movement, used only
 * when stdout is a TTY. Pure strings in, strings out: nothing here writes.
 */

/** ANSI escape sequences (ECMA-48) the CLI uses. */
export const ansi = {
  reset: "\x1b[0m",
  bold: "\x1b[1m",
  dim: "\x1b[2m",
  red: "\x1b[31m",
  green: "\x1b[32m",
  yellow: "\x1b[33m",
  cyan: "\x1b[36m",
  hideCursor: "\x1b[?25l",
  showCursor: "\x1b[?25h",
  /** Erases the whole line the cursor is on. */
  clearLine: "\x1b[2K",
  /** Moves the cursor to the start of the line `lines` above. */
  linesUp: (lines: number) => `\x1b[${lines}F`,
} as const;

export type Colour = "red" | "green" | "yellow" | "cyan" | "bold" | "dim";

/** Wraps text in a colour when `enabled` (a TTY), else returns it unchanged. */
export function paint(text: string, colour: Colour, enabled: boolean): string {
  return enabled ? `${ansi[colour]}${text}${ansi.reset}` : text;
}

/** A horizontal gauge of `width` cells, filled in proportion to `fraction` (clamped to 0..1). */
export function gauge(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return "█".repeat(filled) + "░".repeat(width - filled);
}

/** Shortens text to `width` characters, marking the cut with an ellipsis. */
export function fit(text: string, width: number): string {
  if (width <= 1 || text.length <= width) return text;
  return `${text.slice(0, width - 1)}…`;
}
