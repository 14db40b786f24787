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
import { inProcessBroker, type Broker, type TickEntry } from "./cluster/broker.ts";
import type { Config } from "../edge/config.ts";
import { closeCodes, remoteOf, sendTo, type DroneSession, type Socket, type SocketData } from "../edge/connections.ts";
import { commandResult, executeOp, type CommandOrigin, type DroneOp, type OpOutcome, type OpResult } from "../core/fleet/ops.ts";
import { Fleet, type FleetNotice } from "../core/fleet/fleet.ts";
import { SimulatedVehicle } from "../core/vehicle/simulated.ts";
import type { Vehicle } from "../core/vehicle/vehicle.ts";
import type { Logger } from "./observability/log.ts";
import type { Metrics } from "./observability/metrics.ts";
import { allDrones, encodeMessage, type DroneSummary, type TelemetryData } from "../../protocol/index.ts";
import { fleetTopic, ReplayBuffer, telemetryBatch, telemetryData, telemetryFrame, telemetryTopic, type ReplayPlan } from "../core/telemetry/telemetry.ts";

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
  readonly fleet: Fleet<CommandOrigin>;
  /** Ops whose vehicle answers later, by the ticket of the fleet notice that will carry the answer. */
  private readonly awaitingAnswer = new Map<number, { op: { drone: string; label: string }; answer: (result: OpResult) => void }>();
  private readonly streams = new Map<string, TelemetryStream>();
  private readonly sessions = new Map<string, Socket>();
  private server: Server<SocketData> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastStepMs = 0;
  private lastSweepMs = 0;
  private broker: Broker = inProcessBroker;
  /** The latest frame of each drone another node simulates, as received. */
  private readonly remoteLatest = new Map<string, TelemetryData>();
  /** Sessions here that sent ops to drones simulated elsewhere: those nodes hear when they close. */
  private readonly sessionsWithRemoteOps = new Set<string>();
  /** For drones simulated here: the node of each pilot session connected elsewhere. */
  private readonly remotePilotNodes = new Map<string, string>();

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly clocks: Clocks = systemClocks,
    /** The vehicles to fly; by default one simulated drone per configured id. */
    vehicles: readonly Vehicle[] | undefined = undefined,
  ) {
    this.fleet = new Fleet({ vehicles: vehicles ?? config.drones.map((id) => new SimulatedVehicle(id)), failsafeSeconds: config.failsafeSeconds });
    const capacity = Math.max(1, Math.round(config.telemetryHz * config.replaySeconds));
    for (const id of this.fleet.ids) this.streams.set(id, { seq: -1, buffer: new ReplayBuffer(capacity) });
  }

  /** Publishes on `server` without a timer: the caller calls `step()` (tests with an injected clock). */
  attach(server: Server<SocketData>): void {
    this.server = server;
    this.lastStepMs = this.lastSweepMs = this.clocks.monotonicMs();
  }

  /**
   * Starts stepping and publishing on `server` at the telemetry rate.
   *
   * Each tick is scheduled against a deadline that advances by one period,
   * not with `setInterval`: Bun sends a tick's published frames after the
   * callback returns, and an interval measured from there stretched every
   * period by the sending time (10,000 viewers at 10 Hz got 7 frames a
   * second). A tick that is more than a period late starts the schedule again
   * from now, so an overloaded server runs its ticks one after another
   * instead of piling them up.
   */
  start(server: Server<SocketData>): void {
    this.attach(server);
    const periodMs = 1000 / this.config.telemetryHz;
    let dueMs = this.clocks.monotonicMs() + periodMs;
    const tick = () => {
      this.step();
      const nowMs = this.clocks.monotonicMs();
      dueMs = nowMs - dueMs > periodMs ? nowMs + periodMs / 2 : dueMs + periodMs;
      this.timer = setTimeout(tick, Math.max(0, dueMs - nowMs));
    };
    this.timer = setTimeout(tick, periodMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
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
    const broker = this.broker;
    const clustered = broker !== inProcessBroker;
    if (dtSeconds > 0) this.fleet.advance(dtSeconds, nowMs / 1000, clustered ? (droneId) => broker.owns(droneId) : undefined);
    const wallMs = this.clocks.wallMs();
    const batch = this.startBatch();
    const entries: TickEntry[] | null = clustered ? [] : null;
    for (const [droneId, stream] of this.streams) {
      if (clustered && !broker.owns(droneId)) continue;
      stream.seq++;
      const dataJson = JSON.stringify(this.frameData(droneId, stream.seq, wallMs));
      const frame = telemetryFrame(dataJson);
      stream.buffer.push(stream.seq, frame);
      this.server?.publish(telemetryTopic(droneId), frame);
      batch?.push(dataJson);
      entries?.push({ drone: droneId, seq: stream.seq, dataJson });
      this.metrics.telemetryFramesPublished++;
    }
    this.publishBatch(wallMs, batch);
    if (entries && entries.length > 0) broker.publishTick(wallMs, entries);
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
    const stalledAtSeq = (session.stalledAtSeq = new Map());
    for (const drone of this.watchedDrones(session)) stalledAtSeq.set(drone, this.latestSeq(drone));
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
    session.stalledAtSeq = null;
    for (const subscription of session.subscriptions) ws.subscribe(telemetryTopic(subscription));
    for (const drone of this.watchedDrones(session)) {
      // Lease changes travel on the same topic and may have been missed: restate the current one.
      sendTo(ws, JSON.stringify({ type: "lease", data: { drone, pilot: this.pilotOf(drone), reason: "resync after backpressure" } }));
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
    for (const [drone, since] of session.stalledAtSeq ?? []) {
      const latest = this.latestSeq(drone);
      const count = latest === null ? 0 : latest - (since ?? -1);
      if (count > 0) dropped.set(drone, { dropped: count, since });
    }
    return dropped;
  }

  /** Tells every flying drone to hold position (shutdown). */
  hoverAll(reason: string): void {
    this.fleet.hoverAll(reason, this.nowSeconds());
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
    if (this.sessionsWithRemoteOps.delete(session.id)) this.broker.sessionClosed(session.id);
    this.deliver();
  }

  /** The drones as listed in `welcome`. */
  summaries(): DroneSummary[] {
    return this.fleet.ids.map((id) => {
      const seq = this.latestSeq(id);
      const remote = this.remoteFrame(id);
      return { id, state: remote ? remote.state : this.fleet.state(id).state, pilot: this.pilotOf(id), seq };
    });
  }

  latestSeq(droneId: string): number | null {
    const seq = this.streams.get(droneId)?.seq ?? -1;
    return seq < 0 ? null : seq;
  }

  /** The drone's pilot: from the fleet here, or as last heard from the node that simulates it. */
  pilotOf(droneId: string): string | null {
    if (this.broker.owns(droneId)) return this.fleet.pilotOf(droneId);
    return this.remoteFrame(droneId)?.pilot ?? null;
  }

  /** The last frame of a drone another node simulates, as received; undefined for a drone simulated here. */
  private remoteFrame(droneId: string): TelemetryData | undefined {
    return this.broker.owns(droneId) ? undefined : this.remoteLatest.get(droneId);
  }

  /** The drone's telemetry as of now: computed here, or the last frame from the node that simulates it. */
  snapshot(droneId: string): TelemetryData {
    const remote = this.remoteFrame(droneId);
    if (remote) return remote;
    return this.frameData(droneId, this.latestSeq(droneId) ?? 0, this.clocks.wallMs());
  }

  /** A frame's data for a vehicle flown here. */
  private frameData(droneId: string, seq: number, wallMs: number): TelemetryData {
    const fleet = this.fleet;
    return telemetryData(droneId, fleet.state(droneId), fleet.failsafeEngaged(droneId), seq, wallMs, fleet.pilotOf(droneId));
  }

  // ------------------------------------------------------------ operations, here or on another node

  /**
   * Runs a client's op on its drone: at once when this node simulates it
   * (`answer` is called before this returns), else on the node that does.
   */
  perform(op: DroneOp, answer: (result: OpResult) => void): void {
    if (this.broker.owns(op.drone)) {
      this.settle(op, executeOp(this.fleet, op, { now: this.nowSeconds() }), answer);
      return;
    }
    this.sessionsWithRemoteOps.add(op.session);
    this.broker.forward(op, (result) => {
      answer(result);
      this.deliver();
    });
  }

  /**
   * Runs an op another node forwarded for a drone simulated here. `reply`
   * goes out before the notices the op caused, so an ack precedes its `done`.
   */
  performForNode(op: DroneOp, node: string, reply: (result: OpResult) => void): void {
    if (!this.broker.owns(op.drone)) {
      reply({ ok: false, error: { code: "drone_unavailable", message: `${op.drone} moved to another node: try again` } });
      return;
    }
    const result = executeOp(this.fleet, op, { now: this.nowSeconds(), node });
    // Only a claim makes a pilot; its lease notice (delivered below) records the pilot's node in Redis.
    if (op.kind === "claim" && result.ok === true) this.remotePilotNodes.set(op.session, node);
    this.settle(op, result, reply);
    this.deliver();
  }

  /** Answers an op now, or once its vehicle answers (the fleet's `answer` notice with the ticket). */
  private settle(op: DroneOp, outcome: OpOutcome, answer: (result: OpResult) => void): void {
    if (outcome.ok !== "pending") return answer(outcome);
    this.awaitingAnswer.set(outcome.ticket, { op: { drone: op.drone, label: op.kind === "command" ? op.label : op.kind }, answer });
  }

  /** A session on another node closed: it loses its leases here, as a local one would. */
  remoteSessionClosed(session: string): void {
    this.remotePilotNodes.delete(session);
    this.fleet.disconnect(session, this.nowSeconds());
    this.fleet.forgetSession(session);
    this.deliver();
  }

  /** Pilots of drones simulated here whose sessions live on other nodes, by node. */
  remotePilots(): Map<string, string> {
    const pilots = new Map<string, string>();
    for (const drone of this.fleet.ids) {
      if (!this.broker.owns(drone)) continue;
      const pilot = this.fleet.pilotOf(drone);
      const node = pilot === null ? undefined : this.remotePilotNodes.get(pilot);
      if (pilot !== null && node !== undefined) pilots.set(pilot, node);
    }
    return pilots;
  }

  // ------------------------------------------------------------ cluster

  /** Joins a cluster: from now on this node simulates only the drones the broker says it owns. */
  useBroker(broker: Broker): void {
    this.broker = broker;
  }

  /**
   * One tick of frames from the node simulating those drones: kept for
   * resume and published to this node's sockets, as if simulated here.
   */
  ingestTick(timeMs: number, entries: readonly TickEntry[]): void {
    const batch = this.startBatch();
    for (const { drone, seq, dataJson } of entries) {
      const stream = this.streams.get(drone);
      if (!stream || this.broker.owns(drone)) continue;
      if (seq <= stream.seq && stream.buffer.latest() !== null) continue; // already seen
      if (stream.buffer.latest() !== null && seq !== stream.seq + 1) stream.buffer.clear(); // a gap: frames lost
      stream.seq = seq;
      const frame = telemetryFrame(dataJson);
      stream.buffer.push(seq, frame);
      this.remoteLatest.set(drone, JSON.parse(dataJson) as TelemetryData);
      this.server?.publish(telemetryTopic(drone), frame);
      batch?.push(dataJson);
    }
    this.publishBatch(timeMs, batch);
  }

  /** A tick's all-drones batch to fill with frames' JSON, or null while nobody here watches `*`. */
  private startBatch(): string[] | null {
    return this.server !== null && this.server.subscriberCount(fleetTopic) > 0 ? [] : null;
  }

  /** Publishes a filled batch to this node's `*` watchers; the frames' JSON is joined, not serialised again. */
  private publishBatch(timeMs: number, batch: string[] | null): void {
    if (batch && batch.length > 0) this.server?.publish(fleetTopic, telemetryBatch(timeMs, batch));
  }

  /** A lease or event from the node simulating the drone, for this node's viewers. */
  ingestNotice(drone: string, text: string): void {
    if (!this.streams.has(drone)) return;
    if (text.startsWith('{"type":"lease"')) {
      const latest = this.remoteLatest.get(drone);
      const lease = JSON.parse(text) as { data: { pilot: string | null } };
      if (latest) this.remoteLatest.set(drone, { ...latest, pilot: lease.data.pilot });
    }
    this.publishHere(drone, text);
  }

  /** Frames read back from shared storage (a node that starts late, or reconnects), oldest first. */
  backfill(drone: string, history: readonly TickEntry[]): void {
    const stream = this.streams.get(drone);
    if (!stream || history.length === 0) return;
    stream.buffer.backfill(history.map((entry) => ({ seq: entry.seq, frame: telemetryFrame(entry.dataJson) })));
    stream.seq = Math.max(stream.seq, stream.buffer.latest() ?? -1);
  }

  /**
   * This node now simulates the drone: it carries on from the last frame any
   * node published (seq continues), with its pilot if that pilot is still
   * connected somewhere. Viewers get a `failover` event when the drone was
   * being simulated by another node until now.
   */
  adopt(drone: string, last: TelemetryData | null, pilot: { session: string; node: string } | null, takenFrom: string | null): void {
    const stream = this.streams.get(drone)!;
    // The newest frame anyone kept: Redis, or this node's own copy if Redis lost its data (a restart).
    const mirrored = this.remoteLatest.get(drone) ?? null;
    if (mirrored !== null && (last === null || mirrored.seq > last.seq)) last = mirrored;
    if (last !== null) {
      if (stream.buffer.latest() !== null && stream.buffer.latest() !== last.seq) stream.buffer.clear();
      stream.seq = last.seq;
      this.fleet.adopt(drone, { state: last, failsafe: last.flags.failsafe }, pilot?.session ?? null, this.nowSeconds());
    }
    if (pilot !== null && pilot.node !== this.broker.nodeId) this.remotePilotNodes.set(pilot.session, pilot.node);
    this.remoteLatest.delete(drone);
    this.logger.info({ event: "drone_adopted", drone, seq: stream.seq, pilot: pilot?.session ?? null, from: takenFrom });
    if (takenFrom !== null) {
      this.publish(drone, {
        type: "event",
        data: {
          drone,
          kind: "failover",
          message: `node ${this.broker.nodeId} took ${drone} over from node ${takenFrom}, which stopped answering; continuing from seq ${stream.seq}`,
          node: this.broker.nodeId,
          previousNode: takenFrom,
        },
      });
    }
    this.deliver();
  }

  /** Another node simulates the drone now: stop here; commands in progress fail. */
  relinquish(drone: string, reason: string): void {
    this.fleet.relinquish(drone, reason);
    this.logger.warn({ event: "drone_relinquished", drone, reason });
    this.deliver();
  }

  /** What a subscriber resuming after `since` must be sent. */
  replay(droneId: string, since: number): ReplayPlan {
    return this.streams.get(droneId)!.buffer.since(since);
  }

  /** Sends a JSON message to every subscriber of a drone's topic and to those watching every drone, on every node. */
  publish(droneId: string, message: object): void {
    const text = JSON.stringify(message);
    this.publishHere(droneId, text);
    this.broker.publishNotice(droneId, text);
  }

  /** A lease or event to this node's viewers of the drone and of every drone. */
  private publishHere(droneId: string, text: string): void {
    this.server?.publish(telemetryTopic(droneId), text);
    this.server?.publish(fleetTopic, text);
  }

  /** Delivers the fleet's pending notices: completions to their origin, the rest to the drone's viewers. */
  deliver(): void {
    for (const notice of this.fleet.takeNotices()) this.deliverOne(notice);
  }

  /** A `done` message for a session connected here (from this node's fleet or another's). */
  deliverDone(session: string, text: string): void {
    const ws = this.sessions.get(session);
    if (ws) sendTo(ws, text);
  }

  private deliverOne(notice: FleetNotice<CommandOrigin>): void {
    switch (notice.kind) {
      case "answer": {
        const waiting = this.awaitingAnswer.get(notice.ticket);
        if (!waiting) return;
        this.awaitingAnswer.delete(notice.ticket);
        waiting.answer(commandResult(waiting.op, notice.answer));
        return;
      }
      case "done": {
        const { origin } = notice;
        this.metrics.countCommand(notice.status);
        if (origin.receivedAt !== undefined) this.metrics.observeCommandLatency(this.nowSeconds() - origin.receivedAt);
        if (origin.form !== "json") return;
        const data = { drone: notice.drone, command: origin.label, status: notice.status, ...(notice.reason ? { reason: notice.reason } : {}) };
        const text = encodeMessage("done", data, origin.requestId);
        if (origin.node !== undefined && origin.node !== this.broker.nodeId) this.broker.sendDone(origin.node, origin.session, text);
        else this.deliverDone(origin.session, text);
        return;
      }
      case "lease":
        this.metrics.leaseChanges++;
        this.broker.leaseChanged(notice.drone, notice.pilot, notice.pilot === null ? null : (this.remotePilotNodes.get(notice.pilot) ?? this.broker.nodeId));
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
