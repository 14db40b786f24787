/**
 * The preamble every message on `/drone` and `/api/controller` passes
 * before it is read: the size limit, the byte count, the rate limiter, and
 * the close for a socket that stays over its rate.
 *
 * Owns the order of those checks and the close reasons; answering a limited
 * message is the endpoint's job, in its own dialect. Every check here runs
 * before the message is parsed: a flood costs a size and a bucket check per
 * frame, at most one parsed and answered frame per second, and is cut after
 * `floodExcessSeconds` of excess (issue 19 #10).
 */
import { abusiveCloseReason, closeCodes, floodingCloseReason } from "../../../protocol/index.ts";
import { payloadBytes, type Socket } from "../connections.ts";
import { abuseSeconds, floodExcessSeconds, limiterOf } from "../sessions/session.ts";

/**
 * What became of a message: read it; answer that it was rate limited (the
 * first limited message of a second, the only one parsed); or nothing more
 * (`dropped`: limited and already answered this second, so not even parsed;
 * `closed`: the socket is closing).
 */
export type Admission = "admitted" | "limited" | "dropped" | "closed";

export interface AdmissionRules {
  /** Largest message accepted, bytes; a larger one closes the socket with 1009. */
  maxBytes: number;
  /** The endpoint's path as its close reasons name it, or "" to name none. */
  pathInReasons: string;
  commandsPerSecond: number;
}

/**
 * Admits one message on a session socket: size, then bytes in, then the
 * rate. `nowMs` is the flight service's monotonic clock.
 */
export function admitMessage(ws: Socket, message: string | Buffer, rules: AdmissionRules, nowMs: number): Admission {
  const bytes = payloadBytes(message);
  if (bytes > rules.maxBytes) {
    const on = rules.pathInReasons === "" ? "" : ` on ${rules.pathInReasons}`;
    ws.close(closeCodes.messageTooBig, `messages${on} are limited to ${rules.maxBytes} bytes`);
    return "closed";
  }
  const data = ws.data;
  data.bytesIn += bytes;
  const limiter = limiterOf(data.session!, rules.commandsPerSecond);
  const verdict = limiter.take(nowMs);
  if (verdict === "allowed") return "admitted";
  if (verdict === "limited") return limiter.answerLimited(nowMs) ? "limited" : "dropped";
  const reason =
    verdict === "abusive"
      ? abusiveCloseReason(rules.commandsPerSecond, abuseSeconds)
      : floodingCloseReason(rules.commandsPerSecond, Math.ceil(rules.commandsPerSecond * floodExcessSeconds));
  ws.close(closeCodes.policyViolation, reason);
  return "closed";
}
