/**
 * The top bar's telemetry rate: every frame, or at most 5, 2 or 1 a second
 * for an operator watching from a phone on a cellular link (the server's
 * `maxHz`: each frame sent is the latest, never a stale backlog).
 *
 * Owns #telemetry-rate and the choice kept in localStorage between visits.
 * Without a stored choice it starts at 1 a second when the browser asks to
 * save data (`navigator.connection.saveData`), else at every frame. It talks
 * to no socket: the dashboard applies the rate it reports.
 */
import { byId } from "./dom.ts";

/** Where the chosen rate is remembered between visits. */
export const telemetryRateStorageKey = "skyport.dashboard.maxHz";
/** The rates offered, frames a second; null is every frame. */
export const telemetryRates: readonly (number | null)[] = [null, 5, 2, 1];
/** The rate a data-saving browser starts at when nothing was chosen. */
const saveDataRate = 1;

/** The rate a stored value names, or undefined when it names none offered (nothing stored, or tampered with). */
export function parseTelemetryRate(stored: string | null): number | null | undefined {
  if (stored === "full") return null;
  const rate = Number(stored);
  return telemetryRates.includes(rate) ? rate : undefined;
}

/** The rate to start at: the stored choice, else 1 a second when the browser saves data, else every frame. */
export function initialTelemetryRate(stored: string | null, saveData: boolean): number | null {
  const chosen = parseTelemetryRate(stored);
  if (chosen !== undefined) return chosen;
  return saveData ? saveDataRate : null;
}

export class TelemetryRate {
  private readonly select = byId("telemetry-rate", HTMLSelectElement);
  private current: number | null;

  /** `changed` runs when the operator picks another rate (not for the initial one: read `maxHz`). */
  constructor(changed: (maxHz: number | null) => void) {
    const saveData = (navigator as Navigator & { connection?: { saveData?: boolean } }).connection?.saveData === true;
    this.current = initialTelemetryRate(readStored(), saveData);
    this.select.value = this.current === null ? "full" : String(this.current);
    this.select.addEventListener("change", () => {
      this.current = parseTelemetryRate(this.select.value) ?? null;
      try {
        localStorage.setItem(telemetryRateStorageKey, this.select.value);
      } catch {
        // Storage refused (private mode, quota): the choice lasts for this visit only.
      }
      changed(this.current);
    });
  }

  /** Frames a second asked of the server, or null for every frame. */
  get maxHz(): number | null {
    return this.current;
  }
}

function readStored(): string | null {
  try {
    return localStorage.getItem(telemetryRateStorageKey);
  } catch {
    return null;
  }
}
