/**
 * The `/drone` endpoint: one socket's conversation with the fleet.
 *
 * Owns the dispatch: welcome, the checks every message passes (admit.ts),
 * the viewer token or JWT (`hello`, and a refreshing `hello` later), what a
 * session may see (a vehicle its identity may not view does not exist for
 * it), and turning each parsed message into a fleet call whose outcome is
 * answered in the client's own form (replier.ts). Parsing lives in
 * `protocol/`, text lines in text-commands.ts, the subscribe rules in
 * subscriptions.ts, tokens in sessions/session.ts and the verifier, rights
 * in core/identity and the ops (checked where an op runs), flight rules in
 * the fleet and model, publishing in the flight service.
 */
import {
  allDrones,
  closeCodes,
  encodeMessage,
  formatRequest,
  isReplayId,
  missionActions,
  parseClientFrame,
  protocolVersion,
  rateLimited,
  replayReadOnly,
  tokenRefused,
  unknownDrone,
  viewerTokenRequired,
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
import type { MissionCommand } from "../../core/mission/mission.ts";
import type { Geofence } from "../../core/vehicle/vehicle.ts";
import { mayView, sharedViewerIdentity, viewable, viewsEverything } from "../../core/identity/rights.ts";
import type { TokenVerifier, Verdict } from "../../runtime/identity/verifier.ts";
import { systemClocks, type Clocks } from "../../runtime/clock.ts";
import type { FlightService } from "../../runtime/flight-service.ts";
import type { ReplayOutcome } from "../../runtime/replay/replays.ts";
import type { Metrics } from "../../runtime/observability/metrics.ts";
import { fleetTopic } from "../../runtime/topics.ts";
import type { Config } from "../config.ts";
import { sendTo, type Socket } from "../connections.ts";
import type { DroneSession } from "../sessions/session.ts";
import { AuthBackoff, authBackoffMessage } from "../security.ts";
import { checkPilotToken, checkViewerHello, countAuthFailure, newSessionId, removeSubscription, subscriptionsOf, topicOf } from "../sessions/session.ts";
import { admitMessage, type AdmissionRules } from "./admit.ts";
import { jsonReplier, textReplier, type JsonReplier, type Replier, type TextReplier } from "./replier.ts";
import { applySubscription, planSubscription, type Streams } from "./subscriptions.ts";
import { followFleetTopic, unthrottleSubscription } from "./throttled-subscriptions.ts";
import { runTextLine, skyportReplies, type TextDialect } from "./text-commands.ts";

/** Frames a socket may send while its first `hello` is being verified; they are answered, in order, once it is. More are refused. */
const maxFramesAwaitingHello = 32;

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
    /** Verifies JWTs (and the shared viewer token beside them); null when the server accepts no JWT. */
    private readonly verifier: TokenVerifier | null = null,
  ) {
    this.limits = {
      maxMessageBytes: config.droneMaxBytes,
      commandsPerSecond: config.commandsPerSecond,
      telemetryHz: config.telemetryHz,
      replayBufferFrames: Math.round(config.telemetryHz * config.replaySeconds),
      failsafeSeconds: config.failsafeSeconds,
      maxSubscriptions: config.maxSubscriptions,
      ...announcedGeofence(flight.fleet.vehicle(flight.fleet.ids[0]!).geofence),
    };
    this.streams = {
      get ids() {
        return [...flight.fleet.ids, ...flight.replayIds()];
      },
      has: (drone) => flight.fleet.has(drone) || flight.replayedDrone(drone) !== undefined,
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
    const session = ws.data.session!;
    if (!session.authenticated) return;
    this.applyRights(ws, session, false);
    this.welcome(ws);
  }

  /** Subscribes the socket to its drones and greets it: on open, or after `hello` with the viewer token. */
  private welcome(ws: Socket): void {
    const session = ws.data.session!;
    const subscriptions = subscriptionsOf(session);
    for (const drone of subscriptions) ws.subscribe(topicOf(session, drone));
    const welcome = encodeMessage("welcome", {
      session: session.id,
      role: "observer",
      protocolVersion,
      drones: this.flight.summaries().filter((drone) => this.visible(session, drone.id)),
      subscribed: [...subscriptions],
      limits: this.limits,
    });
    sendTo(ws, welcome);
    // Then the missions of the vehicles it watches from the start, as a `subscribe` would tell it (a page reloaded finds its vehicle's mission).
    this.sendMissions(ws, session, subscriptions);
  }

  /** The current mission and progress of each vehicle in `subscriptions` (`*`: every vehicle the session may view), and where a replay stands, to this socket. */
  private sendMissions(ws: Socket, session: DroneSession, subscriptions: Iterable<string>): void {
    for (const subscription of subscriptions) {
      const drones = subscription === allDrones ? this.viewableIds(session) : [subscription];
      for (const drone of drones) for (const text of [...this.flight.missionMessages(drone), ...this.flight.replayMessages(drone)]) sendTo(ws, text);
    }
  }

  /**
   * Whether the session may know the vehicle exists: it is flown here and its
   * identity may view it, or it is a replay playing here of a vehicle it may view.
   */
  private visible(session: DroneSession, drone: string): boolean {
    const viewed = this.flight.fleet.has(drone) ? drone : this.flight.replayedDrone(drone);
    return viewed !== undefined && (session.identity === null || mayView(session.identity.rights, viewed));
  }

  /** The vehicles the session may view: the fleet's in its order, then the replays of those. */
  private viewableIds(session: DroneSession): readonly string[] {
    const replays = this.flight.replayIds().filter((id) => this.visible(session, id));
    return [...this.viewableFleetIds(session), ...replays];
  }

  /** The fleet's vehicles the session may view, in the fleet's order (what its `*` view and default vehicle are made of). */
  private viewableFleetIds(session: DroneSession): readonly string[] {
    const ids = this.flight.fleet.ids;
    return session.identity === null ? ids : viewable(session.identity.rights, ids);
  }

  /**
   * Fits the session to its identity's rights (on authentication and on a
   * refresh): subscriptions to vehicles it may not view are dropped, `*`
   * listens on the batch of just the vehicles it may view, and commands
   * without a drone address one it may view. `live`: the socket is already
   * subscribed, so topics change now (unless telemetry is stopped for
   * backpressure: it resubscribes through `topicOf` when it drains).
   */
  private applyRights(ws: Socket, session: DroneSession, live: boolean): void {
    const rights = session.identity!.rights;
    const ids = this.viewableIds(session);
    const subscribeNow = live && session.stalledSince === null;
    const topic = viewsEverything(rights) ? fleetTopic : this.flight.fleetView(this.viewableFleetIds(session));
    if (topic !== session.fleetTopic) {
      if (subscribeNow && subscriptionsOf(session).includes(allDrones)) ws.unsubscribe(topicOf(session, allDrones));
      session.fleetTopic = topic;
      followFleetTopic(session, this.flight.throttledViewers);
      if (subscribeNow && subscriptionsOf(session).includes(allDrones)) ws.subscribe(topicOf(session, allDrones));
    }
    for (const drone of [...subscriptionsOf(session)]) {
      if (drone === allDrones || ids.includes(drone)) continue;
      const dropped = topicOf(session, drone);
      unthrottleSubscription(session, drone, this.flight.throttledViewers);
      removeSubscription(session, drone);
      if (subscribeNow) ws.unsubscribe(dropped);
    }
    const flown = this.viewableFleetIds(session);
    if (!flown.includes(session.defaultDrone) && flown.length > 0) session.defaultDrone = flown[0]!;
  }

  message(ws: Socket, message: string | Buffer): void {
    if (typeof message !== "string") {
      ws.close(closeCodes.unsupportedData, "binary frames are not supported on /drone: send text");
      return;
    }
    const admission = admitMessage(ws, message, this.admission, this.flight.nowMs());
    if (admission === "closed" || admission === "dropped") return;
    const session = ws.data.session!;
    if (session.awaitingHello !== null && admission !== "limited") {
      if (session.awaitingHello.length < maxFramesAwaitingHello) session.awaitingHello.push(message);
      else this.refuse(ws, replierFor(ws, parseClientFrame(message)), { code: "rate_limited", message: `wait for the answer to hello: at most ${maxFramesAwaitingHello} messages wait while its token is verified` });
      return;
    }
    this.handle(ws, message, admission === "limited");
  }

  /** One admitted frame: parsed, authenticated, dispatched. */
  private handle(ws: Socket, message: string, limited: boolean): void {
    const session = ws.data.session!;
    const parsed = parseClientFrame(message);
    if (limited) return this.refuse(ws, replierFor(ws, parsed), rateLimited(this.config.commandsPerSecond));
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
    if (error.reason !== undefined) this.metrics.countAuthFailure(error.reason);
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
    if (waitMs > 0) return { code: "unauthorized", message: authBackoffMessage(waitMs), reason: "backoff" };
    const refusal = check();
    if (refusal === null) return null;
    this.authBackoff.failed(ws.data.address, nowMs);
    return refusal.code === "unauthorized" && refusal.reason === undefined ? { ...refusal, reason: "wrong_token" } : refusal;
  }

  /** Before the viewer token is presented, only `hello` with the right token is answered. */
  private authenticate(ws: Socket, session: DroneSession, parsed: ParsedInput): void {
    const reply = replierFor(ws, parsed);
    const message = parsed.ok && parsed.form === "json" ? parsed.message : null;
    if (this.verifier !== null) return this.authenticateJwt(ws, session, message, reply);
    if (message?.type !== "hello") return this.refuse(ws, reply, { ...viewerTokenRequired(false), reason: "missing" });
    const refusal = this.underBackoff(ws, () => checkViewerHello(message, this.config.viewerToken!));
    if (refusal !== null) return this.refuse(ws, reply, refusal);
    session.identity = sharedViewerIdentity;
    this.applyRights(ws, session, false);
    if (reply.form === "json") reply.ack({ session: session.id });
    this.welcome(ws);
  }

  /**
   * A JWT server's first `hello`: the token is verified (asynchronously;
   * frames that arrive meanwhile wait, in order), then the session takes its
   * identity and is welcomed, or is refused with the token's reason.
   */
  private authenticateJwt(ws: Socket, session: DroneSession, message: ClientMessage | null, reply: Replier): void {
    const token = message?.type === "hello" ? message.data.token : undefined;
    if (token === undefined) return this.refuse(ws, reply, { ...viewerTokenRequired(message?.type === "hello"), reason: "missing" });
    session.awaitingHello = [];
    this.verifyUnderBackoff(ws, token).then((verdict) => {
      const waiting = session.awaitingHello ?? [];
      session.awaitingHello = null;
      if (ws.readyState !== 1) return;
      ws.cork(() => {
        if (!verdict.ok) this.refuse(ws, reply, tokenRefused(verdict.reason, verdict.message));
        else {
          this.takeIdentity(session, verdict);
          this.applyRights(ws, session, false);
          if (reply.form === "json") reply.ack({ session: session.id });
          this.welcome(ws);
        }
      });
      for (const frame of waiting) if (ws.readyState === 1) this.handle(ws, frame, false);
    });
  }

  /**
   * A `hello` on a session that already has an identity: with a JWT, a
   * refresh in place (subscriptions and leases kept) when the token is valid
   * and names the same `sub`; the rights it grants apply from now on.
   */
  private refresh(ws: Socket, session: DroneSession, token: string | undefined, reply: JsonReplier): void {
    if (token === undefined || this.verifier === null) return reply.ack({ session: session.id });
    this.verifyUnderBackoff(ws, token).then((verdict) => {
      if (ws.readyState !== 1) return;
      if (!verdict.ok) return this.refuse(ws, reply, tokenRefused(verdict.reason, verdict.message));
      if (verdict.identity.user !== session.identity!.user) {
        return this.refuse(ws, reply, tokenRefused("subject_changed", "a refreshing hello must carry a token for the same sub as the session's: reconnect to sign in as someone else"));
      }
      this.takeIdentity(session, verdict);
      this.applyRights(ws, session, true);
      reply.ack({ session: session.id });
    });
  }

  /** The verifier's verdict on a token, unless the address must wait first (then nothing is verified); a refusal counts against the address. */
  private async verifyUnderBackoff(ws: Socket, token: string): Promise<Verdict> {
    const waitMs = this.authBackoff.waitMs(ws.data.address, this.flight.nowMs());
    if (waitMs > 0) return { ok: false, reason: "backoff", message: authBackoffMessage(waitMs) };
    const verdict = await this.verifier!.verify(token);
    if (!verdict.ok) this.authBackoff.failed(ws.data.address, this.flight.nowMs());
    return verdict;
  }

  /** The session speaks for a verified identity from now on, until its token is no longer accepted (`exp` plus the leeway). */
  private takeIdentity(session: DroneSession, verdict: Verdict & { ok: true }): void {
    session.identity = verdict.identity;
    session.expiresAtMs = verdict.expiresAtMs;
    session.expiryWarned = false;
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
        if (!this.visible(session, drone)) return refuse(this.unknownDrone(session, drone));
        if (isReplayId(drone) && message.data.request.name !== "status") return refuse(replayReadOnly(drone, `the command ${message.data.request.name}`));
        return this.command(ws, session, drone, message.data.request, message.id, reply);
      }
      case "subscribe": {
        const plan = planSubscription(message.data, this.streamsFor(session), {
          subscriptions: subscriptionsOf(session),
          stalled: session.stalledSince !== null,
          maxSubscriptions: this.config.maxSubscriptions,
          fleetTopic: session.fleetTopic,
          telemetryHz: this.config.telemetryHz,
        });
        applySubscription(plan, ws, session, reply, { viewers: this.flight.throttledViewers, nowMs: this.flight.wallMs() });
        // A new viewer learns the mission the vehicle holds, as the others did when it changed.
        if (plan.kind !== "refuse") this.sendMissions(ws, session, [message.data.drone]);
        return;
      }
      case "unsubscribe": {
        const drone = message.data.drone;
        if (drone !== allDrones && !this.visible(session, drone)) return refuse(this.unknownDrone(session, drone));
        const topic = topicOf(session, drone);
        unthrottleSubscription(session, drone, this.flight.throttledViewers);
        const was = removeSubscription(session, drone);
        ws.unsubscribe(topic);
        return reply.ack({ drone, subscribed: false, ...(was ? {} : { note: "was not subscribed" }) });
      }
      case "claim": {
        const drone = message.data.drone ?? session.defaultDrone;
        if (!this.visible(session, drone)) return refuse(this.unknownDrone(session, drone));
        if (isReplayId(drone)) return refuse(replayReadOnly(drone, "a claim"));
        // A signed-in user's rights decide (where the op runs); the shared pilot token is the simple mode's.
        if (session.identity!.source !== "jwt") {
          const token = message.data.token;
          const tokenRefusal = token === undefined ? checkPilotToken(token, this.config.pilotToken) : this.underBackoff(ws, () => checkPilotToken(token, this.config.pilotToken));
          if (tokenRefusal !== null) return refuse(tokenRefusal.reason === undefined ? { ...tokenRefusal, reason: "missing" } : tokenRefusal);
        }
        // The session's resume token goes with its lease and back in the ack; `data.resume` presents a lost pilot's.
        const resume = (session.resumeToken ??= newSessionId());
        const reclaim = message.data.resume;
        const op: DroneOp = {
          kind: "claim",
          drone,
          session: session.id,
          identity: session.identity!,
          resume,
          ...(reclaim === undefined ? {} : { reclaim }),
          ...(message.data.force === true ? { force: true } : {}),
        };
        return this.flight.perform(op, (result) => (result.ok ? reply.ack({ ...result.data, resume } as AckData) : refuse(wireError(result.error, "json"))));
      }
      case "release": {
        const drone = message.data.drone ?? session.defaultDrone;
        if (!this.visible(session, drone)) return refuse(this.unknownDrone(session, drone));
        if (isReplayId(drone)) return refuse(replayReadOnly(drone, "a release"));
        const op: DroneOp = { kind: "release", drone, session: session.id, identity: session.identity!, ...(message.data.force === true ? { force: true } : {}) };
        return this.flight.perform(op, (result) => (result.ok ? reply.ack(result.data) : refuse(wireError(result.error, "json"))));
      }
      case "ping":
        return reply.pong({ time: this.clocks.wallMs() });
      case "hello":
        return this.refresh(ws, session, message.data.token, reply);
      case "mission":
      case "mission_start":
      case "mission_pause":
      case "mission_resume":
      case "mission_clear": {
        const drone = message.data.drone ?? session.defaultDrone;
        if (!this.visible(session, drone)) return refuse(this.unknownDrone(session, drone));
        if (isReplayId(drone)) return refuse(replayReadOnly(drone, `${message.type}`));
        const command: MissionCommand = message.type === "mission" ? { action: "upload", items: message.data.items } : { action: missionActions[message.type] };
        const op: DroneOp = { kind: "mission", drone, session: session.id, identity: session.identity!, command, label: message.type, ...(message.id === undefined ? {} : { requestId: message.id }) };
        return this.flight.perform(op, (result) => (result.ok ? reply.ack(result.data as AckData) : refuse(wireError(result.error, "json"))));
      }
      case "replay_start":
      case "replay_control":
      case "replay_stop":
        return this.replay(ws, session, message, reply);
    }
  }

  /**
   * A replay request: any session that may view the recorded vehicle may
   * start, steer or stop its replay (nobody flies it, so there is no lease
   * to ask). A replay it may not see does not exist for it.
   */
  private replay(ws: Socket, session: DroneSession, message: Extract<ClientMessage, { type: "replay_start" | "replay_control" | "replay_stop" }>, reply: JsonReplier): void {
    const answer = (outcome: ReplayOutcome) => (outcome.ok ? reply.ack(outcome.state) : this.refuse(ws, reply, outcome.error));
    if (message.type === "replay_start") {
      const { flight, ...options } = message.data;
      const mayViewDrone = (drone: string) => session.identity === null || mayView(session.identity.rights, drone);
      this.flight.startReplay(flight, options, mayViewDrone).then((outcome) => {
        if (ws.readyState === 1) ws.cork(() => answer(outcome));
      });
      return;
    }
    const drone = message.data.drone;
    if (!this.visible(session, drone)) return this.refuse(ws, reply, this.unknownDrone(session, drone));
    if (message.type === "replay_stop") return answer(this.flight.stopReplay(drone, `stopped by ${session.id}`));
    const { drone: _drone, ...change } = message.data;
    return answer(this.flight.controlReplay(drone, change));
  }

  /** The telemetry streams as this session may see them: only the vehicles its identity may view. */
  private streamsFor(session: DroneSession): Streams {
    if (session.identity === null || viewsEverything(session.identity.rights)) return this.streams;
    const ids = this.viewableIds(session);
    const streams = this.streams;
    return { ids, has: (drone) => ids.includes(drone), latestSeq: streams.latestSeq, epoch: streams.epoch, replay: streams.replay };
  }

  private command(ws: Socket, session: DroneSession, drone: string, request: DroneRequest, id: RequestId | undefined, reply: JsonReplier): void {
    const label = formatRequest(request);
    if (request.name === "status") {
      const status = isReplayId(drone) ? this.flight.replaySnapshot(drone) : this.flight.snapshot(drone);
      if (status === null) return this.refuse(ws, reply, { code: "drone_unavailable", message: `${drone} has not shown its first frame yet: ask again in a moment`, field: "data.drone" });
      reply.ack({ drone, command: "status", status });
      return reply.done({ drone, command: label, status: "completed" });
    }
    const op: DroneOp = { kind: "command", drone, session: session.id, identity: session.identity!, command: request, label, form: "json", ...(id === undefined ? {} : { requestId: id }) };
    this.flight.perform(op, (result) => {
      this.metrics.countAnswer(result.ok ? null : result.error.code);
      if (result.ok) return reply.ack(result.data);
      this.refuse(ws, reply, wireError(result.error, "json", request.name));
    });
  }

  /** No such vehicle, as far as this session may know: a vehicle it may not view is named like one that does not exist. */
  private unknownDrone(session: DroneSession, drone: string): ProtocolError {
    return unknownDrone(drone, this.viewableIds(session));
  }
}

/** The replier for a parsed frame: in its form, with its request id when it had a valid one. */
function replierFor(ws: Socket, parsed: ParsedInput): Replier {
  if (parsed.form === "text") return textReplier(ws);
  return jsonReplier(ws, parsed.ok ? parsed.message.id : parsed.id);
}

/** A vehicle's geofence as `welcome.limits` announces it: the polygon only when there is one. */
function announcedGeofence(geofence: Geofence): Pick<AnnouncedLimits, "maxAltitudeMetres" | "maxRadiusMetres" | "geofencePolygon"> {
  const { maxAltitudeMetres, maxRadiusMetres, polygon } = geofence;
  return { maxAltitudeMetres, maxRadiusMetres, ...(polygon === null ? {} : { geofencePolygon: polygon.map(({ lat, lon }) => ({ lat, lon })) }) };
}
