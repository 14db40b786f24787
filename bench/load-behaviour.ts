/**
 * The contract between the load generator's connection layer (loadgen.ts:
 * connect, upgrade, stdio commands) and what a connection does once
 * upgraded: echo traffic (load-echo.ts) or listening to fan-out
 * (load-listen.ts).
 *
 * Types only.
 */
import type { Socket } from "bun";
import type { HistogramSnapshot } from "./histogram.ts";

/** One client connection as the connection layer keeps it; `state` belongs to the behaviour. */
export interface Connection<State> {
  socket: Socket<Connection<State>> | null;
  upgraded: boolean;
  /** Response head bytes received so far, until the upgrade completes. */
  head: Uint8Array;
  onUpgrade: (error?: Error) => void;
  state: State;
}

/** Fan-out figures of one load generator's window; absent for echo. */
export interface TelemetryTally {
  subscribers: number;
  /** Drone frames delivered in the window: one per telemetry message, one per drone in a batch. */
  droneFrames: number;
  /** Payload bytes of the telemetry messages delivered in the window. */
  payloadBytes: number;
  /** Frames missing from seq gaps, from the mark to the end of the grace period after stop. */
  lostInGaps: number;
  /** Frames published before stop (the newest seq any subscriber saw) that a subscriber still lacked after the grace period. */
  framesBehind: number;
  /** Frames that arrived with a seq already passed (should be 0). */
  repeated: number;
  subscribersWithLoss: number;
  maxLostPerSubscriber: number;
  /** Subscribers that received no telemetry at all. */
  silentSubscribers: number;
  /** Streams (drones) seen. */
  streams: number;
  /**
   * Frames the streams advanced by during the window, summed over the
   * streams seen at the mark: the newest seq any subscriber had at stop
   * minus the newest at the mark. What the source produced, whether or not
   * every subscriber got it: below the asked rate, the server's tick slipped.
   */
  streamFramesProduced: number;
}

/** What a behaviour reports for its window. */
export interface BehaviourResult {
  /** Messages received in the window: echoes, or telemetry deliveries. */
  messages: number;
  latency: HistogramSnapshot;
  telemetry?: TelemetryTally;
}

/** What a connection does once upgraded, and its share of the start/mark/stop protocol. */
export interface LoadBehaviour<State> {
  newState(): State;
  /** The connection was upgraded; `rest` holds any bytes that followed the response head. */
  upgraded(connection: Connection<State>, rest: Uint8Array): void;
  data(connection: Connection<State>, chunk: Buffer): void;
  drain(connection: Connection<State>): void;
  /** Resolves once every connection has finished its opening exchange (or throws why not). */
  settled(connections: readonly Connection<State>[], timeoutMilliseconds: number): Promise<void>;
  /** Begin sending (echo). */
  start(connections: readonly Connection<State>[]): void;
  /** Start the measured window. */
  mark(connections: readonly Connection<State>[]): void;
  /** End the measured window and report it. */
  stop(connections: readonly Connection<State>[]): Promise<BehaviourResult>;
}
