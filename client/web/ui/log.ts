/**
 * The command log: one line per command with its progress (sent, acked with
 * the round-trip time, then completed, failed or refused with the server's
 * reason), interleaved with drone events and lease changes, newest last.
 *
 * Owns #command-log. It knows nothing about sockets: the caller reports each
 * step through the handle `command()` returns.
 */
import { setText } from "./dom.ts";
import { formatClock, formatRoundTrip } from "./format.ts";

/** Oldest lines are dropped past this many, so a long flight stays light. */
const maxLogLines = 300;

export type LogLevel = "info" | "ok" | "warn" | "danger";

/** How each event kind is highlighted. */
const eventLevels: Record<string, LogLevel> = {
  failsafe: "danger",
  critical_battery: "danger",
  geofence: "danger",
  low_battery: "warn",
  frames_lost: "warn",
  stream_reset: "warn",
  pilot_regained: "ok",
  landed: "info",
};

/** The progress of one logged command. */
export interface CommandEntry {
  acked(roundTripMs: number): void;
  completed(): void;
  failed(reason: string): void;
  refused(code: string, message: string): void;
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
    return {
      acked: (roundTripMs) => {
        set("ack · in progress", "info");
        item.dataset.status = "acked";
        timing.textContent = formatRoundTrip(roundTripMs);
        timing.title = "round trip: command sent to ack received";
      },
      completed: () => {
        set("done ✓", "ok");
        item.dataset.status = "done";
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

  /** A drone event (failsafe, geofence, low battery...), highlighted by severity. */
  event(drone: string, kind: string, message: string): void {
    const item = this.line("event", eventLevels[kind] ?? "info");
    item.dataset.kind = kind;
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

  private line(type: "command" | "event" | "note", level: LogLevel): HTMLLIElement {
    const stick = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 24;
    const item = document.createElement("li");
    item.className = `log-${type}`;
    item.dataset.level = level;
    const time = document.createElement("time");
    const now = Date.now();
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
