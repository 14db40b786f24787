/**
 * skyport's typed client SDK for the `/drone` endpoint, for browsers and Bun.
 *
 * Owns one logical connection that survives dropped sockets: requests as
 * Promises (matched to replies by id, never left hanging), reconnection with
 * backoff, resuming every telemetry stream without a gap or a duplicate,
 * reclaiming pilot leases, and detecting a dead link.
 *
 * Uses only the standard `WebSocket`: no Node APIs, no dependencies. Message
 * shapes come from `protocol/index.ts` as type-only imports, so bundling this
 * file for a page pulls in nothing from the server.
 *
 * @example
 * const client = new SkyportClient({ url: "ws://localhost:8080/drone" });
 * client.on("telemetry", (frame) => console.log(frame.drone, frame.state, frame.position));
 * client.connect();
 * await client.claim("alpha");
 * const takeoff = await client.command("alpha", "takeoff");
 * await takeoff.done;
 */
import { allDrones, type EventKind, type RequestId, type ServerMessage, type TelemetryData } from "../../protocol/index.ts";

export type { DroneSummary, EventKind, TelemetryData } from "../../protocol/index.ts";

type ServerMessageOf<T extends ServerMessage["type"]> = Extract<ServerMessage, { type: T }>;

/** The `welcome` a socket receives first: session id, drones and their pilots, server limits. */
export type WelcomeData = ServerMessageOf<"welcome">["data"];
/** An `ack`'s data: what the server did (its fields depend on the request). */
export type AckData = Record<string, unknown>; // protocol now types acks per request (AckFor): the SDK adopts it in its own split
/** A `done`'s data: how an accepted command ended (`status` "completed" or "failed", with a `reason`). */
export type DoneData = ServerMessageOf<"done">["data"];
/** A pilot lease change: `pilot` is the new pilot's session id, or null when nobody flies the drone. */
export type LeaseData = ServerMessageOf<"lease">["data"];
/** A drone event (failsafe, geofence, low battery, landed, frames_lost, stream_reset...) with its extra fields. */
export type EventData = { drone: string; kind: EventKind; message: string } & Record<string, unknown>;

/**
 * Where the connection stands. `connecting` is the first attempt after
 * `connect()`; `reconnecting` lasts from a drop until the next `welcome`
 * (waiting out the backoff, then dialling); `open` means a welcomed socket;
 * `closed` is before `connect()` and after `close()`.
 */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** Reconnection backoff, milliseconds. */
export interface BackoffOptions {
  /** Base delay before the first reconnection attempt. @default 500 */
  initialMs?: number;
  /** Ceiling of the doubling delay. @default 30000 */
  maxMs?: number;
  /** A connection that stayed open this long resets the schedule to `initialMs`. @default 10000 */
  stableAfterMs?: number;
}

export interface SkyportClientOptions {
  /** The `/drone` endpoint, e.g. `ws://localhost:8080/drone`; `?drone=a,b` picks the drones watched at first. */
  url: string;
  /** How long a request waits for its `ack` (or `pong`), including any wait for the link. @default 5000 */
  requestTimeoutMs?: number;
  /**
   * A socket that hears nothing from the server for this long is dead and is
   * replaced. An app-level ping goes out every `staleAfterMs / 3`, so an idle
   * but healthy link always proves itself. @default 3000
   */
  staleAfterMs?: number;
  /** Reconnection schedule: see {@link reconnectDelayMs}. */
  backoff?: BackoffOptions;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
  /** The WebSocket constructor to use. @default globalThis.WebSocket */
  WebSocketImpl?: typeof WebSocket;
  /** Subprotocols offered in the handshake. @default ["skyport.v1.json"] */
  protocols?: string[];
}

/** Announced before each reconnection attempt. */
export interface ReconnectInfo {
  /** 1 for the first attempt after a drop, then 2, 3... until a stable connection resets it. */
  attempt: number;
  /** How long the client waits before dialling. */
  delayMs: number;
  /** `Date.now()` at which it will dial. */
  at: number;
}

/**
 * Why a request failed. `code` is the server's error code (`not_pilot`,
 * `geofence`, `out_of_range`...), or one of the client's own: `timeout` (no
 * reply within `requestTimeoutMs`), `disconnected` (the socket dropped before
 * the reply), `closed` (`close()` was called).
 */
export class SkyportError extends Error {
  override name = "SkyportError";
  /** The server's error code, or `timeout`, `disconnected` or `closed`. */
  readonly code: string;
  /** The offending request field, e.g. `data.args[0]`, when the server named one. */
  readonly field?: string;

  constructor(code: string, message: string, field?: string) {
    super(message);
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

/** An accepted command: its ack, and a promise for its completion. */
export interface CommandHandle {
  /** The ack's data: `drone`, `command` and the `target` the drone is heading for. */
  ack: AckData;
  /**
   * Resolves when the command ends, with `status` "completed" or "failed"
   * (a failed command is an outcome, not an error). Rejects with a
   * SkyportError if the socket drops or the client closes first.
   */
  done: Promise<DoneData>;
  /** Milliseconds from sending the command to its ack. */
  roundTripMs: number;
}

/** Everything `on` can listen to, and what each listener receives. */
export interface SkyportEvents {
  /** Every change of `state`. */
  state: ConnectionState;
  /** Each telemetry frame once, in seq order per drone (see `lastSeq`). */
  telemetry: TelemetryData;
  lease: LeaseData;
  event: EventData;
  welcome: WelcomeData;
  reconnecting: ReconnectInfo;
  /** Errors no request is waiting for: unsolicited server errors, a lease that could not be reclaimed. */
  error: SkyportError;
}

/** Defaults of the options, in milliseconds. */
export const defaultRequestTimeoutMs = 5000;
export const defaultStaleAfterMs = 3000;
export const defaultBackoff: Required<BackoffOptions> = { initialMs: 500, maxMs: 30_000, stableAfterMs: 10_000 };
export const defaultProtocols = ["skyport.v1.json"];

/** How long `close()` waits for the server's close frame before letting go. */
const closeWaitMs = 1000;
/** Close code (application range) sent when the client gives up on a silent socket. */
const staleCloseCode = 4000;
/** `WebSocket.readyState` values (WHATWG), named here so any `WebSocketImpl` will do. */
const socketConnecting = 0;
const socketOpen = 1;

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

type Listener<E extends keyof SkyportEvents> = (payload: SkyportEvents[E]) => void;

/** A request sent or waiting to be sent, until its reply, its timeout or a drop. */
interface PendingRequest {
  /** The serialised message, sent as soon as the link is open. */
  text: string;
  /** `performance.now()` when it went out, null while it waits for the link. */
  sentAt: number | null;
  timer: ReturnType<typeof setTimeout>;
  /** Runs synchronously on the reply (an ack's or pong's data), before any later message is handled. */
  settle(data: Record<string, unknown>, sentAt: number): void;
  fail(error: SkyportError): void;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(typeof value === "number" && Number.isFinite(value) && value > 0)) {
    throw new RangeError(`'${name}' must be a positive number of milliseconds: received ${String(value)}`);
  }
  return value;
}

/**
 * A client for one skyport `/drone` endpoint.
 *
 * Invariants: at most one socket is live at a time (messages from a replaced
 * socket are ignored); every request settles exactly once; a telemetry
 * frame is delivered at most once, and only if its seq is above the last one
 * delivered for its drone (until a `stream_reset` starts the count again).
 */
export class SkyportClient {
  private readonly url: string;
  private readonly requestTimeoutMs: number;
  private readonly staleAfterMs: number;
  private readonly backoff: Required<BackoffOptions>;
  private readonly random: () => number;
  private readonly WebSocketImpl: typeof WebSocket;
  private readonly protocols: string[];

  private currentState: ConnectionState = "closed";
  private currentWelcome: WelcomeData | null = null;
  private readonly listeners = new Map<keyof SkyportEvents, Set<(payload: never) => void>>();
  private readonly iteratorEnders = new Set<() => void>();

  // ---- the socket
  /** The socket being dialled or in use; null while waiting to reconnect and after close(). */
  private socket: WebSocket | null = null;
  /** Set once `socket` has been welcomed: requests go out only then. */
  private live = false;
  private openedAt: number | null = null;
  private lastHeardAt = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  /** Reconnection attempts since the last stable connection. */
  private attempt = 0;

  // ---- requests
  private nextId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  /** Accepted (or about to be) commands awaiting their `done`, by request id. */
  private readonly doneWaiters = new Map<number, Deferred<DoneData>>();

  // ---- what survives a reconnection
  /** Drones whose telemetry we want; null until the first welcome says what the server subscribed us to. */
  private watched: Set<string> | null = null;
  private readonly lastSeqs = new Map<string, number>();
  /** Live frames held back while a resume's replay is on its way (they are part of the replay). */
  private readonly held = new Map<string, TelemetryData[]>();
  /** Pilot of each drone as last heard: welcome, lease messages, claim and release acks. */
  private readonly pilots = new Map<string, string | null>();
  /** Drones this client flies, to reclaim after a reconnection, with the claim token used. */
  private readonly piloting = new Map<string, string | undefined>();
  /** Drones to reclaim once the server notices our previous socket is gone and frees the lease. */
  private readonly awaitingLapse = new Set<string>();
  /** Our earlier session ids: a lease still held by one of them is ours to take back. */
  private readonly pastSessions = new Set<string>();

  constructor(options: SkyportClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new TypeError(`'url' must be a ws:// or wss:// URL: received ${JSON.stringify(options.url)}`);
    }
    if (url.protocol !== "ws:" && url.protocol !== "wss:") {
      throw new TypeError(`'url' must be a ws:// or wss:// URL: received ${JSON.stringify(options.url)}`);
    }
    this.url = url.href;
    this.requestTimeoutMs = positive("requestTimeoutMs", options.requestTimeoutMs, defaultRequestTimeoutMs);
    this.staleAfterMs = positive("staleAfterMs", options.staleAfterMs, defaultStaleAfterMs);
    this.backoff = {
      initialMs: positive("backoff.initialMs", options.backoff?.initialMs, defaultBackoff.initialMs),
      maxMs: positive("backoff.maxMs", options.backoff?.maxMs, defaultBackoff.maxMs),
      stableAfterMs: positive("backoff.stableAfterMs", options.backoff?.stableAfterMs, defaultBackoff.stableAfterMs),
    };
    this.random = options.random ?? Math.random;
    const impl = options.WebSocketImpl ?? globalThis.WebSocket;
    if (typeof impl !== "function") throw new TypeError("'WebSocketImpl' is required where there is no global WebSocket");
    this.WebSocketImpl = impl;
    this.protocols = options.protocols ?? defaultProtocols;
  }

  /** The connection's state; every change is also an `on("state")` event. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** This client's session id on the server, from the latest welcome (it changes on each reconnection). */
  get session(): string | null {
    return this.currentWelcome?.session ?? null;
  }

  /** The latest welcome's data, or null before the first. */
  get welcome(): WelcomeData | null {
    return this.currentWelcome;
  }

  // ------------------------------------------------------------ lifecycle

  /** Starts connecting; from then on the client reconnects by itself until `close()`. Does nothing if already started. */
  connect(): void {
    if (this.currentState !== "closed") return;
    this.attempt = 0;
    this.watched = null;
    this.lastSeqs.clear();
    this.piloting.clear();
    this.awaitingLapse.clear();
    this.setState("connecting");
    this.dial();
  }

  /**
   * Closes with 1000 and stops reconnecting. Every request still waiting
   * (and every command's `done`) rejects with code `closed`; telemetry
   * iterators end. Resolves once the server has answered the close, or
   * after a second.
   */
  async close(): Promise<void> {
    if (this.currentState === "closed") return;
    const socket = this.detachSocket();
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.failAll(new SkyportError("closed", "the client was closed"), true);
    this.setState("closed");
    for (const end of [...this.iteratorEnders]) end();
    if (socket === null || (socket.readyState !== socketConnecting && socket.readyState !== socketOpen)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, closeWaitMs);
      socket.onclose = () => {
        clearTimeout(timer);
        resolve();
      };
      socket.close(1000, "client closed");
    });
  }

  /** Opens a new socket and wires its handlers; each handler ignores a socket that has been replaced. */
  private dial(): void {
    let socket: WebSocket;
    try {
      socket = new this.WebSocketImpl(this.url, this.protocols);
    } catch {
      // e.g. a page's content security policy: treat it like a failed connection and keep trying.
      return this.dropped();
    }
    this.socket = socket;
    this.live = false;
    this.openedAt = null;
    this.lastHeardAt = performance.now();
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.openedAt = performance.now();
      this.lastHeardAt = this.openedAt;
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket) return;
      this.lastHeardAt = performance.now();
      if (typeof event.data === "string") this.receive(event.data);
    };
    // A failed or broken socket fires error then close: the close handles both.
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.socket === socket) this.dropped();
    };
    this.watchdog = setInterval(() => this.checkLink(), this.staleAfterMs / 3);
  }

  /** Runs every staleAfterMs / 3: declares a silent socket dead, or pings to keep a quiet one proving itself. */
  private checkLink(): void {
    if (performance.now() - this.lastHeardAt > this.staleAfterMs) return this.dropped();
    if (this.live) this.sendText(JSON.stringify({ type: "ping" }));
  }

  private sendText(text: string): void {
    if (this.socket?.readyState === socketOpen) this.socket.send(text);
  }

  /** Stops listening to the current socket and its watchdog; returns it so the caller can close it. */
  private detachSocket(): WebSocket | null {
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
    const socket = this.socket;
    this.socket = null;
    this.live = false;
    this.held.clear();
    if (socket !== null) socket.onopen = socket.onmessage = socket.onclose = null;
    return socket;
  }

  /** The socket is gone (closed by either side, failed to open, or went silent): fail what was in flight, then retry. */
  private dropped(): void {
    const stable = this.openedAt !== null && performance.now() - this.openedAt >= this.backoff.stableAfterMs;
    const socket = this.detachSocket();
    // Still up means it went silent: a close frame will likely never arrive, so do not wait for one.
    if (socket !== null && (socket.readyState === socketConnecting || socket.readyState === socketOpen)) {
      socket.close(staleCloseCode, `no message from the server for ${this.staleAfterMs} ms`);
    }
    this.failAll(new SkyportError("disconnected", `the connection to ${this.url} dropped before the reply`), false);
    if (stable) this.attempt = 0;
    this.attempt++;
    const delayMs = reconnectDelayMs(this.attempt, this.backoff, this.random);
    // Listeners may call close(): after each event, check that reconnecting is still wanted.
    this.setState("reconnecting");
    if (this.currentState !== "reconnecting") return;
    this.emit("reconnecting", { attempt: this.attempt, delayMs, at: Date.now() + delayMs });
    if (this.currentState !== "reconnecting") return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.dial();
    }, delayMs);
  }

  /**
   * Rejects every `done` and every request already sent (their replies can
   * no longer arrive). Requests still waiting for the link keep waiting,
   * within their timeout, unless `includeUnsent`.
   */
  private failAll(error: SkyportError, includeUnsent: boolean): void {
    for (const [id, done] of this.doneWaiters) {
      if (!includeUnsent && this.pending.get(id)?.sentAt === null) continue;
      this.doneWaiters.delete(id);
      done.reject(error);
    }
    for (const [id, request] of this.pending) {
      if (request.sentAt === null && !includeUnsent) continue;
      this.pending.delete(id);
      clearTimeout(request.timer);
      request.fail(error);
    }
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit("state", state);
  }

  // ------------------------------------------------------------ events

  /** Listens to an event; returns the function that stops listening. */
  on<E extends keyof SkyportEvents>(event: E, fn: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as (payload: never) => void);
    return () => {
      set.delete(fn as (payload: never) => void);
    };
  }

  private emit<E extends keyof SkyportEvents>(event: E, payload: SkyportEvents[E]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      // A throwing listener must not break the connection or starve the other listeners.
      try {
        (fn as Listener<E>)(payload);
      } catch (error) {
        console.error(`skyport: a "${event}" listener threw:`, error);
      }
    }
  }

  /**
   * Telemetry frames as an async iterator, for one drone or all of them.
   * Frames queue until read (read them, or `return()` the iterator); the
   * iterator ends when the client is closed.
   *
   * @example
   * for await (const frame of client.telemetry("alpha")) draw(frame);
   */
  telemetry(drone?: string): AsyncIterableIterator<TelemetryData> {
    const queue: TelemetryData[] = [];
    const readers: Array<(result: IteratorResult<TelemetryData, undefined>) => void> = [];
    let ended = false;
    const stopListening = this.on("telemetry", (frame) => {
      if (drone !== undefined && frame.drone !== drone) return;
      const reader = readers.shift();
      if (reader) reader({ value: frame, done: false });
      else queue.push(frame);
    });
    const end = () => {
      if (ended) return;
      ended = true;
      stopListening();
      this.iteratorEnders.delete(end);
      for (const reader of readers.splice(0)) reader({ value: undefined, done: true });
    };
    this.iteratorEnders.add(end);
    return {
      next: () => {
        const frame = queue.shift();
        if (frame) return Promise.resolve({ value: frame, done: false });
        if (ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => readers.push(resolve));
      },
      return: () => {
        queue.length = 0;
        end();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  // ------------------------------------------------------------ requests

  /**
   * Sends a command to a drone this client pilots. Resolves with the ack
   * once the drone accepted it; rejects with a SkyportError carrying the
   * server's code (`not_pilot`, `busy`, `geofence`, `out_of_range`...),
   * or `timeout` / `disconnected` / `closed`.
   *
   * @param name a command of the protocol's table: takeoff, forward, goto...
   * @param args its numbers, in order: `command("alpha", "goto", [10, -5, 30])`
   */
  command(drone: string, name: string, args: number[] = []): Promise<CommandHandle> {
    const done = deferred<DoneData>();
    // Nobody may be awaiting `done` when the socket drops: that is not an unhandled error.
    done.promise.catch(() => {});
    return this.request({ type: "command", data: { drone, name, args } }, {
      beforeSend: (id) => this.doneWaiters.set(id, done),
      onFail: (id) => this.doneWaiters.delete(id),
      settle: (ack, roundTripMs): CommandHandle => ({ ack, done: done.promise, roundTripMs }),
    });
  }

  /**
   * Becomes the drone's pilot. The lease is reclaimed automatically after a
   * reconnection. Rejects with `lease_taken` if another session flies it.
   */
  claim(drone: string, token?: string): Promise<AckData> {
    return this.request({ type: "claim", data: token === undefined ? { drone } : { drone, token } }, {
      settle: (ack) => {
        this.pilots.set(drone, this.session);
        this.piloting.set(drone, token);
        this.awaitingLapse.delete(drone);
        return ack;
      },
    });
  }

  /** Gives up the pilot lease (a drone left flying hovers, then returns home: the server's failsafe). */
  release(drone: string): Promise<AckData> {
    // Whatever the answer, this client no longer wants the lease back after a reconnection.
    this.piloting.delete(drone);
    this.awaitingLapse.delete(drone);
    return this.request({ type: "release", data: { drone } }, {
      settle: (ack) => {
        this.pilots.set(drone, null);
        return ack;
      },
    });
  }

  /**
   * Watches a drone's telemetry, resubscribed automatically after a
   * reconnection. With `since` (the last seq you saw) the server first
   * replays what you missed from its buffer.
   *
   * `"*"` watches every drone as one `telemetry_batch` per tick (delivered
   * here frame by frame, like any telemetry); its `since` is the last seq
   * seen per drone, e.g. `{ alpha: 41, bravo: 40 }`.
   */
  subscribe(drone: string, since?: number | Readonly<Record<string, number>>): Promise<AckData> {
    const resumed: Array<[string, number]> = since === undefined ? [] : typeof since === "number" ? [[drone, since]] : Object.entries(since);
    // Live frames that arrive before the ack were published before the
    // server replays, so the replay contains them: hold them until the ack.
    for (const [resumedDrone] of resumed) this.held.set(resumedDrone, this.held.get(resumedDrone) ?? []);
    return this.request({ type: "subscribe", data: since === undefined ? { drone } : { drone, since } }, {
      onFail: () => {
        for (const [resumedDrone] of resumed) this.held.delete(resumedDrone);
      },
      settle: (ack) => {
        this.watched?.add(drone);
        for (const [resumedDrone, resumedSince] of resumed) {
          const latestSeq = typeof ack.latestSeq === "object" && ack.latestSeq !== null ? (ack.latestSeq as Record<string, unknown>)[resumedDrone] : ack.latestSeq;
          // A `since` beyond the stream means it restarted: the stream_reset
          // event that follows at once releases the held frames instead.
          const reset = typeof latestSeq !== "number" || resumedSince > latestSeq;
          if (!reset) this.held.delete(resumedDrone);
        }
        return ack;
      },
    });
  }

  /** Stops watching a drone's telemetry. */
  unsubscribe(drone: string): Promise<AckData> {
    this.watched?.delete(drone);
    this.held.delete(drone);
    return this.request({ type: "unsubscribe", data: { drone } }, { settle: (ack) => ack });
  }

  /** Round trip to the server and back, milliseconds. */
  ping(): Promise<number> {
    return this.request({ type: "ping", data: {} }, { settle: (_reply, roundTripMs) => roundTripMs });
  }

  /** Seq of the last telemetry frame delivered for a drone, or null if none yet (or since a stream reset). */
  lastSeq(drone: string): number | null {
    return this.lastSeqs.get(drone) ?? null;
  }

  /** Whether this session is the drone's pilot, as last heard. */
  isPilot(drone: string): boolean {
    const session = this.session;
    return session !== null && this.pilots.get(drone) === session;
  }

  /** Session id of the drone's pilot as last heard, or null when nobody flies it (or it is unknown). */
  pilotOf(drone: string): string | null {
    return this.pilots.get(drone) ?? null;
  }

  /**
   * Sends `{type, id, data}` and settles on the reply with that id. Sent at
   * once on a welcomed socket, otherwise as soon as one is; the timeout runs
   * from the call either way.
   */
  private request<T>(
    message: { type: string; data: object },
    handlers: {
      settle(data: Record<string, unknown>, roundTripMs: number): T;
      beforeSend?(id: number): void;
      onFail?(id: number): void;
    },
  ): Promise<T> {
    if (this.currentState === "closed") return Promise.reject(new SkyportError("closed", "the client is closed: call connect() first"));
    const id = this.nextId++;
    handlers.beforeSend?.(id);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        handlers.onFail?.(id);
        const waitedFor = request.sentAt === null ? "the connection" : "the server's reply";
        reject(new SkyportError("timeout", `${message.type} timed out after ${this.requestTimeoutMs} ms waiting for ${waitedFor}`));
      }, this.requestTimeoutMs);
      const request: PendingRequest = {
        text: JSON.stringify({ type: message.type, id, data: message.data }),
        sentAt: null,
        timer,
        settle: (data, sentAt) => {
          try {
            resolve(handlers.settle(data, Math.round(performance.now() - sentAt)));
          } catch (error) {
            reject(error);
          }
        },
        fail: (error) => {
          handlers.onFail?.(id);
          reject(error);
        },
      };
      this.pending.set(id, request);
      if (this.live) this.transmit(request);
    });
  }

  private transmit(request: PendingRequest): void {
    request.sentAt = performance.now();
    this.sendText(request.text);
  }

  // ------------------------------------------------------------ incoming

  private receive(text: string): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(text) as ServerMessage;
    } catch {
      return; // Not ours: /drone answers JSON clients in JSON.
    }
    switch (message.type) {
      case "welcome":
        return this.welcomed(message.data);
      case "telemetry":
        return this.deliverFrame(message.data);
      case "telemetry_batch":
        for (const frame of message.data.frames) this.deliverFrame(frame);
        return;
      case "ack":
      case "pong": {
        const request = this.takePending(message.id);
        if (request && request.sentAt !== null) request.settle(message.data, request.sentAt);
        return;
      }
      case "error": {
        const error = new SkyportError(message.data.code, message.data.message, message.data.field);
        const request = this.takePending(message.id);
        if (request) request.fail(error);
        else this.emit("error", error);
        return;
      }
      case "done": {
        const id = typeof message.id === "number" ? message.id : -1;
        this.doneWaiters.get(id)?.resolve(message.data);
        this.doneWaiters.delete(id);
        return;
      }
      case "lease":
        return this.leaseChanged(message.data);
      case "event":
        return this.droneEvent(message.data);
    }
  }

  private takePending(id: RequestId | undefined): PendingRequest | undefined {
    if (typeof id !== "number") return undefined;
    const request = this.pending.get(id);
    if (!request) return undefined;
    this.pending.delete(id);
    clearTimeout(request.timer);
    return request;
  }

  /** A socket's first message. On a reconnection, restores what the client had before the drop. */
  private welcomed(welcome: WelcomeData): void {
    const previous = this.currentWelcome?.session;
    if (previous !== undefined && previous !== welcome.session) this.pastSessions.add(previous);
    this.currentWelcome = welcome;
    for (const drone of welcome.drones) this.pilots.set(drone.id, drone.pilot);
    this.live = true;
    if (this.watched === null) this.watched = new Set(welcome.subscribed);
    else this.restore(welcome);
    // Requests made while the link was down go out after the resubscriptions and reclaims.
    for (const request of this.pending.values()) if (request.sentAt === null) this.transmit(request);
    this.setState("open");
    this.emit("welcome", welcome);
  }

  /** Resubscribes (resuming after the last seq seen) and reclaims leases after a reconnection. */
  private restore(welcome: WelcomeData): void {
    const watched = this.watched ?? new Set<string>();
    for (const drone of welcome.subscribed) {
      if (!watched.has(drone)) this.unsubscribe(drone).catch((error) => this.background(error));
    }
    for (const drone of watched) {
      const since = drone === allDrones ? this.lastSeqsOfAll() : this.lastSeqs.get(drone);
      if (since === undefined && welcome.subscribed.includes(drone)) continue;
      this.subscribe(drone, since).catch((error) => this.background(error));
    }
    for (const drone of [...this.piloting.keys()]) {
      const pilot = this.pilots.get(drone) ?? null;
      if (pilot === null) this.reclaim(drone);
      else if (this.pastSessions.has(pilot)) this.awaitingLapse.add(drone); // the server has not yet noticed our old socket is gone
      else this.lostLease(drone, pilot);
    }
  }

  /** The `since` that resumes the all-drones subscription: every drone's last seq, or undefined if none yet. */
  private lastSeqsOfAll(): Record<string, number> | undefined {
    return this.lastSeqs.size === 0 ? undefined : Object.fromEntries(this.lastSeqs);
  }

  private reclaim(drone: string): void {
    this.claim(drone, this.piloting.get(drone)).catch((error) => {
      if (error instanceof SkyportError && error.code === "lease_taken") this.piloting.delete(drone);
      this.background(error);
    });
  }

  private lostLease(drone: string, pilot: string): void {
    this.piloting.delete(drone);
    this.awaitingLapse.delete(drone);
    this.emit("error", new SkyportError("lease_taken", `${drone} is now flown by session ${pilot}: the lease was not reclaimed`, "data.drone"));
  }

  /** Reports a failure of something the client did by itself; drops and closes are not news. */
  private background(error: unknown): void {
    if (error instanceof SkyportError && (error.code === "disconnected" || error.code === "closed")) return;
    this.emit("error", error instanceof SkyportError ? error : new SkyportError("internal", String(error)));
  }

  private deliverFrame(frame: TelemetryData): void {
    const held = this.held.get(frame.drone);
    if (held) {
      held.push(frame);
      return;
    }
    const last = this.lastSeqs.get(frame.drone);
    if (last !== undefined && frame.seq <= last) return;
    this.lastSeqs.set(frame.drone, frame.seq);
    this.emit("telemetry", frame);
  }

  private leaseChanged(lease: LeaseData): void {
    const { drone, pilot } = lease;
    this.pilots.set(drone, pilot);
    if (pilot === null && this.awaitingLapse.delete(drone)) this.reclaim(drone);
    else if (pilot !== null && pilot !== this.session && !this.pastSessions.has(pilot) && this.piloting.has(drone)) this.lostLease(drone, pilot);
    this.emit("lease", lease);
  }

  private droneEvent(event: EventData): void {
    if (event.kind === "stream_reset") {
      // The server restarted and seq began again: count from scratch, and
      // deliver the frames held back during the resume (they are the new stream's).
      this.lastSeqs.delete(event.drone);
      const held = this.held.get(event.drone) ?? [];
      this.held.delete(event.drone);
      this.emit("event", event);
      for (const frame of held.sort((a, b) => a.seq - b.seq)) this.deliverFrame(frame);
      return;
    }
    this.emit("event", event);
  }
}
