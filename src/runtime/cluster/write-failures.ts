/**
 * The count of Redis writes that failed, and what to log about them: once
 * per streak, not once per failure. The writes tracked are the ones resume
 * and failover depend on (a tick's frame append, the pilot record, the
 * shutdown release and the alive-key delete), which used to be dropped
 * without a trace.
 *
 * Pure: it decides, the caller logs. No Redis, no clock, no logger.
 */
import type { LogFields } from "../observability/log.ts";

/** A write the cluster depends on, as named in logs. */
export type TrackedWrite = "frame_append" | "pilot_record" | "mission_record" | "release_owned" | "alive_delete";

/** Counts failed writes; a streak is the failures between two successes. */
export class WriteFailures {
  /** Every failed write since the node started: `skyport_redis_write_failures_total`. */
  total = 0;
  /** Failures since the last success. */
  private streak = 0;

  /**
   * A write failed. Returns the warning to log if it starts a streak (the
   * operation and the reason), or null while the streak goes on.
   */
  failed(operation: TrackedWrite, reason: string): LogFields | null {
    this.total++;
    this.streak++;
    return this.streak === 1 ? { event: "redis_write_failed", operation, reason } : null;
  }

  /** A write succeeded. Returns the line to log if it ends a streak (how many failed in it), or null. */
  succeeded(operation: TrackedWrite): LogFields | null {
    if (this.streak === 0) return null;
    const failed = this.streak;
    this.streak = 0;
    return { event: "redis_writes_recovered", operation, failed };
  }
}
