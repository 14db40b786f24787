/**
 * Spoken alerts for critical events (Web Speech API), with a mute button
 * whose choice is remembered on this browser.
 *
 * Owns #voice-alerts and the remembered choice. Says nothing where the
 * browser has no speech synthesis (the button then says so and is off).
 */
import { byId, setText } from "./dom.ts";

/** The local-storage key of the choice: "on" or "off". */
export const voiceStorageKey = "skyport.dashboard.voice";

export class VoiceAlerts {
  private readonly button = byId("voice-alerts", HTMLButtonElement);
  private readonly speech: SpeechSynthesis | null = "speechSynthesis" in window ? window.speechSynthesis : null;
  private enabled: boolean;

  constructor() {
    this.enabled = this.speech !== null && readChoice() !== "off";
    this.button.addEventListener("click", () => {
      this.enabled = !this.enabled;
      saveChoice(this.enabled ? "on" : "off");
      if (!this.enabled) this.speech?.cancel();
      this.render();
    });
    this.render();
  }

  /** Speaks `text` now, unless muted (a newer alert does not wait behind older ones). */
  announce(text: string): void {
    if (!this.enabled || this.speech === null) return;
    this.speech.cancel();
    this.speech.speak(new SpeechSynthesisUtterance(text));
  }

  private render(): void {
    this.button.disabled = this.speech === null;
    this.button.setAttribute("aria-pressed", String(this.enabled));
    setText(this.button, this.speech === null ? "No voice alerts here" : this.enabled ? "Voice alerts: on" : "Voice alerts: off");
    this.button.title = "Speaks critical events (failsafe, critical battery, geofence, lost link)";
  }
}

function readChoice(): string | null {
  try {
    return localStorage.getItem(voiceStorageKey);
  } catch {
    return null;
  }
}

function saveChoice(choice: "on" | "off"): void {
  try {
    localStorage.setItem(voiceStorageKey, choice);
  } catch {
    // Storage off: the choice lasts for this visit.
  }
}
