/**
 * The command log: one line per command with its progress (sent, acked with
 * the ack's round trip, then completed with the time it took to complete,
 * failed or refused with the server's reason), one line per lease request
 * (granted, never "done": a claim completes nothing), interleaved with drone
 * events and lease changes, newest last.
 *
 * Owns #command-log. It knows nothing about sockets: the caller reports each
 * step through the handle `command()` returns.
 */
import { setText } from "./dom.ts";
import { formatClock, formatDuration, formatRoundTrip } from "./format.ts";

/** Oldest lines are dropped past this many, so a long flight stays light. */
const maxLogLines = 300;

export type LogLevel = "info" | "ok" | "warn" | "danger";


/** The progress of one logged command. */
export interface CommandEntry {
  /** The server accepted it: `roundTripMs` from sending to the ack. */
  acked(roundTripMs: number): void;
  /** The drone reported it done, `elapsedMs` after it was sent. */
  completed(elapsedMs: number): void;
  failed(reason: string): void;
  refused(code: string, message: string): void;
  /** A request that completes nothing (claim, release) was answered: what it means, and its round trip. */
  granted(meaning: string, roundTripMs: number): void;
}

export class CommandLog {
  constructor(private readonly list: HTMLOListElement) {}

  /** Starts a line for a command as it is sent. */
  command(drone: string, label: string): CommandEntry {
    const item = this.line("command", "info");
    const name = document.createElement("span");
    name.className = "log-label";
    name.textContent = `${drone} › ${label}`;
    const status = document.createElement("span");
    status.className = "log-status";
    status.textContent = "sent…";
    const timing = document.createElement("span");
    timing.className = "log-rtt";
    item.append(body(name, status), timing);
    const set = (text: string, level: LogLevel) => {
      setText(status, text);
      item.dataset.level = level;
    };
    const ackTime = (roundTripMs: number) => {
      timing.textContent = formatRoundTrip(roundTripMs);
      timing.title = "ack round trip: sent to accepted";
    };
    return {
      acked: (roundTripMs) => {
        set("accepted · in progress", "info");
        item.dataset.status = "acked";
        ackTime(roundTripMs);
      },
      completed: (elapsedMs) => {
        set(`done ✓ in ${formatDuration(elapsedMs)}`, "ok");
        item.dataset.status = "done";
      },
      granted: (meaning, roundTripMs) => {
        set(meaning, "ok");
        item.dataset.status = "granted";
        ackTime(roundTripMs);
      },
      failed: (reason) => {
        set(`failed: ${reason}`, "warn");
        item.dataset.status = "failed";
      },
      refused: (code, message) => {
        set(`error ${code}: ${message}`, "danger");
        item.dataset.status = "error";
      },
    };
  }

  /**
   * A drone event (failsafe, geofence, low battery...), highlighted by its
   * severity; `restoredAt` marks one shown again after a reload, with the time it was heard.
   */
  event(drone: string, kind: string, message: string, severity: LogLevel, restoredAt?: number): void {
    const item = this.line("event", severity, restoredAt);
    item.dataset.kind = kind;
    if (restoredAt !== undefined) item.dataset.restored = "true";
    const name = document.createElement("span");
    name.className = "log-label";
    name.textContent = `${drone} ${kind.replaceAll("_", " ")}`;
    const text = document.createElement("span");
    text.className = "log-status";
    text.textContent = message;
    item.append(body(name, text));
  }

  /** Anything else worth a line: lease changes, connection changes. */
  note(text: string, level: LogLevel = "info"): void {
    const item = this.line("note", level);
    const span = document.createElement("span");
    span.className = "log-status";
    span.textContent = text;
    item.append(body(span));
  }

  private line(type: "command" | "event" | "note", level: LogLevel, at?: number): HTMLLIElement {
    const stick = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 24;
    const item = document.createElement("li");
    item.className = `log-${type}`;
    item.dataset.level = level;
    const time = document.createElement("time");
    const now = at ?? Date.now();
    time.dateTime = new Date(now).toISOString();
    time.textContent = formatClock(now);
    item.append(time);
    this.list.append(item);
    while (this.list.childElementCount > maxLogLines) this.list.firstElementChild?.remove();
    // Follow new lines unless the reader scrolled up to look at older ones.
    if (stick) queueMicrotask(() => (this.list.scrollTop = this.list.scrollHeight));
    return item;
  }
}

/** The wrapping middle of a line: label and status flow as text between the time and the round trip. */
function body(...parts: HTMLElement[]): HTMLSpanElement {
  const span = document.createElement("span");
  span.className = "log-body";
  parts.forEach((part, index) => span.append(...(index === 0 ? [part] : [" ", part])));
  return span;
}
