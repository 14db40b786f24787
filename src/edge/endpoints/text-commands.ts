/**
 * A line of the text grammar carried out for a session: shared by `/drone`
 * (skyport's `ok ...` replies) and `/api/controller` (the Go tutorial's
 * `- Drone OK (...)!`). The flow (a status from the snapshot, a command on a
 * free drone claiming it first, release) is written once; a `TextDialect`
 * names what the two endpoints do differently, and a `TextReplies` words the
 * outcome.
 *
 * Owns the flow, not the socket: the outcome goes to a callback, at once or
 * when the drone's node answers.
 */
import { describeStatus, errorLine, wireError, type DroneRequest, type ProtocolError, type TelemetryData, type TextLine } from "../../../protocol/index.ts";
import type { DroneOp } from "../../core/fleet/ops.ts";
import type { FlightService } from "../../runtime/flight-service.ts";
import type { Metrics } from "../../runtime/observability/metrics.ts";
import type { DroneSession } from "../sessions/session.ts";

/** What the two text dialects do differently. */
export interface TextDialect {
  /** Routes completions: neither text form gets `done` messages. */
  form: "text" | "controller";
  /**
   * A drone another session flies: refused up front in the dialect's own
   * words (the tutorial's), or null to let the fleet answer (`not_pilot`,
   * `lease_taken`).
   */
  othersDrone: ((drone: string, pilot: string) => ProtocolError) | null;
  /** A `claim` line: `claim` asks the fleet every time; `ensure` claims only a drone nobody flies yet. */
  claimLine: "claim" | "ensure";
  /** A text line cannot carry a pilot token: the refusal when the server requires one. Null when it does not. */
  pilotTokenRefusal: ProtocolError | null;
  /** The tutorial's `up` on a landed drone takes off first; null when the dialect has no such rule. */
  takeoffFirst: ((request: DroneRequest) => boolean) | null;
}

/** How a line ended: done (with the drone's state for `status`), or refused. */
export type TextOutcome = { ok: true; line: TextLine; status?: TelemetryData } | { ok: false; error: ProtocolError };

/** The reply lines of one dialect. */
export interface TextReplies {
  done(line: TextLine, status: TelemetryData | undefined): string;
  refused(error: ProtocolError): string;
}

/** What the flow needs from its endpoint. */
export interface TextContext {
  flight: FlightService;
  metrics: Metrics;
  session: DroneSession;
  dialect: TextDialect;
}

/** Carries out one line on the session's default drone; `finish` gets the outcome exactly once. */
export function runTextLine(context: TextContext, line: TextLine, finish: (outcome: TextOutcome) => void): void {
  const { flight, metrics, session, dialect } = context;
  const drone = session.defaultDrone;
  const done = () => finish({ ok: true, line });
  const refused = (error: ProtocolError) => finish({ ok: false, error });
  if (line.kind === "release") {
    return flight.perform({ kind: "release", drone, session: session.id, identity: session.identity! }, (result) => (result.ok ? done() : refused(wireError(result.error, "text"))));
  }
  const pilot = flight.pilotOf(drone);
  const othersDrone = dialect.othersDrone !== null && pilot !== null && pilot !== session.id ? dialect.othersDrone(drone, pilot) : null;

  /** Claims the drone for the session, then `then`; a refusal ends the line. */
  const claim = (then: () => void) => {
    // A signed-in user's rights decide (checked where the op runs); the shared pilot token is the simple mode's.
    if (dialect.pilotTokenRefusal !== null && session.identity?.source !== "jwt") return refused(dialect.pilotTokenRefusal);
    flight.perform({ kind: "claim", drone, session: session.id, identity: session.identity! }, (result) => (result.ok ? then() : refused(wireError(result.error, "text"))));
  };
  if (line.kind === "claim") {
    if (othersDrone !== null) return refused(othersDrone);
    return dialect.claimLine === "ensure" && pilot === session.id ? done() : claim(done);
  }

  const request = line.request;
  // Anyone may ask for the status, pilot or not.
  if (request.name === "status") return finish({ ok: true, line, status: flight.snapshot(drone) });
  if (othersDrone !== null) return refused(othersDrone);
  const command = () => {
    const op: DroneOp = {
      kind: "command",
      drone,
      session: session.id,
      identity: session.identity!,
      command: request,
      label: line.text,
      form: dialect.form,
      ...(dialect.takeoffFirst === null ? {} : { takeoffFirstIfLanded: dialect.takeoffFirst(request) }),
    };
    flight.perform(op, (result) => {
      metrics.countAnswer(result.ok ? null : result.error.code);
      return result.ok ? done() : refused(wireError(result.error, "text", request.name));
    });
  };
  // Text clients (Tello-style ones, the tutorial's page) know nothing of
  // leases: a command on a free drone claims it first.
  if (pilot === null) return claim(command);
  command();
}

/** skyport's replies: `ok <line>` (with what changed for claim, release and status), `error <code>: <message>`. */
export function skyportReplies(drone: string, session: string): TextReplies {
  return {
    done(line, status) {
      if (line.kind === "claim") return `ok claim: you are the pilot of ${drone}`;
      if (line.kind === "release") return `ok release: ${drone} has no pilot`;
      if (status !== undefined) return `ok status ${describeStatus(status, session)}`;
      return `ok ${line.text}`;
    },
    refused: errorLine,
  };
}

/** Longest command text echoed back in a tutorial reply, characters. */
const maxEchoedCommandLength = 80;

/** The command as the tutorial's replies echo it: as sent, trimmed and shortened. */
export function echoedCommand(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > maxEchoedCommandLength ? `${trimmed.slice(0, maxEchoedCommandLength)}...` : trimmed;
}

/** The Go tutorial's replies: `- Drone OK (<command>)!`, with the state for status, or `- Drone ERROR (<command>): <reason>!`. */
export function tutorialReplies(shown: string, session: string): TextReplies {
  return {
    done: (_line, status) => (status === undefined ? `- Drone OK (${shown})!` : `- Drone OK (${shown}): ${describeStatus(status, session)}!`),
    refused: (error) => `- Drone ERROR (${shown}): ${error.message}!`,
  };
}
