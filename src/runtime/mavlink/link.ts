/**
 * One vehicle's MAVLink link over TCP: connects with `Bun.connect`, feeds
 * every decoded message to its `MavlinkVehicle` with the flight clock's time,
 * sends what the vehicle queues, sends skyport's own HEARTBEAT at 1 Hz as a
 * ground station while connected, and reconnects with capped, jittered
 * backoff when the connection fails or closes.
 *
 * Owns the socket, its timers and the counts of what it could not use. It
 * must not decide anything about flight: the vehicle (`src/core/vehicle/
 * mavlink/`) decides what to send and when the link counts as lost.
 */
import type { Socket } from "bun";
import type { MavlinkVehicle } from "../../core/vehicle/mavlink/vehicle.ts";
import type { Logger } from "../observability/log.ts";
import { MavlinkDecoder, MavlinkEncoder, type CodecCounters } from "./codec.ts";
import type { MavlinkEndpoint } from "./url.ts";

/** skyport's HEARTBEAT period as a ground station, ms: MAVLink's 1 Hz, which the autopilot's GCS failsafe watches. */
export const gcsHeartbeatMilliseconds = 1000;
/** First reconnect delay, ms. */
const reconnectBaseMilliseconds = 250;
/** Longest reconnect delay, ms: a rebooted autopilot or SITL is back within seconds. */
const reconnectCapMilliseconds = 5000;
/** Each delay is scaled by a random factor in [1 - this, 1], so many links do not reconnect in step. */
const reconnectJitter = 0.5;
/**
 * A connection that delivers no byte for this long is dropped and made anew,
 * ms: a half-open TCP connection (a router or radio bridge that went away
 * without a FIN) would otherwise keep the vehicle lost forever. Three times
 * the vehicle's own 3 s HEARTBEAT timeout, so a slow link is not churned.
 */
export const defaultSilentMilliseconds = 10_000;

export interface LinkStatus {
  vehicle: string;
  url: string;
  connected: boolean;
  /** Connections made after the first. */
  reconnects: number;
  /** Connection attempts that failed. */
  connectFailures: number;
  codec: CodecCounters;
  otherSystem: number;
  strayAcks: number;
  /** Writes dropped because this node may not command the vehicle (a cluster node whose ownership lapsed). */
  fencedWrites: number;
}

export interface MavlinkLinkOptions {
  vehicle: MavlinkVehicle;
  endpoint: MavlinkEndpoint & { transport: "tcp" };
  /** skyport's system id as a ground station. */
  gcsSystemId: number;
  /** The flight clock, seconds: the same time the fleet advances vehicles with. */
  nowSeconds: () => number;
  logger: Logger;
  /**
   * Whether this node may send to the vehicle now (in a cluster: it owns the
   * vehicle and its claim is fresh). Checked before every write, so a node
   * that lost or cannot renew its ownership sends nothing, heartbeats
   * included, even before its link is closed. @default always
   */
  mayCommand?: () => boolean;
  /** [0, 1): the jitter's randomness; tests may fix it. @default Math.random */
  random?: () => number;
  /** @default defaultSilentMilliseconds */
  silentMilliseconds?: number;
  /** Every valid packet heard, as its raw bytes (the flight recorder's `.tlog`). */
  onPacket?: (bytes: Uint8Array) => void;
}

const zeroCounters = (): CodecCounters => ({ packets: 0, crcErrors: 0, unknownIds: 0, v1Frames: 0, ignored: 0, decodeErrors: 0 });

export class MavlinkTcpLink {
  private socket: Socket<undefined> | null = null;
  private decoder: MavlinkDecoder | null = null;
  private readonly encoder: MavlinkEncoder;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private connections = 0;
  private connectFailures = 0;
  private stopped = false;
  /** Counters of decoders of connections already closed. */
  private readonly closedCounters = zeroCounters();
  /** Bytes the socket did not take yet (backpressure), sent on drain. */
  private unsent: Uint8Array[] = [];
  /** When the current connection last delivered bytes (or opened), performance.now() ms. */
  private lastBytesAt = 0;
  private readonly url: string;
  /** Writes dropped because this node may not command the vehicle (fenced). */
  private fencedWrites = 0;

  constructor(private readonly options: MavlinkLinkOptions) {
    this.encoder = new MavlinkEncoder(options.gcsSystemId);
    this.url = `tcp:${options.endpoint.host}:${options.endpoint.port}`;
    options.vehicle.onQueued = () => this.flush();
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.socket?.end();
    this.closed();
  }

  status(): LinkStatus {
    const codec = { ...this.closedCounters };
    const live = this.decoder?.counters();
    if (live) for (const key of Object.keys(codec) as (keyof CodecCounters)[]) codec[key] += live[key];
    const { otherSystem, strayAcks } = this.options.vehicle.counters;
    return {
      vehicle: this.options.vehicle.id,
      url: this.url,
      connected: this.socket !== null,
      reconnects: Math.max(0, this.connections - 1),
      connectFailures: this.connectFailures,
      codec,
      otherSystem,
      strayAcks,
      fencedWrites: this.fencedWrites,
    };
  }

  private connect(): void {
    const { endpoint, vehicle, logger } = this.options;
    Bun.connect({
      hostname: endpoint.host,
      port: endpoint.port,
      socket: {
        open: (socket) => {
          if (this.stopped) {
            socket.end();
            return;
          }
          this.socket = socket;
          this.connections += 1;
          this.decoder = new MavlinkDecoder((message) => vehicle.receive(message, this.options.nowSeconds()), this.options.onPacket);
          logger.info({ event: "mavlink_connected", vehicle: vehicle.id, url: this.url, connection: this.connections });
          this.lastBytesAt = performance.now();
          this.sendBytes(this.encoder.heartbeat());
          this.heartbeatTimer = setInterval(() => this.beat(), gcsHeartbeatMilliseconds);
          this.flush();
        },
        data: (_socket, data) => {
          this.attempt = 0;
          this.lastBytesAt = performance.now();
          this.decoder?.feed(data);
        },
        drain: (socket) => {
          while (this.unsent.length > 0) {
            const next = this.unsent[0]!;
            const written = socket.write(next);
            if (written < next.byteLength) {
              this.unsent[0] = next.subarray(written);
              return;
            }
            this.unsent.shift();
          }
        },
        // Only the current connection's close counts: an old one dropped for silence may close after its successor opened.
        close: (socket) => {
          if (socket === this.socket) this.closedThenRetry("the connection closed");
        },
        error: (_socket, error) => logger.warn({ event: "mavlink_socket_error", vehicle: vehicle.id, url: this.url, message: error.message }),
        connectError: (_socket, error) => this.failed(error),
      },
    }).catch((error: unknown) => this.failed(error));
  }

  /** Once a second while connected: skyport's HEARTBEAT, and a silent connection dropped so it is made anew. */
  private beat(): void {
    const silentFor = performance.now() - this.lastBytesAt;
    if (silentFor >= (this.options.silentMilliseconds ?? defaultSilentMilliseconds)) {
      const socket = this.socket;
      this.closedThenRetry(`no bytes from the vehicle for ${Math.round(silentFor / 1000)} s`);
      socket?.end();
      return;
    }
    this.sendBytes(this.encoder.heartbeat());
  }

  private failed(error: unknown): void {
    if (this.reconnectTimer !== null || this.stopped) return;
    this.connectFailures += 1;
    // Logged on the first failure of a streak only: a vehicle that is off must not flood the log.
    if (this.attempt === 0) {
      this.options.logger.warn({ event: "mavlink_connect_failed", vehicle: this.options.vehicle.id, url: this.url, message: error instanceof Error ? error.message : String(error) });
    }
    this.scheduleReconnect();
  }

  private closedThenRetry(reason: string): void {
    if (this.socket === null) return;
    this.closed();
    this.options.vehicle.disconnected(reason);
    this.options.logger.warn({ event: "mavlink_disconnected", vehicle: this.options.vehicle.id, url: this.url, reason });
    if (!this.stopped) this.scheduleReconnect();
  }

  private closed(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    const live = this.decoder?.counters();
    if (live) for (const key of Object.keys(live) as (keyof CodecCounters)[]) this.closedCounters[key] += live[key];
    this.decoder?.close();
    this.decoder = null;
    this.socket = null;
    this.unsent = [];
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== null) return;
    const random = this.options.random ?? Math.random;
    const delay = reconnectDelayMilliseconds(this.attempt, random());
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  /** Sends everything the vehicle queued; dropped while disconnected (the vehicle refuses or resends on its own clock). */
  private flush(): void {
    const queued = this.options.vehicle.takeOutgoing();
    if (this.socket === null) return;
    for (const message of queued) this.sendBytes(this.encoder.encode(message));
  }

  private sendBytes(bytes: Uint8Array): void {
    const socket = this.socket;
    if (socket === null) return;
    if (this.options.mayCommand?.() === false) {
      this.fencedWrites += 1;
      return;
    }
    if (this.unsent.length > 0) {
      this.unsent.push(bytes);
      return;
    }
    const written = socket.write(bytes);
    if (written < bytes.byteLength) this.unsent.push(bytes.subarray(Math.max(0, written)));
  }
}

/** The delay before reconnect attempt `attempt` (0-based): doubling from the base, capped, jittered by `random` in [0, 1). */
export function reconnectDelayMilliseconds(attempt: number, random: number): number {
  const raw = Math.min(reconnectCapMilliseconds, reconnectBaseMilliseconds * 2 ** Math.min(attempt, 20));
  return Math.round(raw * (1 - reconnectJitter * random));
}
