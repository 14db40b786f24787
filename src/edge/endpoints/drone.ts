/**
 * The `/drone` endpoint: one socket's conversation with the fleet.
 *
 * Owns the per-socket protocol handling: welcome, the size/binary/rate
 * checks, turning each parsed message into a fleet call, and the reply in the
 * client's own form (JSON envelope or text line). Parsing lives in
 * `protocol.ts`, flight rules in the fleet and model, publishing in the
 * flight service.
 */
import { closeCodes, payloadBytes, sendTo, type DroneSession, type Socket } from "../connections.ts";
import type { Config } from "../config.ts";
import type { DroneOp } from "../../core/fleet/ops.ts";
import type { FlightService } from "../../runtime/flight-service.ts";
import type { Metrics } from "../../runtime/observability/metrics.ts";
import {
  allDrones,
  encodeMessage,
  errorLine,
  errorMessage,
  formatRequest,
  parseClientFrame,
  protocolVersion,
  type AnnouncedLimits,
  type ClientMessage,
  type DroneRequest,
  type ProtocolError,
  type RequestId,
  type ServerMessage,
  type TelemetryData,
  type TextLine,
  wireArgField,
} from "../../../protocol/index.ts";
import { RateLimiter } from "../../core/flow/rate-limit.ts";
import { tokensEqual } from "../security.ts";
import { wireError } from "./refusals.ts";
import { fleetTopic, telemetryTopic, type ReplayPlan } from "../../core/telemetry/telemetry.ts";

/** Seconds of continuous rate limiting after which a socket is closed with 1008. */
export const abuseSeconds = 10;
/** Failed token attempts after which a socket is closed with 1008. */
export const maxAuthFailures = 3;


/** A fresh session for a socket that is about to open. */
export function newSession(config: Config, defaultDrone: string, subscriptions: Iterable<string>, authenticated: boolean): DroneSession {
  return {
    id: crypto.randomUUID().slice(0, 8),
    defaultDrone,
    subscriptions: new Set(subscriptions),
    limiter: null,
    authenticated,
    openedAtMs: 0,
    authFailures: 0,
    stalledSince: null,
    stalledAtSeq: null,
  };
}

/** The session's rate limiter, created on its first message. */
export function limiterOf(session: DroneSession, config: Config): RateLimiter {
  return (session.limiter ??= new RateLimiter({ perSecond: config.commandsPerSecond, abuseSeconds }));
}

/**
 * Records a failed token attempt and answers it; the third closes the
 * socket with 1008. Shared by `/drone` and `/api/controller`.
 * @returns true if the socket is being closed.
 */
export function failAuth(ws: Socket, session: DroneSession, answer: () => void): boolean {
  session.authFailures++;
  answer();
  if (session.authFailures < maxAuthFailures) return false;
  ws.close(closeCodes.policyViolation, `unauthorized: ${maxAuthFailures} failed attempts`);
  return true;
}

export class DroneEndpoint {
  private readonly limits: AnnouncedLimits;

  constructor(
    private readonly flight: FlightService,
    private readonly config: Config,
    private readonly metrics: Metrics,
  ) {
    this.limits = {
      maxMessageBytes: config.droneMaxBytes,
      commandsPerSecond: config.commandsPerSecond,
      telemetryHz: config.telemetryHz,
      replayBufferFrames: Math.round(config.telemetryHz * config.replaySeconds),
      failsafeSeconds: config.failsafeSeconds,
      maxSubscriptions: config.maxSubscriptions,
      ...flight.fleet.vehicle(flight.fleet.ids[0]!).geofence,
    };
  }

  /** A socket opened (the session registry already knows it): greet it, unless it must present the viewer token first. */
  open(ws: Socket): void {
    if (ws.data.session!.authenticated) this.welcome(ws);
  }

  /** Subscribes the socket to its drones and greets it: on open, or after `hello` with the viewer token. */
  private welcome(ws: Socket): void {
    const session = ws.data.session!;
    for (const drone of session.subscriptions) ws.subscribe(telemetryTopic(drone));
    this.send(ws, {
      type: "welcome",
      data: {
        session: session.id,
        role: "observer",
        protocolVersion,
        drones: this.flight.summaries(),
        subscribed: [...session.subscriptions],
        limits: this.limits,
      },
    });
  }

  message(ws: Socket, message: string | Buffer): void {
    if (typeof message !== "string") {
      ws.close(closeCodes.unsupportedData, "binary frames are not supported on /drone: send text");
      return;
    }
    const maxBytes = this.config.droneMaxBytes;
    const bytes = payloadBytes(message);
    if (bytes > maxBytes) {
      ws.close(closeCodes.messageTooBig, `messages on /drone are limited to ${maxBytes} bytes`);
      return;
    }
    ws.data.bytesIn += bytes;
    const session = ws.data.session!;
    const parsed = parseClientFrame(message);
    const verdict = limiterOf(session, this.config).take(this.flight.nowMs());
    if (verdict === "abusive") {
      ws.close(closeCodes.policyViolation, `rate limit of ${this.config.commandsPerSecond} messages/s exceeded for ${abuseSeconds} s`);
      return;
    }
    const reply = parsed.form === "json" ? jsonReplier(ws, parsed.ok ? parsed.message.id : parsed.id) : textReplier(ws);
    if (verdict === "limited") {
      reply.error({ code: "rate_limited", message: `slow down: at most ${this.config.commandsPerSecond} messages per second` });
      return;
    }
    if (!parsed.ok) {
      reply.error(parsed.error);
      return;
    }
    if (!session.authenticated) return this.authenticate(ws, session, parsed.ok && parsed.form === "json" ? parsed.message : null, reply);
    ws.cork(() => {
      if (parsed.form === "text") this.handleLine(ws, session, parsed.line, reply);
      else this.handleMessage(ws, session, parsed.message, reply);
      this.flight.deliver();
    });
  }

  /** Before the viewer token is presented, only `hello` with the right token is answered. */
  private authenticate(ws: Socket, session: DroneSession, message: ClientMessage | null, reply: Replier): void {
    const expected = this.config.viewerToken!;
    if (message?.type === "hello" && message.data.token !== undefined && tokensEqual(message.data.token, expected)) {
      session.authenticated = true;
      reply.ok("", { session: session.id });
      this.welcome(ws);
      return;
    }
    const hint = message?.type === "hello" ? "wrong viewer token" : 'this server requires a viewer token: send {"type":"hello","data":{"token":"..."}} first';
    failAuth(ws, session, () => reply.error({ code: "unauthorized", message: hint, ...(message?.type === "hello" ? { field: "data.token" } : {}) }));
  }

  /** Claims a drone for the session, checking the pilot token when the server has one; `then` runs once it is ours. */
  private claim(ws: Socket, session: DroneSession, drone: string, token: string | undefined, reply: Replier, then: (data: Record<string, unknown>) => void): void {
    const expected = this.config.pilotToken;
    if (expected !== null && (token === undefined || !tokensEqual(token, expected))) {
      const message = token === undefined ? "this server requires a pilot token: claim with data.token" : "wrong pilot token";
      failAuth(ws, session, () => reply.error({ code: "unauthorized", message, field: "data.token" }));
      return;
    }
    this.flight.perform({ kind: "claim", drone, session: session.id }, (result) => (result.ok ? then(result.data) : reply.error(wireError(result.error))));
  }

  // ------------------------------------------------------------ text lines

  private handleLine(ws: Socket, session: DroneSession, line: TextLine, reply: Replier): void {
    const drone = session.defaultDrone;
    if (line.kind === "claim") return this.claim(ws, session, drone, undefined, reply, () => reply.ok(`ok claim: you are the pilot of ${drone}`, {}));
    if (line.kind === "release") {
      return this.flight.perform({ kind: "release", drone, session: session.id }, (result) =>
        result.ok ? reply.ok(`ok release: ${drone} has no pilot`, {}) : reply.error(wireError(result.error)),
      );
    }
    const request = line.request;
    if (request.name === "status") return reply.ok(`ok status ${describeStatus(this.flight.snapshot(drone), session.id)}`, {});
    const command = () =>
      this.flight.perform({ kind: "command", drone, session: session.id, command: request, label: line.text, form: "text" }, (result) => {
        this.metrics.countCommand(result.ok ? "accepted" : result.error.code);
        return result.ok ? reply.ok(`ok ${line.text}`, {}) : reply.error(wireError(result.error));
      });
    // Text clients (the Tello-style ones) know nothing of leases: a command on a
    // free drone claims it. A drone someone else flies still answers not_pilot.
    if (this.flight.pilotOf(drone) === null) return this.claim(ws, session, drone, undefined, reply, command);
    command();
  }

  // ------------------------------------------------------------ JSON envelopes

  private handleMessage(ws: Socket, session: DroneSession, message: ClientMessage, reply: Replier): void {
    switch (message.type) {
      case "command": {
        const drone = this.droneOrError(message.data.drone ?? session.defaultDrone, reply);
        if (drone === null) return;
        return this.command(session, drone, message.data.request, message.id, reply);
      }
      case "subscribe": {
        const { drone, since } = message.data;
        if (drone === allDrones) return this.subscribeAll(ws, session, since instanceof Map ? since : undefined, reply);
        if (this.droneOrError(drone, reply) === null) return;
        return this.subscribe(ws, session, drone, typeof since === "number" ? since : undefined, reply);
      }
      case "unsubscribe": {
        const drone = message.data.drone === allDrones ? allDrones : this.droneOrError(message.data.drone, reply);
        if (drone === null) return;
        const was = session.subscriptions.delete(drone);
        ws.unsubscribe(telemetryTopic(drone));
        return reply.ok("", { drone, subscribed: false, ...(was ? {} : { note: "was not subscribed" }) });
      }
      case "claim": {
        const drone = this.droneOrError(message.data.drone ?? session.defaultDrone, reply);
        if (drone === null) return;
        return this.claim(ws, session, drone, message.data.token, reply, (data) => reply.ok("", data));
      }
      case "release": {
        const drone = this.droneOrError(message.data.drone ?? session.defaultDrone, reply);
        if (drone === null) return;
        return this.flight.perform({ kind: "release", drone, session: session.id }, (result) => (result.ok ? reply.ok("", result.data) : reply.error(wireError(result.error))));
      }
      case "ping":
        return reply.send("pong", { time: Date.now() });
      case "hello":
        return reply.ok("", { session: session.id });
    }
  }

  private command(session: DroneSession, drone: string, request: DroneRequest, id: RequestId | undefined, reply: Replier): void {
    const label = formatRequest(request);
    if (request.name === "status") {
      reply.ok("", { drone, command: label, status: this.flight.snapshot(drone) });
      return reply.send("done", { drone, command: label, status: "completed" });
    }
    const op: DroneOp = { kind: "command", drone, session: session.id, command: request, label, form: "json", ...(id === undefined ? {} : { requestId: id }) };
    this.flight.perform(op, (result) => {
      this.metrics.countCommand(result.ok ? "accepted" : result.error.code);
      if (result.ok) return reply.ok("", result.data);
      reply.error(wireError(result.error, request.name));
    });
  }

  private subscribe(ws: Socket, session: DroneSession, drone: string, since: number | undefined, reply: Replier): void {
    const topic = telemetryTopic(drone);
    if (this.refusedOverLimit(session, drone, reply)) return;
    if (session.stalledSince !== null) {
      return this.subscribeWhileStalled(session, drone, [drone], () => since, this.flight.latestSeq(drone), reply);
    }
    if (since === undefined) {
      session.subscriptions.add(drone);
      ws.subscribe(topic);
      return reply.ok("", { drone, subscribed: true, replayed: 0, latestSeq: this.flight.latestSeq(drone) });
    }
    // Replay, then subscribe, in one synchronous turn: no frame can be
    // published in between, so the client sees no gap and no duplicate.
    const plan = this.flight.replay(drone, since);
    if (session.subscriptions.has(drone)) ws.unsubscribe(topic);
    reply.ok("", { drone, subscribed: true, replayed: plan.frames.length, lost: plan.lost, latestSeq: this.flight.latestSeq(drone) });
    this.sendReplay(ws, drone, since, plan, reply);
    session.subscriptions.add(drone);
    ws.subscribe(topic);
  }

  /**
   * The all-drones subscription: one `telemetry_batch` per tick. With `since`
   * (the last seq seen per drone) each drone's missed frames are replayed
   * first, as `telemetry` messages, in the same synchronous turn.
   */
  private subscribeAll(ws: Socket, session: DroneSession, since: ReadonlyMap<string, number> | undefined, reply: Replier): void {
    const unknown = [...(since?.keys() ?? [])].find((drone) => !this.flight.fleet.has(drone));
    if (unknown !== undefined) {
      return reply.error({ code: "unknown_drone", message: `no drone ${JSON.stringify(unknown)} in data.since: this server flies ${this.flight.fleet.ids.join(", ")}`, field: `data.since.${unknown}` });
    }
    if (this.refusedOverLimit(session, allDrones, reply)) return;
    const latestSeq = Object.fromEntries(this.flight.fleet.ids.map((drone) => [drone, this.flight.latestSeq(drone)]));
    if (session.stalledSince !== null) {
      return this.subscribeWhileStalled(session, allDrones, this.flight.fleet.ids, (drone) => since?.get(drone), latestSeq, reply);
    }
    if (session.subscriptions.has(allDrones)) ws.unsubscribe(fleetTopic);
    const plans = [...(since ?? [])].map(([drone, seq]) => ({ drone, seq, plan: this.flight.replay(drone, seq) }));
    const replayed = plans.reduce((sum, { plan }) => sum + plan.frames.length, 0);
    const lost = plans.reduce((sum, { plan }) => sum + plan.lost, 0);
    reply.ok("", { drone: allDrones, subscribed: true, replayed, lost, latestSeq });
    for (const { drone, seq, plan } of plans) this.sendReplay(ws, drone, seq, plan, reply);
    session.subscriptions.add(allDrones);
    ws.subscribe(fleetTopic);
  }

  /** Refuses a new subscription past the per-socket limit; true if it did. */
  private refusedOverLimit(session: DroneSession, subscription: string, reply: Replier): boolean {
    if (session.subscriptions.has(subscription) || session.subscriptions.size < this.config.maxSubscriptions) return false;
    reply.error({ code: "too_many_subscriptions", message: `a socket may watch at most ${this.config.maxSubscriptions} drones: unsubscribe one first`, field: "data.drone" });
    return true;
  }

  /**
   * A subscription made while the socket is backpressured: telemetry resumes
   * when it drains, so remember the wish and, per drone, where the stream
   * stood (or the client's `since`), for the `frames_dropped` count then.
   */
  private subscribeWhileStalled(
    session: DroneSession,
    subscription: string,
    drones: Iterable<string>,
    sinceOf: (drone: string) => number | undefined,
    latestSeq: unknown,
    reply: Replier,
  ): void {
    session.subscriptions.add(subscription);
    const stalledAtSeq = (session.stalledAtSeq ??= new Map());
    for (const drone of drones) if (!stalledAtSeq.has(drone)) stalledAtSeq.set(drone, sinceOf(drone) ?? this.flight.latestSeq(drone));
    reply.ok("", { drone: subscription, subscribed: true, replayed: 0, latestSeq, note: "socket is backpressured: telemetry resumes when it drains" });
  }

  /** A resume's events (stream reset, frames lost) and frames, in that order. */
  private sendReplay(ws: Socket, drone: string, since: number, plan: ReplayPlan, reply: Replier): void {
    if (plan.reset) {
      reply.raw({
        type: "event",
        data: { drone, kind: "stream_reset", message: `seq ${since} is ahead of this server's stream (it restarted): continuing live`, latestSeq: this.flight.latestSeq(drone) },
      });
    }
    if (plan.lost > 0) {
      reply.raw({
        type: "event",
        data: { drone, kind: "frames_lost", message: `${plan.lost} frames after seq ${since} are no longer buffered`, lost: plan.lost },
      });
    }
    for (const frame of plan.frames) sendTo(ws, frame);
  }

  private droneOrError(drone: string, reply: Replier): string | null {
    if (this.flight.fleet.has(drone)) return drone;
    reply.error({ code: "unknown_drone", message: `no drone ${JSON.stringify(drone)}: this server flies ${this.flight.fleet.ids.join(", ")}`, field: "data.drone" });
    return null;
  }

  private send(ws: Socket, message: object): void {
    sendTo(ws, JSON.stringify(message));
  }
}

/** Answers one request in the form it came in. */
interface Replier {
  /** Success: a text line for text clients, an `ack` with `data` for JSON clients. */
  ok(line: string, data: Record<string, unknown>): void;
  error(error: ProtocolError): void;
  /** A JSON message of the given type carrying the request's id (JSON clients only). */
  send(type: ServerMessage["type"], data: object): void;
  /** A JSON message as-is, without the request's id (JSON clients only). */
  raw(message: object): void;
}

function jsonReplier(ws: Socket, id: RequestId | undefined): Replier {
  const send = (text: string) => void sendTo(ws, text);
  return {
    ok: (_line, data) => send(encodeMessage("ack", data, id)),
    error: (error) => send(errorMessage(error, id)),
    send: (type, data) => send(encodeMessage(type, data, id)),
    raw: (message) => send(JSON.stringify(message)),
  };
}

function textReplier(ws: Socket): Replier {
  const send = (text: string) => void sendTo(ws, text);
  return {
    ok: (line) => send(line),
    error: (error) => send(errorLine(error)),
    send: () => {},
    raw: () => {},
  };
}

/** The `status` text reply: one line a person can read. */
export function describeStatus(drone: TelemetryData, session: string): string {
  const { pilot, speed } = drone;
  const { x, y, z } = drone.position;
  return [
    drone.drone,
    drone.state,
    `x=${x.toFixed(2)}`,
    `y=${y.toFixed(2)}`,
    `z=${z.toFixed(2)}`,
    `heading=${Math.round(drone.heading)}`,
    `speed=${speed.toFixed(2)}`,
    `battery=${drone.battery.toFixed(1)}%`,
    `pilot=${pilot === null ? "none" : pilot === session ? "you" : pilot}`,
  ].join(" ");
}
