/**
 * The drone events of this tab, kept across a reload: each event with its
 * time and severity goes to session storage (this tab only, the newest
 * `maxJournalEvents`), and the log shows them again after a reload.
 *
 * Owns the storage key and its format; draws nothing.
 */
import type { Severity } from "./event-severity.ts";

/** The session-storage key of the journal: a JSON array of `JournalEvent`. */
export const journalStorageKey = "skyport.dashboard.events";
/** Events kept, newest last; older ones are forgotten. */
export const maxJournalEvents = 200;

export interface JournalEvent {
  /** When the page heard it, Unix milliseconds. */
  time: number;
  drone: string;
  kind: string;
  message: string;
  severity: Severity;
}

export class EventJournal {
  constructor(private readonly storage: Pick<Storage, "getItem" | "setItem"> | null = sessionStorageOrNull()) {}

  /** The events kept from earlier in this tab, oldest first; anything unreadable is dropped. */
  load(): JournalEvent[] {
    try {
      const saved: unknown = JSON.parse(this.storage?.getItem(journalStorageKey) ?? "[]");
      return Array.isArray(saved) ? saved.filter(isJournalEvent) : [];
    } catch {
      return [];
    }
  }

  record(event: JournalEvent): void {
    const events = [...this.load(), event].slice(-maxJournalEvents);
    try {
      this.storage?.setItem(journalStorageKey, JSON.stringify(events));
    } catch {
      // Storage full or off: the event is still shown, just not kept.
    }
  }
}

function isJournalEvent(value: unknown): value is JournalEvent {
  if (typeof value !== "object" || value === null) return false;
  const event = value as Record<string, unknown>;
  return typeof event.time === "number" && typeof event.drone === "string" && typeof event.kind === "string" && typeof event.message === "string" && typeof event.severity === "string";
}

function sessionStorageOrNull(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
