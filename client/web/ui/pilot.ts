/**
 * The pilot bar: which drone this page watches, this session's role for it
 * (pilot, observer, free), the Claim and Release buttons, and the sentence
 * that says why the controls are on or off.
 *
 * Owns #drone-select, #role-badge, #claim-button, #release-button and
 * #control-reason. It decides nothing: the permission comes in ready-made and
 * clicks go out through callbacks.
 */
import type { Permission } from "../dashboard-permission.ts";
import { byId, setText } from "./dom.ts";

export interface PilotCallbacks {
  select(drone: string): void;
  claim(): void;
  release(): void;
}

const roleLabels: Record<Permission["role"], string> = {
  pilot: "Pilot",
  observer: "Observer",
  free: "Observer · drone free",
  offline: "Offline",
};

/** How long the reason line flashes when someone presses a shortcut they may not use, milliseconds. */
const flashMs = 900;

export class PilotBar {
  private readonly select = byId("drone-select", HTMLSelectElement);
  private readonly badge = byId("role-badge", HTMLElement);
  private readonly claimButton = byId("claim-button", HTMLButtonElement);
  private readonly releaseButton = byId("release-button", HTMLButtonElement);
  private readonly reason = byId("control-reason", HTMLElement);
  private flashTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(callbacks: PilotCallbacks) {
    this.select.addEventListener("change", () => callbacks.select(this.select.value));
    this.claimButton.addEventListener("click", () => callbacks.claim());
    this.releaseButton.addEventListener("click", () => callbacks.release());
  }

  /** Lists the drones, keeping `selected` chosen. */
  setDrones(ids: readonly string[], selected: string | null): void {
    const current = [...this.select.options].map((option) => option.value);
    if (current.join("\n") !== ids.join("\n")) {
      this.select.replaceChildren(...ids.map((id) => new Option(id, id)));
    }
    if (selected !== null) this.select.value = selected;
    this.select.disabled = ids.length === 0;
  }

  setPermission(drone: string | null, permission: Permission): void {
    this.badge.dataset.role = permission.role;
    setText(this.badge, roleLabels[permission.role]);
    this.claimButton.disabled = !permission.canClaim;
    this.releaseButton.disabled = !permission.canRelease;
    const name = drone ?? "the drone";
    this.claimButton.setAttribute("aria-label", `Claim ${name}: become its pilot`);
    this.releaseButton.setAttribute("aria-label", `Release ${name}: a flying drone holds position, then returns home`);
    this.reason.dataset.role = permission.role;
    setText(this.reason, permission.reason);
  }

  /** Draws the eye to the reason line: a shortcut was pressed while the controls are off. */
  flashReason(): void {
    this.reason.classList.remove("flash");
    void this.reason.offsetWidth; // restart the CSS animation
    this.reason.classList.add("flash");
    if (this.flashTimer !== null) clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => this.reason.classList.remove("flash"), flashMs);
  }
}
