/**
 * One vehicle's MAVLink link over UDP, as MAVProxy and mavlink-router spell
 * it: `udpin` listens on HOST:PORT and answers whoever last sent a packet of
 * the vehicle's own system id (so another system sending to the same port is
 * never commanded); `udpout` sends to HOST:PORT from an ephemeral port (the
 * vehicle starts talking once it hears skyport's HEARTBEAT).
 *
 * Owns the socket, skyport's 1 Hz GCS HEARTBEAT and the retry of a failed
 * bind; like the TCP link it decides nothing about flight. No connection, so
 * no reconnect: the vehicle's HEARTBEAT timeout says when the link is lost.
 */
import type { udp } from "bun";
import type { MavlinkVehicle } from "../../core/vehicle/mavlink/vehicle.ts";
import type { Logger } from "../observability/log.ts";
import { MavlinkDecoder, MavlinkEncoder, type CodecCounters } from "./codec.ts";
import { gcsHeartbeatMilliseconds, reconnectDelayMilliseconds, type LinkStatus } from "./link.ts";
import type { MavlinkEndpoint } from "./url.ts";

export interface MavlinkUdpLinkOptions {
  vehicle: MavlinkVehicle;
  endpoint: MavlinkEndpoint & { transport: "udpin" | "udpout" };
  gcsSystemId: number;
  nowSeconds: () => number;
  logger: Logger;
  /** Whether this node may send to the vehicle now (see MavlinkLinkOptions.mayCommand). @default always */
  mayCommand?: () => boolean;
  /** Every valid packet heard, as its raw bytes (the flight recorder's `.tlog`). */
  onPacket?: (bytes: Uint8Array) => void;
}

interface Peer {
  address: string;
  port: number;
}

export class MavlinkUdpLink {
  private socket: udp.Socket<"buffer"> | null = null;
  private decoder: MavlinkDecoder;
  /** Counters of decoders of earlier bindings (the link is stopped and started as ownership moves). */
  private readonly closedCounters: CodecCounters = { packets: 0, crcErrors: 0, unknownIds: 0, v1Frames: 0, ignored: 0, decodeErrors: 0 };
  /** Writes dropped because this node may not command the vehicle (fenced). */
  private fencedWrites = 0;
  private readonly encoder: MavlinkEncoder;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private bindFailures = 0;
  private stopped = false;
  /** Where packets go: fixed for udpout, learned from the vehicle's own packets for udpin. */
  private peer: Peer | null;
  /** The sender of the datagram being decoded. */
  private sender: Peer | null = null;
  private readonly url: string;

  constructor(private readonly options: MavlinkUdpLinkOptions) {
    const { endpoint, vehicle } = options;
    this.url = `${endpoint.transport}:${endpoint.host}:${endpoint.port}`;
    this.encoder = new MavlinkEncoder(options.gcsSystemId);
    this.peer = endpoint.transport === "udpout" ? { address: endpoint.host, port: endpoint.port } : null;
    this.decoder = this.newDecoder();
    vehicle.onQueued = () => this.flush();
  }

  private newDecoder(): MavlinkDecoder {
    const { endpoint, vehicle } = this.options;
    return new MavlinkDecoder((message) => {
      // Only the vehicle's own packets say where it is; another system on the port is never answered.
      if (endpoint.transport === "udpin" && message.sysid === vehicle.systemId && this.sender !== null) this.peer = this.sender;
      vehicle.receive(message, this.options.nowSeconds());
    }, this.options.onPacket);
  }

  start(): void {
    this.stopped = false;
    this.bind();
  }

  /** Counters of every binding so far, the current one included. */
  private codecCounters(): CodecCounters {
    const codec = { ...this.closedCounters };
    const live = this.decoder.counters();
    for (const key of Object.keys(codec) as (keyof CodecCounters)[]) codec[key] += live[key];
    return codec;
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.retryTimer = this.heartbeatTimer = null;
    this.socket?.close();
    this.socket = null;
    const live = this.decoder.counters();
    for (const key of Object.keys(live) as (keyof CodecCounters)[]) this.closedCounters[key] += live[key];
    this.decoder.close();
    // A stopped link may start again (ownership moves back to this node): it starts with a fresh decoder and, for udpin, no peer.
    this.decoder = this.newDecoder();
    if (this.options.endpoint.transport === "udpin") this.peer = null;
  }

  /** The local UDP port, once bound (udpout's is ephemeral: the vehicle answers to it). */
  get localPort(): number | null {
    return this.socket?.port ?? null;
  }

  status(): LinkStatus {
    const { otherSystem, strayAcks } = this.options.vehicle.counters;
    return {
      vehicle: this.options.vehicle.id,
      url: this.url,
      connected: this.socket !== null && this.peer !== null,
      reconnects: 0,
      connectFailures: this.bindFailures,
      codec: this.codecCounters(),
      otherSystem,
      strayAcks,
      fencedWrites: this.fencedWrites,
    };
  }

  private bind(): void {
    const { endpoint, logger, vehicle } = this.options;
    const listen = endpoint.transport === "udpin" ? { hostname: endpoint.host, port: endpoint.port } : { hostname: "0.0.0.0", port: 0 };
    Bun.udpSocket({
      ...listen,
      binaryType: "buffer",
      socket: {
        data: (_socket, data, port, address) => {
          this.sender = { address, port };
          this.decoder.feed(data);
          this.sender = null;
        },
        error: (_socket, error) => logger.warn({ event: "mavlink_socket_error", vehicle: vehicle.id, url: this.url, message: error.message }),
      },
    }).then(
      (socket) => {
        if (this.stopped) {
          socket.close();
          return;
        }
        this.socket = socket;
        this.attempt = 0;
        logger.info({ event: "mavlink_listening", vehicle: vehicle.id, url: this.url, port: socket.port });
        this.beat();
        this.heartbeatTimer = setInterval(() => this.beat(), gcsHeartbeatMilliseconds);
      },
      (error: unknown) => {
        this.bindFailures += 1;
        // Logged on the first failure of a streak only (a port in use stays in use).
        if (this.attempt === 0) logger.warn({ event: "mavlink_bind_failed", vehicle: vehicle.id, url: this.url, message: error instanceof Error ? error.message : String(error) });
        const delay = reconnectDelayMilliseconds(this.attempt, Math.random());
        this.attempt += 1;
        if (!this.stopped) this.retryTimer = setTimeout(() => ((this.retryTimer = null), this.bind()), delay);
      },
    );
  }

  private beat(): void {
    this.sendBytes(this.encoder.heartbeat());
  }

  private flush(): void {
    const queued = this.options.vehicle.takeOutgoing();
    for (const message of queued) this.sendBytes(this.encoder.encode(message));
  }

  private sendBytes(bytes: Uint8Array): void {
    if (this.socket === null || this.peer === null) return;
    if (this.options.mayCommand?.() === false) {
      this.fencedWrites += 1;
      return;
    }
    this.socket.send(bytes, this.peer.port, this.peer.address);
  }
}
