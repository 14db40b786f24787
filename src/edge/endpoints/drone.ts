/**
 * The `/drone` endpoint: one socket's conversation with the fleet.
 *
 * Owns the dispatch: welcome, the checks every message passes (admit.ts),
 * the viewer token, and turning each parsed message into a fleet call whose
 * outcome is answered in the client's own form (replier.ts). Parsing lives
 * in `protocol/`, text lines in text-commands.ts, the subscribe rules in
 * subscriptions.ts, tokens in sessions/session.ts, flight rules in the fleet
 * and model, publishing in the flight service.
 */
import {
  allDrones,
  closeCodes,
  encodeMessage,
  formatRequest,
  parseClientFrame,
  protocolVersion,
  rateLimited,
  unknownDrone,
  wireError,
  type AckData,
  type AnnouncedLimits,
  type ClientMessage,
  type DroneRequest,
  type ParsedInput,
  type ProtocolError,
  type RequestId,
  type TextLine,
} from "../../../protocol/index.ts";
import type { DroneOp } from "../../core/fleet/ops.ts";
import { systemClocks, type Clocks } from "../../runtime/clock.ts";
import type { FlightService } from "../../runtime/flight-service.ts";
import type { Metrics } from "../../runtime/observability/metrics.ts";
import { telemetryTopic } from "../../runtime/topics.ts";
import type { Config } from "../config.ts";
import { sendTo, type Socket } from "../connections.ts";
import type { DroneSession } from "../sessions/session.ts";
import { AuthBackoff, authBackoffMessage } from "../security.ts";
import { checkPilotToken, checkViewerHello, countAuthFailure, newSessionId } from "../sessions/session.ts";
import { admitMessage, type AdmissionRules } from "./admit.ts";
import { jsonReplier, textReplier, type JsonReplier, type Replier, type TextReplier } from "./replier.ts";
import { applySubscription, planSubscription, type Streams } from "./subscriptions.ts";
import { runTextLine, skyportReplies, type TextDialect } from "./text-commands.ts";

export class DroneEndpoint {
  private readonly limits: AnnouncedLimits;
  private readonly textDialect: TextDialect;
  private readonly admission: AdmissionRules;
  /** The telemetry streams as the subscribe plan reads them. */
  private readonly streams: Streams;

  constructor(
    private readonly flight: FlightService,
    private readonly config: Config,
    private readonly metrics: Metrics,
    /** The flight service's clocks: the pong's time comes from the same wall clock as telemetry's. */
    private readonly clocks: Clocks = systemClocks,
    /** Token guessing back-off per address, shared with the upgrade and every socket. */
    private readonly authBackoff: AuthBackoff = new AuthBackoff(),
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
    this.streams = {
      get ids() {
        return flight.fleet.ids;
      },
      has: (drone) => flight.fleet.has(drone),
      latestSeq: (drone) => flight.latestSeq(drone),
      epoch: (drone) => flight.epoch(drone),
      replay: (drone, since, epoch) => flight.replay(drone, since, epoch),
    };
    this.admission = { maxBytes: config.droneMaxBytes, pathInReasons: "/drone", commandsPerSecond: config.commandsPerSecond };
    this.textDialect = {
      form: "text",
      othersDrone: null,
      claimLine: "claim",
      pilotTokenRefusal: checkPilotToken(undefined, config.pilotToken),
      takeoffFirst: null,
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
    const welcome = encodeMessage("welcome", {
      session: session.id,
      role: "observer",
      protocolVersion,
      drones: this.flight.summaries(),
      subscribed: [...session.subscriptions],
      limits: this.limits,
    });
    sendTo(ws, welcome);
  }

  message(ws: Socket, message: string | Buffer): void {
    if (typeof message !== "string") {
      ws.close(closeCodes.unsupportedData, "binary frames are not supported on /drone: send text");
      return;
    }
    const admission = admitMessage(ws, message, this.admission, this.flight.nowMs());
    if (admission === "closed" || admission === "dropped") return;
    const session = ws.data.session!;
    const parsed = parseClientFrame(message);
    if (admission === "limited") return this.refuse(ws, replierFor(ws, parsed), rateLimited(this.config.commandsPerSecond));
    if (!parsed.ok) return this.refuse(ws, replierFor(ws, parsed), parsed.error);
    if (!session.authenticated) return this.authenticate(ws, session, parsed);
    ws.cork(() => {
      if (parsed.form === "text") this.handleLine(ws, session, parsed.line, textReplier(ws));
      else this.handleMessage(ws, session, parsed.message, jsonReplier(ws, parsed.message.id));
      this.flight.deliver();
    });
  }

  /**
   * The one place a refusal is sent. Every `unauthorized` answer counts as a
   * failed token attempt; the last one allowed closes the socket with 1008.
   */
  private refuse(ws: Socket, reply: Replier, error: ProtocolError): void {
    reply.error(error);
    if (error.code !== "unauthorized") return;
    const closeReason = countAuthFailure(ws.data.session!);
    if (closeReason !== null) ws.close(closeCodes.policyViolation, closeReason);
  }

  /**
   * A token comparison (`check`) under the address's back-off: while the
   * address must wait, the refusal says for how long and nothing is
   * compared; a wrong token counts against the address.
   */
  private underBackoff(ws: Socket, check: () => ProtocolError | null): ProtocolError | null {
    const nowMs = this.flight.nowMs();
    const waitMs = this.authBackoff.waitMs(ws.data.address, nowMs);
    if (waitMs > 0) return { code: "unauthorized", message: authBackoffMessage(waitMs) };
    const refusal = check();
    if (refusal !== null) this.authBackoff.failed(ws.data.address, nowMs);
    return refusal;
  }

  /** Before the viewer token is presented, only `hello` with the right token is answered. */
  private authenticate(ws: Socket, session: DroneSession, parsed: ParsedInput): void {
    const reply = replierFor(ws, parsed);
    const message = parsed.ok && parsed.form === "json" ? parsed.message : null;
    const refusal = message?.type === "hello" ? this.underBackoff(ws, () => checkViewerHello(message, this.config.viewerToken!)) : checkViewerHello(message, this.config.viewerToken!);
    if (refusal !== null) return this.refuse(ws, reply, refusal);
    session.authenticated = true;
    if (reply.form === "json") reply.ack({ session: session.id });
    this.welcome(ws);
  }

  // ------------------------------------------------------------ text lines

  private handleLine(ws: Socket, session: DroneSession, line: TextLine, reply: TextReplier): void {
    const replies = skyportReplies(session.defaultDrone, session.id);
    runTextLine({ flight: this.flight, metrics: this.metrics, session, dialect: this.textDialect }, line, (outcome) =>
      outcome.ok ? reply.line(replies.done(outcome.line, outcome.status)) : this.refuse(ws, reply, outcome.error),
    );
  }

  // ------------------------------------------------------------ JSON envelopes

  private handleMessage(ws: Socket, session: DroneSession, message: ClientMessage, reply: JsonReplier): void {
    const refuse = (error: ProtocolError) => this.refuse(ws, reply, error);
    switch (message.type) {
      case "command": {
        const drone = message.data.drone ?? session.defaultDrone;
        if (!this.flight.fleet.has(drone)) return refuse(this.unknownDrone(drone));
        return this.command(ws, session, drone, message.data.request, message.id, reply);
      }
      case "subscribe": {
        const plan = planSubscription(message.data, this.streams, {
          subscriptions: session.subscriptions,
          stalled: session.stalledSince !== null,
          maxSubscriptions: this.config.maxSubscriptions,
        });
        return applySubscription(plan, ws, session, reply);
      }
      case "unsubscribe": {
        const drone = message.data.drone;
        if (drone !== allDrones && !this.flight.fleet.has(drone)) return refuse(this.unknownDrone(drone));
        const was = session.subscriptions.delete(drone);
        ws.unsubscribe(telemetryTopic(drone));
        return reply.ack({ drone, subscribed: false, ...(was ? {} : { note: "was not subscribed" }) });
      }
      case "claim": {
        const drone = message.data.drone ?? session.defaultDrone;
        if (!this.flight.fleet.has(drone)) return refuse(this.unknownDrone(drone));
        const token = message.data.token;
        const tokenRefusal = token === undefined ? checkPilotToken(token, this.config.pilotToken) : this.underBackoff(ws, () => checkPilotToken(token, this.config.pilotToken));
        if (tokenRefusal !== null) return refuse(tokenRefusal);
        // The session's resume token goes with its lease and back in the ack; `data.resume` presents a lost pilot's.
        const resume = (session.resumeToken ??= newSessionId());
        const reclaim = message.data.resume;
        return this.flight.perform({ kind: "claim", drone, session: session.id, resume, ...(reclaim === undefined ? {} : { reclaim }) }, (result) =>
          result.ok ? reply.ack({ ...result.data, resume } as AckData) : refuse(wireError(result.error, "json")),
        );
      }
      case "release": {
        const drone = message.data.drone ?? session.defaultDrone;
        if (!this.flight.fleet.has(drone)) return refuse(this.unknownDrone(drone));
        return this.flight.perform({ kind: "release", drone, session: session.id }, (result) =>
          result.ok ? reply.ack(result.data) : refuse(wireError(result.error, "json")),
        );
      }
      case "ping":
        return reply.pong({ time: this.clocks.wallMs() });
      case "hello":
        return reply.ack({ session: session.id });
    }
  }

  private command(ws: Socket, session: DroneSession, drone: string, request: DroneRequest, id: RequestId | undefined, reply: JsonReplier): void {
    const label = formatRequest(request);
    if (request.name === "status") {
      reply.ack({ drone, command: "status", status: this.flight.snapshot(drone) });
      return reply.done({ drone, command: label, status: "completed" });
    }
    const op: DroneOp = { kind: "command", drone, session: session.id, command: request, label, form: "json", ...(id === undefined ? {} : { requestId: id }) };
    this.flight.perform(op, (result) => {
      this.metrics.countCommand(result.ok ? "accepted" : result.error.code);
      if (result.ok) return reply.ack(result.data);
      this.refuse(ws, reply, wireError(result.error, "json", request.name));
    });
  }

  private unknownDrone(drone: string): ProtocolError {
    return unknownDrone(drone, this.flight.fleet.ids);
  }
}

/** The replier for a parsed frame: in its form, with its request id when it had a valid one. */
function replierFor(ws: Socket, parsed: ParsedInput): Replier {
  if (parsed.form === "text") return textReplier(ws);
  return jsonReplier(ws, parsed.ok ? parsed.message.id : parsed.id);
}
