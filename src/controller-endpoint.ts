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
import { closeCodes, payloadBytes, sendTo, type Socket } from "./connections.ts";
import type { Config } from "./config.ts";
import { describeStatus } from "./drone-endpoint.ts";
import type { CommandOrigin } from "./fleet.ts";
import type { FlightService } from "./flight-service.ts";
import type { Metrics } from "./metrics.ts";
import { parseTextLine } from "./protocol.ts";

/** Longest command text echoed back in a reply, characters. */
const maxEchoedCommandLength = 80;

export class ControllerEndpoint {
  constructor(
    private readonly flight: FlightService,
    private readonly config: Config,
    private readonly metrics: Metrics,
  ) {}

  open(ws: Socket): void {
    this.flight.register(ws);
  }

  close(ws: Socket): void {
    this.flight.unregister(ws);
  }

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
    const verdict = ws.data.session!.limiter.take(this.flight.nowMs());
    if (verdict === "abusive") {
      ws.close(closeCodes.policyViolation, `rate limit of ${this.config.commandsPerSecond} messages/s exceeded for too long`);
      return;
    }
    if (verdict === "limited") return reply(refused(shown, `slow down, at most ${this.config.commandsPerSecond} commands per second`));
    reply(this.execute(ws, shown, text));
    this.flight.deliver();
  }

  /** Runs one command and returns the reply line. */
  private execute(ws: Socket, shown: string, text: string): string {
    const session = ws.data.session!;
    const drone = session.defaultDrone;
    const fleet = this.flight.fleet;
    const parsed = parseTextLine(text);
    if (!parsed.ok) return refused(shown, parsed.error.message);
    const line = parsed.line;
    if (line.kind === "release") {
      const released = fleet.release(drone, session.id, this.flight.nowSeconds());
      return released.ok ? accepted(shown) : refused(shown, released.error.message);
    }
    const pilot = fleet.pilotOf(drone);
    const request = line.kind === "request" ? line.request : null;
    if (request?.name === "status") return `- Drone OK (${shown}): ${describeStatus(this.flight, drone, session.id)}!`;
    if (pilot !== null && pilot !== session.id) return refused(shown, `${drone} is flown by another pilot (session ${pilot})`);
    if (pilot === null) {
      // This dialect cannot carry a pilot token: a server that requires one does not let it fly.
      if (this.config.pilotToken !== null) return refused(shown, "unauthorized, this server requires a pilot token: fly over /drone with claim");
      fleet.claim(drone, session.id);
    }
    if (request === null) return accepted(shown); // a claim line

    const origin: CommandOrigin = { session: session.id, label: line.text, form: "controller", receivedAt: this.flight.nowSeconds() };
    const result =
      request.name === "up" && fleet.drone(drone).state === "landed"
        ? fleet.command(drone, { name: "takeoff" }, origin, request)
        : fleet.command(drone, request, origin);
    this.metrics.countCommand(result.ok ? "accepted" : result.error.code);
    return result.ok ? accepted(shown) : refused(shown, result.error.message);
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
