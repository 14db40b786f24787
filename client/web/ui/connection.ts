/**
 * The connection line in the top bar: connecting, connected (with the
 * session id), reconnecting with a live countdown to the next attempt,
 * closed, or refused (the server would not take this tab's tokens: no
 * countdown, since nothing is retried until the operator signs in).
 *
 * Owns #connection and its countdown timer; it learns about the socket only
 * through `setState` and `setReconnect`.
 */
import type { ConnectionState, ReconnectInfo } from "../../sdk/index.ts";
import { byId, setText } from "./dom.ts";
import { formatCountdown, shortSession } from "./format.ts";

/** How often the countdown text refreshes, milliseconds. */
const countdownTickMs = 100;

export class ConnectionStatus {
  private readonly root = byId("connection", HTMLElement);
  private readonly text = byId("connection-text", HTMLElement);
  private state: ConnectionState = "connecting";
  private session: string | null = null;
  private reconnect: ReconnectInfo | null = null;
  private refusal: string | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  setState(state: ConnectionState, session: string | null): void {
    this.state = state;
    this.session = session;
    if (state !== "reconnecting") this.reconnect = null;
    if (state !== "closed") this.refusal = null;
    this.render();
  }

  /** The server refused this tab's tokens: say so, in words, until the next connection. */
  setRefused(message: string): void {
    this.state = "closed";
    this.reconnect = null;
    this.refusal = message;
    this.render();
  }

  /** The SDK scheduled attempt `info.attempt` at `info.at`: count down to it. */
  setReconnect(info: ReconnectInfo): void {
    this.reconnect = info;
    this.state = "reconnecting";
    this.render();
  }

  private render(): void {
    this.root.dataset.state = this.refusal === null ? this.state : "refused";
    const counting = this.state === "reconnecting" && this.reconnect !== null;
    if (counting && this.timer === null) this.timer = setInterval(() => this.render(), countdownTickMs);
    if (!counting && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    setText(this.text, this.describe());
    this.root.title = this.state === "open" && this.session ? `session ${this.session}` : "";
  }

  private describe(): string {
    switch (this.state) {
      case "connecting":
        return "Connecting…";
      case "open":
        return this.session ? `Connected · session ${shortSession(this.session)}` : "Connected";
      case "closed":
        return this.refusal === null ? "Disconnected" : `Refused: ${this.refusal}`;
      case "reconnecting": {
        const info = this.reconnect;
        if (!info) return "Reconnecting…";
        const remaining = info.at - Date.now();
        if (remaining <= 0) return `Reconnecting now (attempt ${info.attempt})…`;
        return `Connection lost · retrying in ${formatCountdown(remaining)} (attempt ${info.attempt})`;
      }
    }
  }
}
