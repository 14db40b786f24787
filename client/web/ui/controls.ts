/**
 * The flight controls: the button pad, the keyboard shortcuts and the step
 * sizes, all turned into one call per command (`forward 5`, `cw 45`).
 *
 * A short press of a move or turn is one step; held past `holdAfterMs` it
 * flies continuously (hold-to-fly.ts) until let go.
 *
 * Owns the buttons inside #flight-pad and .actions, the step radios, and the
 * document-level key listeners. It never talks to the server: commands go
 * out through `send` (and continuous flight through `fly`), and the
 * emergency stop asks `confirmEmergency` first.
 * Invariant: while disabled, no button and no key sends anything.
 */
import type { CommandName } from "../../../protocol/index.ts";
import { byId } from "./dom.ts";
import { HoldToFly, holdableActions, type VelocityArgs } from "./hold-to-fly.ts";
import { actionForKey, flightActions, isTypingTarget, type FlightAction } from "./keymap.ts";

export interface ControlCallbacks {
  send(command: CommandName, args: number[]): void;
  /** Continuous flight while a control is held: each velocity, then null when let go. */
  fly(velocity: VelocityArgs | null): void;
  /** Resolves true when the pilot confirmed the emergency stop. */
  confirmEmergency(): Promise<boolean>;
  /** A shortcut was pressed while the controls are off: show why. */
  denied(): void;
  /** Whether a modal (the emergency dialog) owns the keyboard right now. */
  modalOpen(): boolean;
}

/** How long a button looks pressed after its keyboard shortcut fired, milliseconds. */
const pressedFlashMs = 150;

const moveActions = new Set<FlightAction>(["forward", "back", "left", "right", "up", "down"]);
const turnActions = new Set<FlightAction>(["cw", "ccw"]);

const actionNames: Record<FlightAction, string> = {
  forward: "Forward",
  back: "Back",
  left: "Left",
  right: "Right",
  up: "Up",
  down: "Down",
  cw: "Turn right",
  ccw: "Turn left",
  takeoff: "Take off",
  land: "Land",
  rth: "Return home",
  hover: "Hover",
  emergency: "Emergency",
};

export class FlightControls {
  private readonly buttons = new Map<FlightAction, HTMLButtonElement>();
  private readonly moveStep = byId("move-step", HTMLFieldSetElement);
  private readonly turnStep = byId("turn-step", HTMLFieldSetElement);
  private enabled = false;
  private readonly hold: HoldToFly;

  constructor(private readonly callbacks: ControlCallbacks) {
    this.hold = new HoldToFly((velocity) => {
      if (this.enabled || velocity === null) this.callbacks.fly(velocity);
    });
    for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-action]")) {
      const action = button.dataset.action as FlightAction;
      if (!flightActions.includes(action)) throw new Error(`dashboard: unknown data-action ${JSON.stringify(action)}`);
      this.buttons.set(action, button);
      button.addEventListener("click", () => {
        // A press that flew continuously was not a step.
        if (holdableActions.has(action) && this.hold.consumeClick()) return;
        this.trigger(action);
      });
      if (!holdableActions.has(action)) continue;
      button.addEventListener("pointerdown", (event) => {
        if (event.button === 0 && this.enabled) this.hold.press(action);
      });
      for (const type of ["pointerup", "pointerleave", "pointercancel"] as const) button.addEventListener(type, () => this.hold.release(action));
    }
    this.moveStep.addEventListener("change", () => this.label());
    this.turnStep.addEventListener("change", () => this.label());
    document.addEventListener("keydown", (event) => this.onKey(event));
    document.addEventListener("keyup", (event) => {
      const action = actionForKey({ code: event.code, ctrlKey: false, metaKey: false, altKey: false });
      if (action !== null) this.hold.release(action);
    });
    // A key held while the window loses focus never reports its release: stop rather than fly on.
    window.addEventListener("blur", () => this.hold.releaseAll());
    this.setEnabled(false, "");
  }

  /** Turns every control on or off; `reason` becomes the buttons' tooltip while off. */
  setEnabled(enabled: boolean, reason: string): void {
    this.enabled = enabled;
    if (!enabled) this.hold.releaseAll(false);
    for (const button of this.buttons.values()) {
      button.disabled = !enabled;
      button.title = enabled ? "" : reason;
    }
    this.label();
  }

  /** Metres per move, from the Move step radios. */
  get moveMetres(): number {
    return checkedValue(this.moveStep, 5);
  }

  /** Degrees per turn, from the Turn step radios. */
  get turnDegrees(): number {
    return checkedValue(this.turnStep, 45);
  }

  /** Accessible names carry the current step, e.g. "Forward 5 m". */
  private label(): void {
    for (const [action, button] of this.buttons) {
      const step = moveActions.has(action) ? ` ${this.moveMetres} m` : turnActions.has(action) ? ` ${this.turnDegrees}°` : "";
      button.setAttribute("aria-label", `${actionNames[action]}${step}`);
    }
  }

  private onKey(event: KeyboardEvent): void {
    if (event.defaultPrevented || this.callbacks.modalOpen() || isTypingTarget(event.target)) return;
    const action = actionForKey(event);
    if (action === null) return;
    if (!this.enabled) {
      this.callbacks.denied();
      return; // leave arrows and Space to scroll the page
    }
    // Handled: no page scroll, and Space must not also click a focused button.
    event.preventDefault();
    if (event.repeat) return; // a held key flies continuously (hold-to-fly), not by repeated steps
    this.showPressed(action);
    this.trigger(action);
    this.hold.press(action);
  }

  private showPressed(action: FlightAction): void {
    const button = this.buttons.get(action);
    if (!button) return;
    button.classList.add("pressed");
    setTimeout(() => button.classList.remove("pressed"), pressedFlashMs);
  }

  private trigger(action: FlightAction): void {
    if (!this.enabled) return;
    if (action === "emergency") {
      void this.callbacks.confirmEmergency().then((confirmed) => {
        if (confirmed && this.enabled) this.callbacks.send("emergency", []);
      });
      return;
    }
    if (moveActions.has(action)) return this.callbacks.send(action, [this.moveMetres]);
    if (turnActions.has(action)) return this.callbacks.send(action, [this.turnDegrees]);
    this.callbacks.send(action, []);
  }
}

function checkedValue(group: HTMLFieldSetElement, fallback: number): number {
  const checked = group.querySelector<HTMLInputElement>("input:checked");
  const value = checked ? Number(checked.value) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
