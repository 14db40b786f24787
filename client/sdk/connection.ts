/**
 * One logical link to the server over a succession of sockets: dials,
 * watches each socket for silence (pinging a quiet one so that a healthy
 * link always proves itself), and after a drop waits out an exponential
 * backoff with jitter before dialling again.
 *
 * Owns the socket, the watchdog and the reconnection timer. Knows nothing of
 * requests, telemetry or leases: it hands each text message and each drop to
 * its `ConnectionEvents`, and reads time only from the injected clock.
 */
import type { WireClientMessage } from "../../protocol/index.ts";
import type { SkyportClock, TimerHandle } from "./clock.ts";

/** Reconnection backoff, milliseconds. */
export interface BackoffOptions {
  /** Base delay before the first reconnection attempt. @default 500 */
  initialMs?: number;
  /** Ceiling of the doubling delay. @default 30000 */
  maxMs?: number;
  /** A connection that stayed open this long resets the schedule to `initialMs`. @default 10000 */
  stableAfterMs?: number;
}

/** Announced before each reconnection attempt. */
export interface ReconnectInfo {
  /** 1 for the first attempt after a drop, then 2, 3... until a stable connection resets it. */
  attempt: number;
  /** How long the client waits before dialling. */
  delayMs: number;
  /** The time at which it will dial, Unix milliseconds (the clock's `now()`, by default `Date.now()`). */
  at: number;
}

/** What the link reports to its owner. */
export interface ConnectionEvents {
  /** The current socket opened: the owner may present itself (`send`) before the server's welcome. */
  opened(): void;
  /** A text message arrived on the current socket. */
  message(text: string): void;
  /** The current socket is gone (closed by either side, failed to open, or went silent) and has been let go. */
  lost(): void;
  /** A reconnection was scheduled (`stop()` cancels it, e.g. from a listener that closes the client). */
  reconnecting(info: ReconnectInfo): void;
}

/** Everything the link needs, already checked. */
export interface ConnectionSettings {
  url: string;
  protocols: string[];
  WebSocketImpl: typeof WebSocket;
  staleAfterMs: number;
  backoff: Required<BackoffOptions>;
  random: () => number;
  clock: SkyportClock;
}

/** How long `closeGracefully` waits for the server's close frame before letting go. */
const closeWaitMs = 1000;
/** Close code (application range) sent when the client gives up on a silent socket. */
const staleCloseCode = 4000;
/** `WebSocket.readyState` values (WHATWG), named here so any `WebSocketImpl` will do. */
const socketConnecting = 0;
const socketOpen = 1;
/** The app-level ping the watchdog sends on a quiet link; its pong proves the link. */
const heartbeat = JSON.stringify({ type: "ping" } satisfies WireClientMessage);

/**
 * Checks that `raw` is a ws:// or wss:// URL, or throws a TypeError naming
 * `name` (the option or flag it came from) and the value received.
 *
 * @example
 * parseWebSocketUrl("ws://localhost:8080/drone"); // URL
 * parseWebSocketUrl("http://x", "--url"); // throws: --url must be a ws:// or wss:// URL: received "http://x"
 */
export function parseWebSocketUrl(raw: string, name = "'url'"): URL {
  const problem = `${name} must be a ws:// or wss:// URL: received ${JSON.stringify(raw)}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(problem);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") throw new TypeError(problem);
  return url;
}

/**
 * The delay before reconnection attempt `attempt` (1-based): exponential
 * backoff with "equal jitter". The base doubles from `initialMs` up to
 * `maxMs`, and the delay is a random point in its upper half, so a fleet of
 * clients dropped at once does not come back in lockstep:
 *
 *     delay = min(maxMs, initialMs * 2^(attempt - 1)) * (0.5 + random() / 2)
 *
 * With the defaults: 250-500 ms, 0.5-1 s, 1-2 s, 2-4 s ... 15-30 s.
 */
export function reconnectDelayMs(attempt: number, backoff: Required<BackoffOptions>, random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (attempt - 1));
  return Math.round(base * (0.5 + random() / 2));
}

/**
 * The link. Invariant: at most one socket is live at a time; every handler
 * of a socket that has been replaced or let go ignores it.
 */
export class Connection {
  /** The socket being dialled or in use; null while waiting to reconnect and after `stop()`. */
  private socket: WebSocket | null = null;
  /** Set once the owner says `socket` was welcomed: requests and pings go out only then. */
  private welcomedSocket = false;
  private openedAt: number | null = null;
  private lastHeardAt = 0;
  private watchdog: TimerHandle | null = null;
  private reconnectTimer: TimerHandle | null = null;
  /** Reconnection attempts since the last stable connection. */
  private attempt = 0;

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly events: ConnectionEvents,
  ) {}

  /** Whether the current socket has been welcomed (see `welcomed`). */
  get live(): boolean {
    return this.welcomedSocket;
  }

  /** Dials the first socket, with a fresh backoff schedule. */
  start(): void {
    this.attempt = 0;
    this.dial();
  }

  /** The owner heard the current socket's welcome: it may carry requests now. */
  welcomed(): void {
    this.welcomedSocket = true;
  }

  /** Sends on the current socket if it is open, welcomed or not; otherwise the text is dropped (requests time out or fail on the drop). */
  send(text: string): void {
    if (this.socket?.readyState === socketOpen) this.socket.send(text);
  }

  /** Stops reconnecting and lets the current socket go; returns it so the caller can close it (`closeGracefully`). */
  stop(): WebSocket | null {
    const socket = this.detach();
    if (this.reconnectTimer !== null) this.settings.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    return socket;
  }

  /** Closes a let-go socket with 1000; resolves once the server answers the close, or after a second. */
  closeGracefully(socket: WebSocket | null): Promise<void> {
    if (socket === null || (socket.readyState !== socketConnecting && socket.readyState !== socketOpen)) return Promise.resolve();
    const { clock } = this.settings;
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = clock.setTimeout(resolve, closeWaitMs);
    socket.onclose = () => {
      clock.clearTimeout(timer);
      resolve();
    };
    socket.close(1000, "client closed");
    return promise;
  }

  /** Opens a new socket and wires its handlers; each handler ignores a socket that has been replaced. */
  private dial(): void {
    const { clock } = this.settings;
    let socket: WebSocket;
    try {
      socket = new this.settings.WebSocketImpl(this.settings.url, this.settings.protocols);
    } catch {
      // e.g. a page's content security policy: treat it like a failed connection and keep trying.
      return this.dropped();
    }
    this.socket = socket;
    this.welcomedSocket = false;
    this.openedAt = null;
    this.lastHeardAt = clock.now();
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.openedAt = clock.now();
      this.lastHeardAt = this.openedAt;
      this.events.opened();
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket) return;
      this.lastHeardAt = clock.now();
      if (typeof event.data === "string") this.events.message(event.data);
    };
    // A failed or broken socket fires error then close: the close handles both.
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.socket === socket) this.dropped();
    };
    this.armWatchdog(socket);
  }

  /** Every staleAfterMs / 3: declares a silent socket dead, or pings to keep a quiet one proving itself. */
  private armWatchdog(socket: WebSocket): void {
    const { clock, staleAfterMs } = this.settings;
    this.watchdog = clock.setTimeout(() => {
      this.watchdog = null;
      if (this.socket !== socket) return;
      if (clock.now() - this.lastHeardAt > staleAfterMs) return this.dropped();
      if (this.welcomedSocket) this.send(heartbeat);
      this.armWatchdog(socket);
    }, staleAfterMs / 3);
  }

  /** Stops listening to the current socket and its watchdog; returns it so the caller can close it. */
  private detach(): WebSocket | null {
    if (this.watchdog !== null) this.settings.clock.clearTimeout(this.watchdog);
    this.watchdog = null;
    const socket = this.socket;
    this.socket = null;
    this.welcomedSocket = false;
    if (socket !== null) socket.onopen = socket.onmessage = socket.onclose = null;
    return socket;
  }

  /** The socket is gone: tell the owner, then wait out the backoff and dial again. */
  private dropped(): void {
    const { clock, backoff, staleAfterMs } = this.settings;
    const stable = this.openedAt !== null && clock.now() - this.openedAt >= backoff.stableAfterMs;
    const socket = this.detach();
    // Still up means it went silent: a close frame will likely never arrive, so do not wait for one.
    if (socket !== null && (socket.readyState === socketConnecting || socket.readyState === socketOpen)) {
      socket.close(staleCloseCode, `no message from the server for ${staleAfterMs} ms`);
    }
    this.events.lost();
    if (stable) this.attempt = 0;
    this.attempt++;
    const delayMs = reconnectDelayMs(this.attempt, backoff, this.settings.random);
    const at = clock.now() + delayMs;
    this.reconnectTimer = clock.setTimeout(() => {
      this.reconnectTimer = null;
      this.dial();
    }, delayMs);
    this.events.reconnecting({ attempt: this.attempt, delayMs, at });
  }
}
