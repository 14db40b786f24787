/**
 * `/api/controller`: compatibility with the Go drone tutorial skyport grew
 * from, so its unchanged HTML client flies the default drone.
 *
 * It speaks that tutorial's dialect: text commands such as `UP 10` or `LAND`
 * (any case; the full skyport text grammar works too), answered on the same
 * frame type with `- Drone OK (UP 10)!` or `- Drone ERROR (UP 10): <reason>!`.
 * The socket claims the pilot lease on its first command, and `UP` on a
 * landed drone takes off first, because that client has no takeoff button.
 */
import { closeCodes, payloadBytes, sendTo, type Socket } from "../connections.ts";
import type { Config } from "../config.ts";
import { describeStatus, limiterOf } from "./drone.ts";
import type { DroneOp } from "../../core/fleet/ops.ts";
import type { FlightService } from "../../runtime/flight-service.ts";
import type { Metrics } from "../../runtime/observability/metrics.ts";
import { parseTextLine } from "../../../protocol/index.ts";

/** Longest command text echoed back in a reply, characters. */
const maxEchoedCommandLength = 80;

export class ControllerEndpoint {
  constructor(
    private readonly flight: FlightService,
    private readonly config: Config,
    private readonly metrics: Metrics,
  ) {}

  message(ws: Socket, message: string | Buffer): void {
    const binary = typeof message !== "string";
    const bytes = payloadBytes(message);
    if (bytes > this.config.droneMaxBytes) {
      ws.close(closeCodes.messageTooBig, `messages are limited to ${this.config.droneMaxBytes} bytes`);
      return;
    }
    ws.data.bytesIn += bytes;
    const reply = (line: string) => void sendTo(ws, binary ? Buffer.from(line) : line);
    const text = binary ? new TextDecoder("utf-8", { fatal: false }).decode(message) : message;
    const shown = shorten(text.trim());
    const verdict = limiterOf(ws.data.session!, this.config).take(this.flight.nowMs());
    if (verdict === "abusive") {
      ws.close(closeCodes.policyViolation, `rate limit of ${this.config.commandsPerSecond} messages/s exceeded for too long`);
      return;
    }
    if (verdict === "limited") return reply(refused(shown, `slow down, at most ${this.config.commandsPerSecond} commands per second`));
    this.execute(ws, shown, text, reply);
    this.flight.deliver();
  }

  /** Runs one command and answers it with one reply line (at once, or when the drone's node answers). */
  private execute(ws: Socket, shown: string, text: string, reply: (line: string) => void): void {
    const session = ws.data.session!;
    const drone = session.defaultDrone;
    const parsed = parseTextLine(text);
    if (!parsed.ok) return reply(refused(shown, parsed.error.message));
    const line = parsed.line;
    if (line.kind === "release") {
      return this.flight.perform({ kind: "release", drone, session: session.id }, (result) =>
        reply(result.ok ? accepted(shown) : refused(shown, result.error.message)),
      );
    }
    const pilot = this.flight.pilotOf(drone);
    const request = line.kind === "request" ? line.request : null;
    if (request?.name === "status") return reply(`- Drone OK (${shown}): ${describeStatus(this.flight.snapshot(drone), session.id)}!`);
    if (pilot !== null && pilot !== session.id) return reply(refused(shown, `${drone} is flown by another pilot (session ${pilot})`));
    const command = () => {
      if (request === null) return reply(accepted(shown)); // a claim line
      // `up` on the ground takes off first: the tutorial's drone does.
      const op: DroneOp = { kind: "command", drone, session: session.id, command: request, label: line.text, form: "controller", takeoffFirstIfLanded: request.name === "up" };
      this.flight.perform(op, (result) => {
        this.metrics.countCommand(result.ok ? "accepted" : result.error.code);
        reply(result.ok ? accepted(shown) : refused(shown, result.error.message));
      });
    };
    if (pilot !== null) return command();
    // This dialect cannot carry a pilot token: a server that requires one does not let it fly.
    if (this.config.pilotToken !== null) return reply(refused(shown, "unauthorized, this server requires a pilot token: fly over /drone with claim"));
    this.flight.perform({ kind: "claim", drone, session: session.id }, (result) => (result.ok ? command() : reply(refused(shown, result.error.message))));
  }
}

function accepted(command: string): string {
  return `- Drone OK (${command})!`;
}

function refused(command: string, reason: string): string {
  return `- Drone ERROR (${command}): ${reason}!`;
}

function shorten(text: string): string {
  return text.length > maxEchoedCommandLength ? `${text.slice(0, maxEchoedCommandLength)}...` : text;
}
