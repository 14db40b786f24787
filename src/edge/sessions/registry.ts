/**
 * The `/drone` and `/api/controller` sessions connected to this node: who
 * can be reached for a command's `done`, and the once-a-second rules on
 * their sockets: the viewer-token deadline, a JWT's expiry (warned
 * `tokenWarningSeconds` before, closed with 1008 at `exp`), a pilot's liveness (pinged every
 * second; silent for `pilotTimeoutSeconds` loses its leases), and the slow-consumer policy
 * (`src/core/flow/backpressure.ts`) applied: telemetry stopped, resumed with a
 * `frames_dropped` count, or the socket closed.
 *
 * Owns the socket side of sessions; flight rules and streams are the flight
 * service's, the decision about slow consumers is the pure policy's.
 */
import { backpressureVerdict, canResume, type BackpressureLimits } from "../../core/flow/backpressure.ts";
import { allDrones, encodeMessage } from "../../../protocol/index.ts";
import type { FlightService } from "../../runtime/flight-service.ts";
import type { Logger } from "../../runtime/observability/log.ts";
import type { Metrics } from "../../runtime/observability/metrics.ts";
import { closeCodes, remoteOf, sendTo, type Socket } from "../connections.ts";
import { mayView } from "../../core/identity/rights.ts";
import { removeSubscription, restLimiter, subscriptionsOf, topicOf, type DroneSession } from "./session.ts";
import { unthrottleAll } from "../endpoints/throttled-subscriptions.ts";

/** Seconds a `/drone` socket has to present the viewer token before it is closed. */
export const authTimeoutSeconds = 10;
/** Seconds before its token expires that a socket is told (`token_expiring`), so it can refresh with `hello`. */
export const tokenWarningSeconds = 60;
/** The close reason of a socket whose token expired without a refresh. */
export const tokenExpiredReason = "token expired";
/** How long a socket closed for being too slow gets to answer the close before it is dropped, milliseconds. */
const closeGraceMilliseconds = 2000;

/** The pilot liveness rule's setting (`--pilot-timeout-seconds`). */
export interface PilotLiveness {
  /** Seconds without a frame (message or pong) from a pilot's session before it loses its leases. */
  pilotTimeoutSeconds: number;
}

export class SessionRegistry {
  private readonly sessions = new Map<string, Socket>();
  private readonly limits: BackpressureLimits;
  private readonly pilotTimeoutSeconds: number;
  /**
   * Whether the event loop has turned (and so could read sockets) since the
   * last sweep. A sweep that follows none (a stalled process, or a test
   * stepping a fake clock) heard nothing because it could not listen: it
   * does not count towards a pilot's silence.
   */
  private listening = false;
  private readonly markListening = () => {
    this.listening = true;
  };

  constructor(
    private readonly flight: FlightService,
    settings: BackpressureLimits & PilotLiveness,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.limits = { slowConsumerBytes: settings.slowConsumerBytes, stallSeconds: settings.stallSeconds };
    this.pilotTimeoutSeconds = settings.pilotTimeoutSeconds;
  }

  /** A frame (any message, or a pong) arrived from the session's socket: its pilot is alive. */
  static heard(session: DroneSession): void {
    session.silentSweeps = 0;
  }

  /**
   * Makes a session reachable for its command completions. An id already in
   * use is refused (false, and the socket is closed with 1013): a colliding
   * id must never act as the live session that holds it (Bun dispatches no
   * message to a socket closed in its `open`, even one already pipelined).
   */
  register(ws: Socket): boolean {
    const session = ws.data.session;
    if (!session) return false;
    if (this.sessions.has(session.id)) {
      this.logger.warn({ event: "session_id_collision", remote: remoteOf(ws.data) });
      ws.close(closeCodes.tryAgainLater, "session id already in use: reconnect for a fresh one");
      return false;
    }
    this.sessions.set(session.id, ws);
    return true;
  }

  /** A session's socket closed: the fleet hears (it loses its leases) and frames it never got are counted. */
  unregister(ws: Socket): void {
    const session = ws.data.session;
    // A socket refused at register (its id was in use) was never this session.
    if (!session || this.sessions.get(session.id) !== ws) return;
    this.sessions.delete(session.id);
    if (session.throttled !== null) unthrottleAll(session, this.flight.throttledViewers);
    // A socket closed while stalled never got those frames: count them.
    if (session.stalledSince !== null) for (const { dropped } of this.droppedWhileStalled(session).values()) this.metrics.telemetryFramesDropped += dropped;
    this.flight.sessionClosed(session.id);
  }

  /** Every socket whose session is registered here (the connection registry's view of `/drone` and `/api/controller`). */
  sockets(): IterableIterator<Socket> {
    return this.sessions.values();
  }

  /** Sends a message (already JSON) to a session connected here, if it still is. */
  deliver(session: string, text: string): void {
    const ws = this.sessions.get(session);
    if (ws) sendTo(ws, text);
  }

  /**
   * A vehicle that came and went (a replay) is gone: every session here
   * stops watching it, so no subscription lingers on its topic (a later
   * vehicle of the same id is a new one, watched only by who subscribes).
   */
  vehicleGone(drone: string): void {
    for (const ws of this.sessions.values()) {
      const session = ws.data.session!;
      if (!removeSubscription(session, drone)) continue;
      session.stalledAtSeq?.delete(drone);
      ws.unsubscribe(topicOf(session, drone));
    }
  }

  /** Once a second on the flight clock: the token deadline, pilot liveness and the slow-consumer rule, for every session. */
  sweep(nowMs: number): void {
    const listened = this.listening;
    this.listening = false;
    setImmediate(this.markListening);
    for (const ws of this.sessions.values()) {
      const session = ws.data.session!;
      if (!session.authenticated && nowMs - ws.data.openedAt >= authTimeoutSeconds * 1000) {
        ws.close(closeCodes.policyViolation, `unauthorized: no viewer token within ${authTimeoutSeconds} s`);
        continue;
      }
      if (session.expiresAtMs !== null && this.checkExpiry(ws, session)) continue;
      if (this.flight.isPilot(session.id)) this.checkPilot(ws, session, listened);
      restLimiter(session, nowMs);
      const buffered = ws.getBufferedAmount();
      switch (backpressureVerdict(buffered, session.stalledSince, nowMs, this.limits)) {
        case "stall":
          this.stall(ws, nowMs);
          break;
        case "resume":
          this.drained(ws);
          break;
        case "close":
          this.metrics.slowConsumersClosed++;
          this.logger.warn({ event: "slow_consumer_closed", remote: remoteOf(ws.data), session: session.id, bufferedBytes: buffered });
          ws.close(closeCodes.policyViolation, `too slow: over ${this.limits.slowConsumerBytes} bytes unread for ${this.limits.stallSeconds} s`);
          // A peer that does not read will not read our close frame either.
          setTimeout(() => (ws.readyState === 1 || ws.readyState === 2 ? ws.terminate() : undefined), closeGraceMilliseconds).unref?.();
          break;
        case "keep":
          break;
      }
    }
  }

  /**
   * A JWT's expiry, on the wall clock its `exp` counts in: warned once
   * `tokenWarningSeconds` before, closed with 1008 once past (a pilot's
   * leases then go as for any disconnect: the failsafe engages). Returns
   * whether the socket was closed.
   */
  private checkExpiry(ws: Socket, session: DroneSession): boolean {
    const wallMs = this.flight.wallMs();
    const expiresAtMs = session.expiresAtMs!;
    if (wallMs >= expiresAtMs) {
      this.logger.info({ event: "token_expired", remote: remoteOf(ws.data), session: session.id, user: session.identity?.user ?? null });
      ws.close(closeCodes.policyViolation, tokenExpiredReason);
      return true;
    }
    // The tutorial dialect (`/api/controller`) has no events: its clients reconnect with a fresh token.
    if (!session.expiryWarned && ws.data.endpoint === "drone" && wallMs >= expiresAtMs - tokenWarningSeconds * 1000) {
      session.expiryWarned = true;
      const expiresInSeconds = Math.max(0, Math.round((expiresAtMs - wallMs) / 1000));
      const message = `your token expires in ${expiresInSeconds} s: send hello with a fresh token (same sub) to stay connected`;
      sendTo(ws, encodeMessage("event", { drone: "", kind: "token_expiring", message, expiresAt: expiresAtMs, expiresInSeconds }));
    }
    return false;
  }

  /**
   * A pilot's liveness comes from what it sends, never from what the server
   * writes (every telemetry frame Bun writes resets its idle timer). Silent
   * for more than `pilotTimeoutSeconds` sweeps (so between N and N + 1 s
   * after its last frame) loses its leases; else it is pinged, so a pilot
   * with nothing to say still answers (every WebSocket client pongs).
   */
  private checkPilot(ws: Socket, session: DroneSession, listened: boolean): void {
    if (listened) session.silentSweeps++;
    if (session.silentSweeps > this.pilotTimeoutSeconds) {
      session.silentSweeps = 0;
      this.flight.pilotSilent(session.id, this.pilotTimeoutSeconds);
      return;
    }
    ws.ping();
  }

  /**
   * Bun calls this when a backpressured socket can take data again. Once it is
   * under half the slow-consumer limit, telemetry resumes and the socket is
   * told how many frames it missed, so it can fetch them with `subscribe` `since`.
   */
  drained(ws: Socket): void {
    const session = ws.data.session;
    if (!session || session.stalledSince === null || !canResume(ws.getBufferedAmount(), this.limits)) return;
    session.stalledSince = null;
    const dropped = this.droppedWhileStalled(session);
    session.stalledAtSeq = null;
    for (const subscription of subscriptionsOf(session)) ws.subscribe(topicOf(session, subscription));
    for (const drone of this.watchedDrones(session)) {
      // Lease changes travel on the same topic and may have been missed: restate the current one.
      sendTo(ws, encodeMessage("lease", { drone, pilot: this.flight.pilotOf(drone), reason: "resync after backpressure" }));
      const missed = dropped.get(drone);
      if (!missed) continue;
      this.metrics.telemetryFramesDropped += missed.dropped;
      const message = `${missed.dropped} frames were not sent while this socket was backpressured: resubscribe with since to fetch them`;
      sendTo(ws, encodeMessage("event", { drone, kind: "frames_dropped", message, ...missed }));
    }
  }

  /** Stops telemetry to a backpressured socket, remembering where each stream was. */
  private stall(ws: Socket, nowMs: number): void {
    const session = ws.data.session!;
    session.stalledSince = nowMs;
    const stalledAtSeq = (session.stalledAtSeq = new Map());
    for (const drone of this.watchedDrones(session)) stalledAtSeq.set(drone, this.flight.latestSeq(drone));
    for (const subscription of subscriptionsOf(session)) ws.unsubscribe(topicOf(session, subscription));
  }

  /** The vehicles a session watches, with the all-vehicles subscription spelled out as those it may view. */
  private watchedDrones(session: DroneSession): Iterable<string> {
    const subscriptions = subscriptionsOf(session);
    if (!subscriptions.includes(allDrones)) return subscriptions;
    const rights = session.identity?.rights;
    return rights === undefined ? this.flight.fleet.ids : this.flight.fleet.ids.filter((drone) => mayView(rights, drone));
  }

  /** Per vehicle, the frames a stalled socket has missed so far and the seq to resume after. */
  private droppedWhileStalled(session: DroneSession): Map<string, { dropped: number; since: number | null }> {
    const dropped = new Map<string, { dropped: number; since: number | null }>();
    for (const [drone, since] of session.stalledAtSeq ?? []) {
      const latest = this.flight.latestSeq(drone);
      const count = latest === null ? 0 : latest - (since ?? -1);
      if (count > 0) dropped.set(drone, { dropped: count, since });
    }
    return dropped;
  }
}
