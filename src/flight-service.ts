/**
 * The running simulation: advances the fleet on a timer, publishes each
 * drone's telemetry with Bun's native pub/sub, keeps the replay buffers, and
 * delivers the fleet's notices (completions, leases, events) to sockets.
 *
 * This is the clocked, socket-facing edge around the pure `Fleet`. It owns
 * the clock reads and the timer; it does not parse messages (the endpoints
 * do) and does not decide flight rules (the fleet and model do).
 */
import type { Server } from "bun";
import type { Config } from "./config.ts";
import type { Socket, SocketData } from "./connections.ts";
import { Fleet, type FleetNotice } from "./fleet.ts";
import type { Logger } from "./log.ts";
import type { DroneSummary } from "./protocol.ts";
import { encodeTelemetry, ReplayBuffer, telemetryData, telemetryTopic, type ReplayPlan } from "./telemetry.ts";

/** Longest simulated step, seconds: a stalled event loop must not teleport drones. */
const maxStepSeconds = 1;

interface TelemetryStream {
  /** Seq of the last frame published, -1 before the first. */
  seq: number;
  buffer: ReplayBuffer;
}

export interface Clocks {
  /** Monotonic milliseconds, for simulation steps and timers. */
  monotonicMs(): number;
  /** Unix milliseconds, stamped into telemetry frames. */
  wallMs(): number;
}

export const systemClocks: Clocks = { monotonicMs: () => performance.now(), wallMs: () => Date.now() };

export class FlightService {
  readonly fleet: Fleet;
  private readonly streams = new Map<string, TelemetryStream>();
  private readonly sessions = new Map<string, Socket>();
  private server: Server<SocketData> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastStepMs = 0;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly clocks: Clocks = systemClocks,
  ) {
    this.fleet = new Fleet({ droneIds: config.drones, failsafeSeconds: config.failsafeSeconds });
    const capacity = Math.max(1, Math.round(config.telemetryHz * config.replaySeconds));
    for (const id of config.drones) this.streams.set(id, { seq: -1, buffer: new ReplayBuffer(capacity) });
  }

  /** Publishes on `server` without a timer: the caller calls `step()` (tests with an injected clock). */
  attach(server: Server<SocketData>): void {
    this.server = server;
    this.lastStepMs = this.clocks.monotonicMs();
  }

  /** Starts stepping and publishing on `server` at the telemetry rate. */
  start(server: Server<SocketData>): void {
    this.attach(server);
    this.timer = setInterval(() => this.step(), 1000 / this.config.telemetryHz);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Seconds on the monotonic clock: the fleet's notion of now. */
  nowSeconds(): number {
    return this.clocks.monotonicMs() / 1000;
  }

  /** Milliseconds on the monotonic clock, for per-socket rate limits. */
  nowMs(): number {
    return this.clocks.monotonicMs();
  }

  /** One simulation step: physics, failsafe timers, telemetry, then notices. */
  step(): void {
    const nowMs = this.clocks.monotonicMs();
    const dtSeconds = Math.min(maxStepSeconds, (nowMs - this.lastStepMs) / 1000);
    this.lastStepMs = nowMs;
    if (dtSeconds > 0) this.fleet.advance(dtSeconds, nowMs / 1000);
    const wallMs = this.clocks.wallMs();
    for (const [droneId, stream] of this.streams) {
      stream.seq++;
      const frame = encodeTelemetry(telemetryData(this.fleet.drone(droneId), stream.seq, wallMs, this.fleet.pilotOf(droneId)));
      stream.buffer.push(stream.seq, frame);
      this.server?.publish(telemetryTopic(droneId), frame);
    }
    this.deliver();
  }

  /** Makes a session reachable for its command completions. */
  register(ws: Socket): void {
    if (ws.data.session) this.sessions.set(ws.data.session.id, ws);
  }

  /** A session's socket closed: it loses its leases (failsafe may engage) and its pending replies. */
  unregister(ws: Socket): void {
    const session = ws.data.session;
    if (!session) return;
    this.sessions.delete(session.id);
    this.fleet.disconnect(session.id, this.nowSeconds());
    this.fleet.forgetSession(session.id);
    this.deliver();
  }

  /** The drones as listed in `welcome`. */
  summaries(): DroneSummary[] {
    return this.fleet.ids.map((id) => {
      const seq = this.streams.get(id)!.seq;
      return { id, state: this.fleet.drone(id).state, pilot: this.fleet.pilotOf(id), seq: seq < 0 ? null : seq };
    });
  }

  latestSeq(droneId: string): number | null {
    const seq = this.streams.get(droneId)?.seq ?? -1;
    return seq < 0 ? null : seq;
  }

  /** What a subscriber resuming after `since` must be sent. */
  replay(droneId: string, since: number): ReplayPlan {
    return this.streams.get(droneId)!.buffer.since(since);
  }

  /** Sends a JSON message to every subscriber of a drone's topic. */
  publish(droneId: string, message: object): void {
    this.server?.publish(telemetryTopic(droneId), JSON.stringify(message));
  }

  /** Delivers the fleet's pending notices: completions to their origin, the rest to the drone's viewers. */
  deliver(): void {
    for (const notice of this.fleet.takeNotices()) this.deliverOne(notice);
  }

  private deliverOne(notice: FleetNotice): void {
    switch (notice.kind) {
      case "done": {
        const { origin } = notice;
        if (origin.form !== "json") return;
        const ws = this.sessions.get(origin.session);
        if (!ws) return;
        const data = { drone: notice.drone, command: origin.label, status: notice.status, ...(notice.reason ? { reason: notice.reason } : {}) };
        ws.send(JSON.stringify(origin.requestId === undefined ? { type: "done", data } : { type: "done", id: origin.requestId, data }));
        ws.data.messagesOut++;
        return;
      }
      case "lease":
        this.logger.info({ event: "lease", drone: notice.drone, pilot: notice.pilot, reason: notice.reason });
        this.publish(notice.drone, { type: "lease", data: { drone: notice.drone, pilot: notice.pilot, reason: notice.reason } });
        return;
      case "event":
        if (notice.event === "failsafe" || notice.event === "low_battery" || notice.event === "critical_battery") {
          this.logger.warn({ event: notice.event, drone: notice.drone, message: notice.message });
        }
        this.publish(notice.drone, {
          type: "event",
          data: { drone: notice.drone, kind: notice.event, message: notice.message, ...notice.details },
        });
        return;
    }
  }
}
