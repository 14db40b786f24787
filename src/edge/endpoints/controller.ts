/**
 * `/api/controller`: compatibility with the Go drone tutorial skyport grew
 * from, so its unchanged HTML client flies the default drone.
 *
 * It speaks that tutorial's dialect: text commands such as `UP 10` or `LAND`
 * (any case; the full skyport text grammar works too), answered on the same
 * frame type with `- Drone OK (UP 10)!` or `- Drone ERROR (UP 10): <reason>!`.
 * On a server with a viewer token it is refused every line unless the token
 * came in Sec-WebSocket-Protocol (the same rule as `/drone`'s).
 * The socket claims the pilot lease on its first command, and `UP` on a
 * landed drone takes off first, because that client has no takeoff button.
 * The flow is text-commands.ts's; this file holds only the dialect.
 */
import { closeCodes, parseTextLine, type ProtocolError } from "../../../protocol/index.ts";
import type { FlightService } from "../../runtime/flight-service.ts";
import type { Metrics } from "../../runtime/observability/metrics.ts";
import type { Config } from "../config.ts";
import { sendTo, type Socket } from "../connections.ts";
import { countAuthFailure } from "../sessions/session.ts";
import { admitMessage, type AdmissionRules } from "./admit.ts";
import { echoedCommand, runTextLine, tutorialReplies, type TextDialect } from "./text-commands.ts";

/** This dialect cannot carry a pilot token: on a server that requires one, it cannot fly. */
const pilotTokenRefusal: ProtocolError = { code: "unauthorized", message: "unauthorized, this server requires a pilot token: fly over /drone with claim" };

/**
 * On a server with a viewer token, a controller socket that did not offer it
 * as `skyport.token.<token>` in Sec-WebSocket-Protocol is refused every line:
 * the Go tutorial's page cannot present a token at all.
 */
const viewerTokenRefusal: ProtocolError = {
  code: "unauthorized",
  message:
    "unauthorized, this server requires a viewer token, which the Go tutorial's client cannot present: offer it as the subprotocol skyport.token.<token>, or use /drone with hello",
};

/** The rate refusal in the tutorial's words (skyport's own is `rateLimited`). */
function tutorialRateLimited(perSecond: number): ProtocolError {
  return { code: "rate_limited", message: `slow down, at most ${perSecond} commands per second` };
}

export class ControllerEndpoint {
  private readonly dialect: TextDialect;
  /** Its close reasons keep the tutorial-era wording, which names no path. */
  private readonly admission: AdmissionRules;

  constructor(
    private readonly flight: FlightService,
    private readonly config: Config,
    private readonly metrics: Metrics,
  ) {
    this.admission = { maxBytes: config.droneMaxBytes, pathInReasons: "", commandsPerSecond: config.commandsPerSecond };
    this.dialect = {
      form: "controller",
      othersDrone: (drone, pilot) => ({ code: "not_pilot", message: `${drone} is flown by another pilot (session ${pilot})` }),
      claimLine: "ensure",
      pilotTokenRefusal: config.pilotToken === null ? null : pilotTokenRefusal,
      takeoffFirst: (request) => request.name === "up",
    };
  }

  message(ws: Socket, message: string | Buffer): void {
    const admission = admitMessage(ws, message, this.admission, this.flight.nowMs());
    if (admission === "closed" || admission === "dropped") return;
    const binary = typeof message !== "string";
    // Answered on the frame type it came in: the tutorial's page sends either.
    const send = (line: string) => void sendTo(ws, binary ? Buffer.from(line) : line);
    const text = binary ? new TextDecoder("utf-8", { fatal: false }).decode(message) : message;
    const session = ws.data.session!;
    const replies = tutorialReplies(echoedCommand(text), session.id);
    if (admission === "limited") return send(replies.refused(tutorialRateLimited(this.config.commandsPerSecond)));
    if (!session.authenticated) {
      send(replies.refused(viewerTokenRefusal));
      const closeReason = countAuthFailure(session);
      if (closeReason !== null) ws.close(closeCodes.policyViolation, closeReason);
      return;
    }
    const parsed = parseTextLine(text);
    if (!parsed.ok) return send(replies.refused(parsed.error));
    runTextLine({ flight: this.flight, metrics: this.metrics, session, dialect: this.dialect }, parsed.line, (outcome) =>
      send(outcome.ok ? replies.done(outcome.line, outcome.status) : replies.refused(outcome.error)),
    );
    this.flight.deliver();
  }
}
