/**
 * The slow-consumer rule, as a pure decision: a socket whose unsent data
 * exceeds the limit stops receiving telemetry (its frames are dropped and
 * counted; replies still go out), resumes once it is under half the limit,
 * and is closed if it stays over for `stallSeconds`.
 *
 * Bytes, the time and the limits in; a verdict out. The socket-facing part
 * that applies it lives in the edge (`src/edge/sessions/`).
 */

export interface BackpressureLimits {
  /** Unsent bytes over which telemetry stops. */
  slowConsumerBytes: number;
  /** Seconds a socket may stay over the limit before it is closed. */
  stallSeconds: number;
}

/** `keep`: nothing changes; `stall`: stop its telemetry; `resume`: start it again; `close`: cut it off. */
export type BackpressureVerdict = "keep" | "stall" | "resume" | "close";

/**
 * What to do with a socket now.
 * @param stalledSinceMs when telemetry stopped for it, or null while it keeps up.
 */
export function backpressureVerdict(bufferedBytes: number, stalledSinceMs: number | null, nowMs: number, limits: BackpressureLimits): BackpressureVerdict {
  if (stalledSinceMs === null) return bufferedBytes > limits.slowConsumerBytes ? "stall" : "keep";
  if (canResume(bufferedBytes, limits)) return "resume";
  return nowMs - stalledSinceMs >= limits.stallSeconds * 1000 ? "close" : "keep";
}

/** A stalled socket gets telemetry again once it is under half the limit (hysteresis, so it does not flap). */
export function canResume(bufferedBytes: number, limits: BackpressureLimits): boolean {
  return bufferedBytes <= limits.slowConsumerBytes / 2;
}
