/**
 * The page's colours as canvas code needs them: read from the CSS custom
 * properties in style.css, so the map and sparklines follow light and dark
 * mode without a second palette.
 *
 * Owns the cached palette and its invalidation on a colour-scheme change; it
 * does not draw.
 */

export interface Theme {
  bg: string;
  panel: string;
  text: string;
  muted: string;
  border: string;
  grid: string;
  accent: string;
  trail: string;
  ok: string;
  warn: string;
  bad: string;
  mono: string;
}

let cached: Theme | null = null;
const listeners = new Set<() => void>();
const darkQuery = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
darkQuery?.addEventListener("change", () => {
  cached = null;
  for (const listener of listeners) listener();
});

/** The current palette (cached until the colour scheme changes). */
export function currentTheme(): Theme {
  if (cached) return cached;
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  cached = {
    bg: read("--bg", "#f6f7f9"),
    panel: read("--panel", "#ffffff"),
    text: read("--text", "#1b1f24"),
    muted: read("--muted", "#5b6470"),
    border: read("--border", "#d9dee4"),
    grid: read("--grid", "#e8ebef"),
    accent: read("--accent", "#0b62d6"),
    trail: read("--trail", "#0b62d6"),
    ok: read("--ok", "#137a3a"),
    warn: read("--warn", "#a15c00"),
    bad: read("--bad", "#c0262d"),
    mono: read("--mono", "monospace"),
  };
  return cached;
}

/** Calls `listener` whenever the palette changes; returns the unsubscribe function. */
export function onThemeChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
