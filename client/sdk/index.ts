/**
 * skyport's typed client SDK for the `/drone` endpoint, for browsers and Bun.
 *
 * Owns one logical connection that survives dropped sockets: requests as
 * Promises (matched to replies by id, never left hanging), reconnection with
 * backoff, resuming every telemetry stream without a gap or a duplicate,
 * reclaiming pilot leases, and detecting a dead link. This file is the
 * facade and the public exports; each role lives in its own module:
 * `connection.ts` (dial, watchdog, backoff), `requests.ts` (correlation and
 * timeouts), `telemetry-stream.ts` (seq dedupe, held frames, resume),
 * `leases.ts` (reclaim after a reconnection), `events.ts` (the emitter) and
 * `clock.ts` (the only source of time).
 *
 * Uses only the standard `WebSocket`: no Node APIs, no dependencies. Message
 * shapes come from `protocol/` as type-only imports (plus two constants: the
 * `*` drone id and the subprotocol name), so bundling this SDK for a page
 * pulls in nothing from the server.
 *
 * On a server with tokens, `token` (the viewer token, or one signed identity
 * token) is presented in the first message of every socket and `pilotToken`
 * (default: `token`) with each claim; a refused token closes the client and
 * emits `refused` rather than dialling again.
 *
 * @example
 * const client = new SkyportClient({ url: "ws://localhost:8080/drone", token: process.env.SKYPORT_TOKEN });
 * client.on("telemetry", (frame) => console.log(frame.drone, frame.state, frame.position));
 * client.connect();
 * await client.claim("alpha");
 * const takeoff = await client.command("alpha", "takeoff");
 * await takeoff.done;
 */
import {
  allDrones,
  droneSubprotocol,
  type AckFor,
  type ClientMessageType,
  type CommandAckFor,
  type CommandName,
  type DoneData,
  type EventData,
  type LeaseData,
  type MissionData,
  type MissionItem,
  type MissionMessageType,
  type MissionProgressData,
  type ReplayStateData,
  type ServerMessage,
  type TelemetryData,
  type VehicleChangeData,
  type WelcomeData,
} from "../../protocol/index.ts";
import { systemClock, type SkyportClock } from "./clock.ts";
import { Connection, parseWebSocketUrl, type BackoffOptions, type ReconnectInfo } from "./connection.ts";
import { SkyportError } from "./errors.ts";
import { Emitter, type StopListening } from "./events.ts";
import { Leases, type LeaseDecision } from "./leases.ts";
import { Requests, type OutgoingRequest, type RequestHandlers } from "./requests.ts";
import { TelemetryStreams, type ResumePoint } from "./telemetry-stream.ts";
import { accessRefusal, claimToken, signInMessage, signInRequestId, type AccessRefusal, type SkyportTokens } from "./sign-in.ts";

export type {
  AckData,
  AckFor,
  CommandAckFor,
  CommandName,
  DoneData,
  DroneSummary,
  ErrorCode,
  EventData,
  EventKind,
  EventOf,
  LeaseData,
  MissionData,
  MissionItem,
  MissionProgressData,
  ReplayStateData,
  TelemetryData,
  VehicleChangeData,
  WelcomeData,
} from "../../protocol/index.ts";
export { maxHzRange } from "../../protocol/index.ts";
export type { SkyportClock, TimerHandle } from "./clock.ts";
export { systemClock } from "./clock.ts";
export type { BackoffOptions, ReconnectInfo } from "./connection.ts";
export { parseWebSocketUrl, reconnectDelayMs } from "./connection.ts";
export { SkyportError, type ClientErrorCode } from "./errors.ts";
export type { StopListening } from "./events.ts";
export { accessRefusal, type AccessRefusal, type RefusalKind, type SkyportTokens } from "./sign-in.ts";

/**
 * Where the connection stands. `connecting` is the first attempt after
 * `connect()`; `reconnecting` lasts from a drop until the next `welcome`
 * (waiting out the backoff, then dialling); `open` means a welcomed socket;
 * `closed` is before `connect()`, after `close()`, and after the server
 * refused the client's tokens (`refusal` says why; no reconnection follows).
 */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** Where the SDK reports what no caller is waiting for, e.g. a listener that threw. `console` will do. */
export interface SkyportLogger {
  error(message: string, cause: unknown): void;
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
  /** Time and timers: every timeout, backoff and staleness check runs on it. @default systemClock (Date.now and the global timers) */
  clock?: SkyportClock;
  /** Where a listener that threw is reported. @default console */
  logger?: SkyportLogger;
  /** The WebSocket constructor to use. @default globalThis.WebSocket */
  WebSocketImpl?: typeof WebSocket;
  /** Subprotocols offered in the handshake. @default ["skyport.v1.json"] */
  protocols?: string[];
  /**
   * The viewer token, presented in the first message of every socket
   * (`hello`). A server that refuses it is not dialled again: the client
   * closes and emits `refused`. @default none
   */
  token?: string;
  /** The pilot token each `claim` presents. @default `token` (one identity token for both) */
  pilotToken?: string;
}

/** How a subscription is delivered. */
export interface SubscribeOptions {
  /**
   * At most this many frames (or `*` batches) a second, each the latest when
   * it is due (from `maxHzRange.min` to `maxHzRange.max`, i.e. 0.1 to 100);
   * for a viewer on a slow link. Its seqs skip on purpose: the client reports
   * no gap for them and fetches none. Kept across reconnections. At or above
   * the server's `telemetryHz` it is every frame. @default every frame
   */
  maxHz?: number;
}

/** An accepted command: its ack, and a promise for its completion. */
export interface CommandHandle<Ack = AckFor<"command">> {
  /** The ack's data: `drone`, `command` and the `target` the drone is heading for (for `status`: the drone's telemetry). */
  ack: Ack;
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
  /** The server refused the viewer token (or its absence): the client is closed and does not reconnect. */
  refused: AccessRefusal;
  /** A watched drone's mission: on upload, on clear (`items: null`), and on subscribing when it holds one. */
  mission: MissionData;
  /** How far a watched drone is through its mission (`state` running, paused, completed or aborted). */
  missionProgress: MissionProgressData;
  /** A vehicle came or went: a replay of a recorded flight started or ended. */
  vehicle: VehicleChangeData;
  /** Where a watched replay stands: on start, speed, pause, seek and at its end. */
  replay: ReplayStateData;
}

/** Defaults of the options, in milliseconds. */
export const defaultRequestTimeoutMs = 5000;
export const defaultStaleAfterMs = 3000;
export const defaultBackoff: Required<BackoffOptions> = { initialMs: 500, maxMs: 30_000, stableAfterMs: 10_000 };
/** The subprotocols offered by default: the one `/drone` speaks. */
export const defaultProtocols = [droneSubprotocol];

/** The tokens, checked: each absent or a non-empty string. */
function checkedTokens(tokens: SkyportTokens): SkyportTokens {
  const checked: SkyportTokens = {};
  for (const name of ["token", "pilotToken"] as const) {
    const value = tokens[name];
    if (value === undefined) continue;
    if (typeof value !== "string" || value === "") throw new TypeError(`'${name}' must be a non-empty string: received ${JSON.stringify(value)}`);
    checked[name] = value;
  }
  return checked;
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
  private readonly connection: Connection;
  private readonly requests: Requests;
  private readonly streams = new TelemetryStreams<TelemetryData>();
  private readonly leases = new Leases();
  private readonly emitter: Emitter<SkyportEvents>;

  private currentState: ConnectionState = "closed";
  private tokens: SkyportTokens;
  private currentRefusal: AccessRefusal | null = null;
  private currentWelcome: WelcomeData | null = null;
  private readonly iteratorEnders = new Set<() => void>();
  /** The last seq each drone's latest gap fetch resumed from. */
  private readonly gapsFetched = new Map<string, number>();
  /** Drones whose telemetry we want; null until the first welcome says what the server subscribed us to. */
  private watched: Set<string> | null = null;
  /** The `maxHz` each throttled subscription asked for, resubscribed with after a reconnection. */
  private readonly rates = new Map<string, number>();

  constructor(options: SkyportClientOptions) {
    const url = parseWebSocketUrl(options.url).href;
    const requestTimeoutMs = positive("requestTimeoutMs", options.requestTimeoutMs, defaultRequestTimeoutMs);
    const staleAfterMs = positive("staleAfterMs", options.staleAfterMs, defaultStaleAfterMs);
    const backoff = {
      initialMs: positive("backoff.initialMs", options.backoff?.initialMs, defaultBackoff.initialMs),
      maxMs: positive("backoff.maxMs", options.backoff?.maxMs, defaultBackoff.maxMs),
      stableAfterMs: positive("backoff.stableAfterMs", options.backoff?.stableAfterMs, defaultBackoff.stableAfterMs),
    };
    const WebSocketImpl = options.WebSocketImpl ?? globalThis.WebSocket;
    if (typeof WebSocketImpl !== "function") throw new TypeError("'WebSocketImpl' is required where there is no global WebSocket");
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? console;
    this.tokens = checkedTokens(options);

    // A throwing listener must not break the connection or starve the other listeners.
    this.emitter = new Emitter((event, error) => logger.error(`skyport: a "${String(event)}" listener threw:`, error));
    const settings = { url, protocols: options.protocols ?? defaultProtocols, WebSocketImpl, staleAfterMs, backoff, random: options.random ?? Math.random, clock };
    this.connection = new Connection(settings, {
      opened: () => this.connection.send(signInMessage(this.tokens)),
      message: (text) => this.receive(text),
      lost: () => this.lost(url),
      reconnecting: (info) => {
        // A state listener may call close(), which cancels the scheduled dial: then there is no attempt to announce.
        this.setState("reconnecting");
        if (this.currentState === "reconnecting") this.emitter.emit("reconnecting", info);
      },
    });
    this.requests = new Requests(clock, requestTimeoutMs, this.connection);
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

  /** Why the server last refused this client's tokens, or null; cleared by `connect()`. */
  get refusal(): AccessRefusal | null {
    return this.currentRefusal;
  }

  /**
   * Replaces the tokens presented from the next socket (and claim) on,
   * e.g. after an operator signs in: `close()`, `setTokens(...)`, `connect()`.
   */
  setTokens(tokens: SkyportTokens): void {
    this.tokens = checkedTokens(tokens);
  }

  /**
   * Presents fresh tokens on the open socket (a `hello`), as the server asks
   * with a `token_expiring` event: the session, its subscriptions and its
   * leases are kept, nothing reconnects. The new token must name the same
   * user. Resolves once the server accepted it; rejects with its refusal
   * (the old token then still holds until it expires). While the link is
   * down the tokens simply apply to the next socket.
   */
  refreshTokens(tokens: SkyportTokens): Promise<AckFor<"hello"> | null> {
    const checked = checkedTokens(tokens);
    this.tokens = checked;
    if (this.currentState !== "open" || checked.token === undefined) return Promise.resolve(null);
    return this.request({ type: "hello", data: { token: checked.token } }, { settle: (ack) => ack });
  }

  /** Whether this client presents a viewer token. */
  get hasToken(): boolean {
    return this.tokens.token !== undefined;
  }

  /** Whether a claim presents a pilot token (the pilot token, or the viewer token standing in for it). */
  get hasPilotToken(): boolean {
    return claimToken(this.tokens) !== undefined;
  }

  // ------------------------------------------------------------ lifecycle

  /** Starts connecting; from then on the client reconnects by itself until `close()`. Does nothing if already started. */
  connect(): void {
    if (this.currentState !== "closed") return;
    this.currentRefusal = null;
    this.watched = null;
    this.streams.clear();
    this.gapsFetched.clear();
    this.leases.clear();
    this.setState("connecting");
    this.connection.start();
  }

  /**
   * Closes with 1000 and stops reconnecting. Every request still waiting
   * (and every command's `done`) rejects with code `closed`; telemetry
   * iterators end. Resolves once the server has answered the close, or
   * after a second.
   */
  async close(): Promise<void> {
    if (this.currentState === "closed") return;
    const socket = this.connection.stop();
    this.streams.socketLost();
    this.requests.failAll(new SkyportError("closed", "the client was closed"), true);
    this.setState("closed");
    for (const end of [...this.iteratorEnders]) end();
    await this.connection.closeGracefully(socket);
  }

  /** The socket is gone: fail what was in flight (the connection then schedules the next attempt). */
  private lost(url: string): void {
    this.streams.socketLost();
    this.requests.failAll(new SkyportError("disconnected", `the connection to ${url} dropped before the reply`), false);
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emitter.emit("state", state);
  }

  // ------------------------------------------------------------ events

  /** Listens to an event; returns the function that stops listening. */
  on<E extends keyof SkyportEvents>(event: E, listener: (payload: SkyportEvents[E]) => void): StopListening {
    return this.emitter.on(event, listener);
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
   * or `timeout` / `disconnected` / `closed`, or `offline` at once when the
   * link is down: unlike other requests, a command never waits to be sent.
   *
   * @param name a command of the protocol's table: takeoff, forward, goto...
   * @param args its arguments, in order: `command("alpha", "goto", [10, -5, 30])`, `command("copter", "mode", ["LOITER"])`
   */
  command<Name extends CommandName>(drone: string, name: Name, args: Array<number | string> = []): Promise<CommandHandle<CommandAckFor<Name>>> {
    if (this.currentState === "closed") return this.refuseClosed();
    // A flight command never waits for the link: sent late, it would fly a drone from a stale picture.
    if (!this.connection.live) {
      return Promise.reject(new SkyportError("offline", `${name} was not sent: the connection to the server is down (commands are never sent late)`));
    }
    return this.requests.sendCommand({ type: "command", data: { drone, name, args } }, (ack, roundTripMs, done) => ({
      // A command named `status` is answered with the status ack, any other with the command ack: the protocol's contract.
      ack: ack as CommandAckFor<Name>,
      done,
      roundTripMs,
    }));
  }

  /**
   * Acts on the mission of a drone this client pilots: `mission` uploads
   * `items` (checked as a whole: the error names the first bad item),
   * `mission_start`, `mission_pause`, `mission_resume`, `mission_clear`.
   * Resolves with the ack; `done` settles once the vehicle holds the
   * mission (an upload) or has acted.
   * @example
   * const upload = await client.mission("alpha", "mission", [{ type: "takeoff", altitude: 10 }, { type: "land" }]);
   * await upload.done;
   * await client.mission("alpha", "mission_start");
   */
  mission(drone: string, type: MissionMessageType, items?: MissionItem[]): Promise<CommandHandle<AckFor<"mission">>> {
    if (this.currentState === "closed") return this.refuseClosed();
    if ((type === "mission") !== (items !== undefined)) return Promise.reject(new SkyportError("invalid_args", `items go with "mission" (the upload) and only with it: received ${type} ${items === undefined ? "without" : "with"} items`));
    const message: OutgoingRequest<MissionMessageType> = type === "mission" ? { type, data: { drone, items: items! } } : { type, data: { drone } };
    return this.requests.sendCommand(message, (ack, roundTripMs, done) => ({ ack: ack as AckFor<"mission">, done, roundTripMs }));
  }

  /**
   * Plays a recorded flight (its id from `GET /api/flights`) as the
   * read-only vehicle `replay:<flight-id>`, or joins the replay already
   * playing it; any viewer of the recorded vehicle may. Resolves with where
   * it stands; `subscribe(state.drone)` to watch it like a live vehicle.
   * @example
   * const replay = await client.replayStart("alpha-1767225600000", { speed: 4 });
   * await client.subscribe(replay.drone);
   */
  replayStart(flight: string, options: { speed?: number; positionMs?: number } = {}): Promise<ReplayStateData> {
    return this.request({ type: "replay_start", data: { flight, ...options } }, { settle: (ack) => ack });
  }

  /** Changes a replay for everybody watching it: its speed (0.5 to 16), pause, or position (ms from the flight's start). */
  replayControl(drone: string, change: { speed?: number; paused?: boolean; positionMs?: number }): Promise<ReplayStateData> {
    return this.request({ type: "replay_control", data: { drone, ...change } }, { settle: (ack) => ack });
  }

  /** Ends a replay for everybody watching it. */
  replayStop(drone: string): Promise<ReplayStateData> {
    return this.request({ type: "replay_stop", data: { drone } }, { settle: (ack) => ack });
  }

  /**
   * Becomes the drone's pilot. The lease is reclaimed automatically after a
   * reconnection. Rejects with `lease_taken` if another session flies it,
   * or `unauthorized` for a missing or wrong pilot token (`accessRefusal`
   * words it). Presents `token`, else the client's `pilotToken` or `token`.
   */
  claim(drone: string, token?: string): Promise<AckFor<"claim">> {
    return this.claimWith(drone, claimToken(this.tokens, token), undefined);
  }

  /** A claim, with the resume token of an earlier session when reclaiming (the server reserves a dropped pilot's lease for it). */
  private claimWith(drone: string, token: string | undefined, resume: string | undefined): Promise<AckFor<"claim">> {
    const data = { drone, ...(token === undefined ? {} : { token }), ...(resume === undefined ? {} : { resume }) };
    return this.request({ type: "claim", data }, {
      settle: (ack) => {
        this.leases.claimed(drone, this.session, token, ack.resume);
        return ack;
      },
    });
  }

  /** Gives up the pilot lease (a drone left flying hovers, then returns home: the server's failsafe). */
  release(drone: string): Promise<AckFor<"release">> {
    this.leases.releasing(drone);
    return this.request({ type: "release", data: { drone } }, {
      settle: (ack) => {
        this.leases.released(drone);
        return ack;
      },
    });
  }

  /**
   * Watches a drone's telemetry, resubscribed automatically after a
   * reconnection. With `since` (the last seq you saw) the server first
   * replays what you missed from its buffer; with `epoch` too (the stream
   * epoch of that seq: `streamEpoch(drone)`), a server whose stream started
   * again answers `stream_reset` instead of frames of another stream.
   *
   * `"*"` watches every drone as one `telemetry_batch` per tick (delivered
   * here frame by frame, like any telemetry); its `since` is the last seq
   * seen per drone, e.g. `{ alpha: 41, bravo: 40 }`, and its `epoch` one per drone.
   *
   * `options.maxHz` throttles it (see {@link SubscribeOptions}); each
   * `subscribe` states its rate, so one without it is every frame again.
   *
   * @example
   * // A phone on a cellular link: the latest state of every drone, twice a second.
   * await client.subscribe("*", undefined, undefined, { maxHz: 2 });
   */
  subscribe(
    drone: string,
    since?: number | Readonly<Record<string, number>>,
    epoch?: string | Readonly<Record<string, string>>,
    options: SubscribeOptions = {},
  ): Promise<AckFor<"subscribe">> {
    if (options.maxHz === undefined) this.rates.delete(drone);
    else this.rates.set(drone, options.maxHz);
    return this.subscribeFrom(drone, since, epoch, (resumed) => this.streams.cancelResume(resumed));
  }

  /** `subscribe`, with what to do with the frames held for a resume that fails. */
  private subscribeFrom(
    drone: string,
    since: number | Readonly<Record<string, number>> | undefined,
    epoch: string | Readonly<Record<string, string>> | undefined,
    resumeFailed: (resumed: readonly ResumePoint[]) => void,
  ): Promise<AckFor<"subscribe">> {
    const epochOf = (id: string) => (typeof epoch === "object" ? epoch[id] : epoch);
    const resumed: ResumePoint[] =
      since === undefined ? [] : typeof since === "number" ? [[drone, since, epochOf(drone)]] : Object.entries(since).map(([id, seq]) => [id, seq, epochOf(id)] as const);
    this.streams.holdForResume(resumed);
    const maxHz = this.rates.get(drone);
    const rate = maxHz === undefined ? {} : { maxHz };
    const data = since === undefined ? { drone, ...rate } : epoch === undefined ? { drone, since, ...rate } : { drone, since, epoch, ...rate };
    return this.request({ type: "subscribe", data }, {
      onFail: () => resumeFailed(resumed),
      settle: (ack) => {
        this.watched?.add(drone);
        this.streams.throttle(drone, ack.maxHz !== undefined);
        this.streams.resumed(resumed, ack.latestSeq, ack.epoch);
        return ack;
      },
    });
  }

  /** The drones this client watches (`"*"` for all), as the server last confirmed or it asked since; empty before the first welcome. */
  watching(): string[] {
    return [...(this.watched ?? [])];
  }

  /** The `maxHz` a watched drone's subscription asked for, or null for every frame. */
  maxHzOf(drone: string): number | null {
    return this.rates.get(drone) ?? null;
  }

  /** Stops watching a drone's telemetry. */
  unsubscribe(drone: string): Promise<AckFor<"unsubscribe">> {
    this.watched?.delete(drone);
    this.rates.delete(drone);
    this.streams.throttle(drone, false);
    this.streams.unwatched(drone);
    return this.request({ type: "unsubscribe", data: { drone } }, { settle: (ack) => ack });
  }

  /** Round trip to the server and back, milliseconds. */
  ping(): Promise<number> {
    return this.request({ type: "ping", data: {} }, { settle: (_reply, roundTripMs) => roundTripMs });
  }

  /** Seq of the last telemetry frame delivered for a drone, or null if none yet (or since a stream reset). */
  lastSeq(drone: string): number | null {
    return this.streams.lastSeq(drone) ?? null;
  }

  /** The stream epoch `lastSeq(drone)` counts in (pass it with `since`), or null if unknown. */
  streamEpoch(drone: string): string | null {
    return this.streams.epoch(drone) ?? null;
  }

  /** Whether this session is the drone's pilot, as last heard. */
  isPilot(drone: string): boolean {
    const session = this.session;
    return session !== null && this.leases.pilotOf(drone) === session;
  }

  /** Session id of the drone's pilot as last heard, or null when nobody flies it (or it is unknown). */
  pilotOf(drone: string): string | null {
    return this.leases.pilotOf(drone);
  }

  /** Sends a request unless the client is closed (see `Requests.send`). */
  private request<T extends ClientMessageType, Result>(message: OutgoingRequest<T>, handlers: RequestHandlers<T, Result>): Promise<Result> {
    if (this.currentState === "closed") return this.refuseClosed();
    return this.requests.send(message, handlers);
  }

  private refuseClosed(): Promise<never> {
    return Promise.reject(new SkyportError("closed", "the client is closed: call connect() first"));
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
      case "pong":
        return this.requests.replied(message.id, message.data);
      case "error": {
        const error = new SkyportError(message.data.code, message.data.message, message.data.field, message.data.reason);
        if (message.id === signInRequestId) return this.signInAnswered(error);
        if (!this.requests.refused(message.id, error)) this.emitter.emit("error", error);
        return;
      }
      case "done":
        return this.requests.done(message.id, message.data);
      case "lease":
        return this.leaseChanged(message.data);
      case "event":
        return this.droneEvent(message.data);
      case "mission":
        return this.emitter.emit("mission", message.data);
      case "mission_progress":
        return this.emitter.emit("missionProgress", message.data);
      case "vehicle":
        // A vehicle that ended takes its stream along: one of the same id later is a new stream, counted from scratch.
        if (message.data.change === "removed") {
          this.gapsFetched.delete(message.data.drone);
          this.watched?.delete(message.data.drone);
          this.streams.reset(message.data.drone);
        }
        return this.emitter.emit("vehicle", message.data);
      case "replay":
        return this.emitter.emit("replay", message.data);
    }
  }

  /**
   * The server refused the socket's first message. An `unauthorized`
   * answer means the tokens will not do: stop (dialling again would only
   * be refused again, and count against this address), fail what waits,
   * and say why. Any other error is reported like an unsolicited one.
   */
  private signInAnswered(error: SkyportError): void {
    const refusal = accessRefusal(error, "viewer", this.tokens.token !== undefined);
    if (refusal === null) return void this.emitter.emit("error", error);
    const socket = this.connection.stop();
    this.streams.socketLost();
    this.requests.failAll(new SkyportError("unauthorized", refusal.message), true);
    this.currentRefusal = refusal;
    this.setState("closed");
    for (const end of [...this.iteratorEnders]) end();
    void this.connection.closeGracefully(socket);
    this.emitter.emit("refused", refusal);
  }

  /** A socket's first message. On a reconnection, restores what the client had before the drop. */
  private welcomed(welcome: WelcomeData): void {
    this.leases.welcomed(welcome, this.currentWelcome?.session ?? null);
    this.currentWelcome = welcome;
    this.streams.welcomed(welcome.drones);
    this.connection.welcomed();
    if (this.watched === null) this.watched = new Set(welcome.subscribed);
    else this.restore(welcome);
    // Requests made while the link was down go out after the resubscriptions and reclaims.
    this.requests.transmitWaiting();
    this.setState("open");
    this.emitter.emit("welcome", welcome);
  }

  /** Resubscribes (resuming after the last seq seen) and reclaims leases after a reconnection. */
  private restore(welcome: WelcomeData): void {
    const watched = this.watched ?? new Set<string>();
    for (const drone of welcome.subscribed) {
      if (!watched.has(drone)) this.unsubscribe(drone).catch((error) => this.background(error));
    }
    for (const drone of watched) {
      const since = drone === allDrones ? this.streams.lastSeqsOfAll() : this.streams.lastSeq(drone);
      if (since === undefined && welcome.subscribed.includes(drone) && !this.rates.has(drone)) continue;
      const epoch = since === undefined ? undefined : drone === allDrones ? this.streams.epochsOfAll() : this.streams.epoch(drone);
      const maxHz = this.rates.get(drone);
      this.subscribe(drone, since, epoch, maxHz === undefined ? {} : { maxHz }).catch((error) => this.background(error));
    }
    for (const decision of this.leases.afterReconnect()) this.carryOut(decision);
  }

  /** Reclaims a lease, or reports one lost to another session. */
  private carryOut(decision: LeaseDecision): void {
    const { drone } = decision;
    if (decision.kind === "lost") {
      this.emitter.emit("error", new SkyportError("lease_taken", `${drone} is now flown by session ${decision.pilot}: the lease was not reclaimed`, "data.drone"));
      return;
    }
    this.claimWith(drone, decision.token, decision.resume).catch((error) => {
      if (error instanceof SkyportError && error.code === "lease_taken") this.leases.reclaimRefused(drone);
      this.background(error);
    });
  }

  /** Reports a failure of something the client did by itself; drops and closes are not news. */
  private background(error: unknown): void {
    if (error instanceof SkyportError && (error.code === "disconnected" || error.code === "closed")) return;
    this.emitter.emit("error", error instanceof SkyportError ? error : new SkyportError("internal", String(error)));
  }

  private deliverFrame(frame: TelemetryData): void {
    const gapAfter = this.streams.gapBefore(frame);
    // One fetch per gap: a server that replays past it without saying which frames it lost is not asked again.
    if (gapAfter !== undefined && this.gapsFetched.get(frame.drone) !== gapAfter) {
      this.gapsFetched.set(frame.drone, gapAfter);
      this.fetchGap(frame.drone, gapAfter);
    }
    if (this.streams.accept(frame)) this.emitter.emit("telemetry", frame);
  }

  /**
   * Frames after `last` never arrived (the frame just received skips them):
   * resume the subscription that carries the drone from `last`, holding live
   * frames meanwhile, so the gap is filled from the server's buffer in order
   * (or reported lost by the server). If the resume fails, the held frames
   * are delivered and the gap stays, reported as an error.
   */
  private fetchGap(drone: string, last: number): void {
    const watched = this.watched;
    const via = watched?.has(drone) ? drone : watched?.has(allDrones) ? allDrones : null;
    if (via === null) return;
    const epoch = this.streams.epoch(drone);
    // A failed fetch delivers the held frames past the gap, not through gap detection again: one attempt per gap.
    const deliverHeld = () => {
      for (const frame of this.streams.release(drone)) if (this.streams.accept(frame)) this.emitter.emit("telemetry", frame);
    };
    const resume =
      via === allDrones
        ? this.subscribeFrom(allDrones, { [drone]: last }, epoch === undefined ? undefined : { [drone]: epoch }, deliverHeld)
        : this.subscribeFrom(drone, last, epoch, deliverHeld);
    resume.catch((error) => this.background(error));
  }

  private leaseChanged(lease: LeaseData): void {
    const decision = this.leases.changed(lease, this.session);
    if (decision) this.carryOut(decision);
    this.emitter.emit("lease", lease);
  }

  private droneEvent(event: EventData): void {
    if (event.kind === "stream_reset") {
      // The server restarted and seq began again: count from scratch, and
      // deliver the frames held back during the resume (they are the new stream's).
      this.gapsFetched.delete(event.drone);
      const held = this.streams.reset(event.drone, event.epoch);
      this.emitter.emit("event", event);
      for (const frame of held) this.deliverFrame(frame);
      return;
    }
    // Frames the server will never send: the next frame after them is no gap to fetch.
    if (event.kind === "frames_lost" && event.to !== undefined) this.streams.lost(event.drone, event.to);
    this.emitter.emit("event", event);
  }
}
