/**
 * The keyboard layout of the flight controls, and the rule for when a key
 * press belongs to the page rather than to the pilot.
 *
 * Pure: key codes and elements in, actions out. Codes (`KeyW`) rather than
 * characters, so WASD stays under the same fingers on AZERTY or Dvorak.
 */

/** Every flight action a button or key can trigger. */
export type FlightAction =
  | "forward"
  | "back"
  | "left"
  | "right"
  | "up"
  | "down"
  | "cw"
  | "ccw"
  | "takeoff"
  | "land"
  | "rth"
  | "hover"
  | "emergency";

export const flightActions: readonly FlightAction[] = ["forward", "back", "left", "right", "up", "down", "cw", "ccw", "takeoff", "land", "rth", "hover", "emergency"];

const keyActions: Readonly<Record<string, FlightAction>> = {
  ArrowUp: "forward",
  KeyW: "forward",
  ArrowDown: "back",
  KeyS: "back",
  ArrowLeft: "left",
  KeyA: "left",
  ArrowRight: "right",
  KeyD: "right",
  KeyQ: "ccw",
  KeyE: "cw",
  KeyR: "up",
  KeyF: "down",
  KeyT: "takeoff",
  KeyL: "land",
  KeyH: "rth",
  Space: "hover",
  // Not Escape: Esc means cancel everywhere, and it cancels the emergency dialog.
  KeyX: "emergency",
};

/** The action for a key press, or null when the key is not a flight shortcut (or a modifier is held). */
export function actionForKey(event: Pick<KeyboardEvent, "code" | "ctrlKey" | "metaKey" | "altKey">): FlightAction | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  return keyActions[event.code] ?? null;
}

/** Input types that take key presses as values; radios and buttons do not, so shortcuts still fly over them. */
const nonTypingInputs = new Set(["button", "checkbox", "radio", "reset", "submit", "image", "color"]);

/** Whether a key press aimed at `target` is someone typing (echo console, selects), where shortcuts must stay quiet. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target instanceof HTMLInputElement) return !nonTypingInputs.has(target.type);
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLElement && target.isContentEditable;
}
