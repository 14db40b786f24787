/**
 * Typed element lookups for the page's modules (the dashboard's panels and
 * the echo console).
 *
 * Owns no state and draws nothing: a missing or mistyped element is a bug in
 * index.html, so it fails loudly at mount time with the id it wanted.
 */

/** The element with `id`, checked to be an instance of `type` (e.g. HTMLButtonElement). */
export function byId<T extends Element>(id: string, type: abstract new (...args: never[]) => T): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`page: missing #${id} in index.html`);
  if (!(found instanceof type)) throw new Error(`page: #${id} is a <${found.tagName.toLowerCase()}>, expected ${type.name}`);
  return found;
}

/** Sets text only when it changed, so 10 Hz telemetry does not churn the DOM or screen readers. */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
