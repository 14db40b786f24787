/**
 * The emergency-stop confirmation: a modal <dialog> that names the drone and
 * resolves true only when the pilot chose "Cut motors".
 *
 * Owns #emergency-dialog. It sends nothing itself: the caller decides what a
 * confirmation does. Invariant: each opening settles exactly once, with the
 * decision made in that opening (the `close` event is dispatched later, as a
 * task, so it may arrive after the dialog was opened again).
 */
import { byId } from "./dom.ts";

export class EmergencyDialog {
  private readonly dialog = byId("emergency-dialog", HTMLDialogElement);
  private readonly droneName = byId("emergency-drone", HTMLElement);
  private readonly confirmButton = byId("emergency-confirm", HTMLButtonElement);
  private pending: ((confirmed: boolean) => void) | null = null;

  constructor() {
    this.dialog.addEventListener("close", () => {
      // A close event that finds the dialog open again belongs to an earlier opening, already settled.
      if (!this.dialog.open) this.settle();
    });
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
    this.dialog.showModal();
    this.confirmButton.focus();
    return new Promise((resolve) => (this.pending = resolve));
  }

  /** Closes without confirming (e.g. the pilot lost the lease meanwhile). */
  cancel(): void {
    if (this.dialog.open) this.dialog.close("cancel");
  }

  private settle(): void {
    const resolve = this.pending;
    this.pending = null;
    resolve?.(this.dialog.returnValue === "confirm");
  }
}
