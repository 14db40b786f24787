/**
 * The emergency-stop confirmation: a modal <dialog> that names the drone and
 * resolves true only after the pilot held "Hold to cut motors" down for
 * `emergencyHoldMs` without letting go (mouse, touch, or Space/Enter held on
 * the focused button). A click, a short press, Esc or Cancel send nothing;
 * the dialog opens with the focus on Cancel, so Enter in a panic cancels.
 *
 * Owns #emergency-dialog and its hold timer. It sends nothing itself: the
 * caller decides what a confirmation does. Invariant: each opening settles
 * exactly once, with the decision made in that opening (the `close` event
 * is dispatched later, as a task, so it may arrive after the dialog was
 * opened again).
 */
import { byId, setText } from "./dom.ts";

/** How long the hold button must stay pressed to cut the motors, milliseconds (the bar fills over it: style.css). */
export const emergencyHoldMs = 1000;

/** Keys that hold the focused button down, as a pointer would. */
const holdKeys = new Set(["Space", "Enter", "NumpadEnter"]);

export class EmergencyDialog {
  private readonly dialog = byId("emergency-dialog", HTMLDialogElement);
  private readonly droneName = byId("emergency-drone", HTMLElement);
  private readonly cancelButton = byId("emergency-cancel", HTMLButtonElement);
  private readonly holdButton = byId("emergency-hold", HTMLButtonElement);
  private readonly holdHint = byId("emergency-hint", HTMLElement);
  private pending: ((confirmed: boolean) => void) | null = null;
  private holdTimer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    this.dialog.addEventListener("close", () => {
      this.stopHold(false);
      // A close event that finds the dialog open again belongs to an earlier opening, already settled.
      if (!this.dialog.open) this.settle();
    });
    const hold = this.holdButton;
    hold.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      hold.setPointerCapture(event.pointerId);
      this.startHold();
    });
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"] as const) hold.addEventListener(type, () => this.stopHold(true));
    hold.addEventListener("keydown", (event) => {
      if (!holdKeys.has(event.code)) return;
      event.preventDefault(); // no click, no form submission: only the hold counts
      if (!event.repeat) this.startHold();
    });
    hold.addEventListener("keyup", (event) => {
      if (holdKeys.has(event.code)) this.stopHold(true);
    });
    hold.addEventListener("blur", () => this.stopHold(true));
  }

  get isOpen(): boolean {
    return this.dialog.open;
  }

  /** Asks for confirmation; a second call while open returns the same decision. */
  confirm(drone: string): Promise<boolean> {
    if (this.dialog.open && this.pending) {
      const earlier = this.pending;
      return new Promise((resolve) => {
        this.pending = (confirmed) => {
          earlier(confirmed);
          resolve(confirmed);
        };
      });
    }
    this.settle(); // closed, but its close event has not been dispatched yet
    this.droneName.textContent = drone;
    this.dialog.returnValue = "";
    this.showHint(false);
    this.dialog.showModal();
    this.cancelButton.focus();
    return new Promise((resolve) => (this.pending = resolve));
  }

  /** Closes without confirming (e.g. the pilot lost the lease meanwhile). */
  cancel(): void {
    if (this.dialog.open) this.dialog.close("cancel");
  }

  private startHold(): void {
    if (this.holdTimer !== null || !this.dialog.open) return;
    this.holdButton.dataset.holding = "true";
    this.showHint(false);
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      delete this.holdButton.dataset.holding;
      this.dialog.close("confirm");
    }, emergencyHoldMs);
  }

  /** Let go: the hold starts again from zero. `early` says so to the pilot when it was too short. */
  private stopHold(early: boolean): void {
    if (this.holdTimer === null) return;
    clearTimeout(this.holdTimer);
    this.holdTimer = null;
    delete this.holdButton.dataset.holding;
    if (early) this.showHint(true);
  }

  private showHint(tooShort: boolean): void {
    setText(this.holdHint, tooShort ? `Released too soon: nothing was sent. Hold for ${emergencyHoldMs / 1000} s to cut the motors.` : `Hold the red button for ${emergencyHoldMs / 1000} s to cut the motors. Esc or Cancel: nothing is sent.`);
    this.holdHint.dataset.tooShort = String(tooShort);
  }

  private settle(): void {
    const resolve = this.pending;
    this.pending = null;
    resolve?.(this.dialog.returnValue === "confirm");
  }
}
