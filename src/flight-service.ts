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
import { closeCodes, remoteOf, sendTo, type DroneSession, type Socket, type SocketData } from "./connections.ts";
import { Fleet, type FleetNotice } from "./fleet.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { allDrones, encodeMessage, type DroneSummary } from "./protocol.ts";
import { fleetTopic, ReplayBuffer, telemetryBatch, telemetryData, telemetryFrame, telemetryTopic, type ReplayPlan } from "./telemetry.ts";

/** Longest simulated step, seconds: a stalled event loop must not teleport drones. */
const maxStepSeconds = 1;
/** How often sockets are checked for backpressure and missing authentication, milliseconds. */
const sweepIntervalMilliseconds = 1000;
/** Seconds a `/drone` socket has to present the viewer token before it is closed. */
export const authTimeoutSeconds = 10;


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
  private lastSweepMs = 0;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly clocks: Clocks = systemClocks,
  ) {
    this.fleet = new Fleet({ droneIds: config.drones, failsafeSeconds: config.failsafeSeconds });
    const capacity = Math.max(1, Math.round(config.telemetryHz * config.replaySeconds));
    for (const id of config.drones) this.streams.set(id, { seq: -1, buffer: new ReplayBuffer(capacity) });
  }

  /** Publishes on `server` without a timer: the caller calls `step()` (tests with an injected clock). */
  attach(server: Server<SocketData>): void {
    this.server = server;
    this.lastStepMs = this.lastSweepMs = this.clocks.monotonicMs();
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
    // The all-drones batch reuses each frame's JSON; it is only built while someone watches it.
    const batch: string[] | null = this.server !== null && this.server.subscriberCount(fleetTopic) > 0 ? [] : null;
    for (const [droneId, stream] of this.streams) {
      stream.seq++;
      const dataJson = JSON.stringify(telemetryData(this.fleet.drone(droneId), stream.seq, wallMs, this.fleet.pilotOf(droneId)));
      const frame = telemetryFrame(dataJson);
      stream.buffer.push(stream.seq, frame);
      this.server?.publish(telemetryTopic(droneId), frame);
      batch?.push(dataJson);
    }
    if (batch) this.server!.publish(fleetTopic, telemetryBatch(wallMs, batch));
    this.metrics.telemetryFramesPublished += this.streams.size;
    this.deliver();
    if (nowMs - this.lastSweepMs >= sweepIntervalMilliseconds) {
      this.lastSweepMs = nowMs;
      this.sweep(nowMs);
    }
  }

  /**
   * Once a second: a socket whose unsent data exceeds the slow-consumer limit
   * stops receiving telemetry (frames for it are dropped and counted; acks
   * still go out), and is closed if it stays there for `stallSeconds`.
   * Sockets that never presented a required viewer token are closed too.
   */
  private sweep(nowMs: number): void {
    for (const ws of this.sessions.values()) {
      const session = ws.data.session!;
      if (!session.authenticated && nowMs - session.openedAtMs >= authTimeoutSeconds * 1000) {
        ws.close(closeCodes.policyViolation, `unauthorized: no viewer token within ${authTimeoutSeconds} s`);
        continue;
      }
      const buffered = ws.getBufferedAmount();
      if (session.stalledSince === null) {
        if (buffered > this.config.slowConsumerBytes) this.stall(ws, nowMs);
      } else if (buffered <= this.config.slowConsumerBytes / 2) {
        this.drained(ws);
      } else if (nowMs - session.stalledSince >= this.config.stallSeconds * 1000) {
        this.metrics.slowConsumersClosed++;
        this.logger.warn({ event: "slow_consumer_closed", remote: remoteOf(ws.data), session: session.id, bufferedBytes: buffered });
        ws.close(closeCodes.policyViolation, `too slow: over ${this.config.slowConsumerBytes} bytes unread for ${this.config.stallSeconds} s`);
        // A peer that does not read will not read our close frame either.
        setTimeout(() => ws.readyState === 1 || ws.readyState === 2 ? ws.terminate() : undefined, 2000).unref?.();
      }
    }
  }

  /** Stops telemetry to a backpressured socket, remembering where each stream was. */
  private stall(ws: Socket, nowMs: number): void {
    const session = ws.data.session!;
    session.stalledSince = nowMs;
    for (const drone of this.watchedDrones(session)) session.stalledAtSeq.set(drone, this.latestSeq(drone));
    for (const subscription of session.subscriptions) ws.unsubscribe(telemetryTopic(subscription));
  }

  /**
   * Bun calls this when a backpressured socket can take data again. Once it is
   * under half the slow-consumer limit, telemetry resumes and the socket is
   * told how many frames it missed, so it can fetch them with `subscribe` `since`.
   */
  drained(ws: Socket): void {
    const session = ws.data.session;
    if (!session || session.stalledSince === null || ws.getBufferedAmount() > this.config.slowConsumerBytes / 2) return;
    session.stalledSince = null;
    const dropped = this.droppedWhileStalled(session);
    session.stalledAtSeq.clear();
    for (const subscription of session.subscriptions) ws.subscribe(telemetryTopic(subscription));
    for (const drone of this.watchedDrones(session)) {
      // Lease changes travel on the same topic and may have been missed: restate the current one.
      sendTo(ws, JSON.stringify({ type: "lease", data: { drone, pilot: this.fleet.pilotOf(drone), reason: "resync after backpressure" } }));
      const missed = dropped.get(drone);
      if (!missed) continue;
      this.metrics.telemetryFramesDropped += missed.dropped;
      sendTo(ws, JSON.stringify({
        type: "event",
        data: { drone, kind: "frames_dropped", message: `${missed.dropped} frames were not sent while this socket was backpressured: resubscribe with since to fetch them`, ...missed },
      }));
    }
  }

  /** The drones a session watches, with the all-drones subscription spelled out. */
  watchedDrones(session: DroneSession): Iterable<string> {
    return session.subscriptions.has(allDrones) ? this.fleet.ids : session.subscriptions;
  }

  /** Per drone, the frames a stalled socket has missed so far and the seq to resume after. */
  private droppedWhileStalled(session: DroneSession): Map<string, { dropped: number; since: number | null }> {
    const dropped = new Map<string, { dropped: number; since: number | null }>();
    for (const [drone, since] of session.stalledAtSeq) {
      const latest = this.latestSeq(drone);
      const count = latest === null ? 0 : latest - (since ?? -1);
      if (count > 0) dropped.set(drone, { dropped: count, since });
    }
    return dropped;
  }

  /** Tells every flying drone to hold position (shutdown). */
  hoverAll(reason: string): void {
    this.fleet.hoverAll(reason);
    this.deliver();
  }

  /** Makes a session reachable for its command completions. */
  register(ws: Socket): void {
    const session = ws.data.session;
    if (!session) return;
    session.openedAtMs = this.nowMs();
    this.sessions.set(session.id, ws);
  }

  /** A session's socket closed: it loses its leases (failsafe may engage) and its pending replies. */
  unregister(ws: Socket): void {
    const session = ws.data.session;
    if (!session) return;
    this.sessions.delete(session.id);
    // A socket closed while stalled never got those frames: count them.
    if (session.stalledSince !== null) for (const { dropped } of this.droppedWhileStalled(session).values()) this.metrics.telemetryFramesDropped += dropped;
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

  /** Sends a JSON message to every subscriber of a drone's topic and to those watching every drone. */
  publish(droneId: string, message: object): void {
    const text = JSON.stringify(message);
    this.server?.publish(telemetryTopic(droneId), text);
    this.server?.publish(fleetTopic, text);
  }

  /** Delivers the fleet's pending notices: completions to their origin, the rest to the drone's viewers. */
  deliver(): void {
    for (const notice of this.fleet.takeNotices()) this.deliverOne(notice);
  }

  private deliverOne(notice: FleetNotice): void {
    switch (notice.kind) {
      case "done": {
        const { origin } = notice;
        this.metrics.countCommand(notice.status);
        if (origin.receivedAt !== undefined) this.metrics.observeCommandLatency(this.nowSeconds() - origin.receivedAt);
        if (origin.form !== "json") return;
        const ws = this.sessions.get(origin.session);
        if (!ws) return;
        const data = { drone: notice.drone, command: origin.label, status: notice.status, ...(notice.reason ? { reason: notice.reason } : {}) };
        sendTo(ws, encodeMessage("done", data, origin.requestId));
        return;
      }
      case "lease":
        this.metrics.leaseChanges++;
        this.logger.info({ event: "lease", drone: notice.drone, pilot: notice.pilot, reason: notice.reason });
        this.publish(notice.drone, { type: "lease", data: { drone: notice.drone, pilot: notice.pilot, reason: notice.reason } });
        return;
      case "event":
        if (notice.event === "failsafe") this.metrics.failsafeEvents++;
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
