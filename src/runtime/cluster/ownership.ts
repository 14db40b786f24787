/**
 * The decisions of one ownership round, per drone: may this node take a
 * drone nobody owns, and what does the owner Redis reports mean for this
 * node (start simulating it, keep simulating it, stop)? When does a
 * missing key mean a dead node rather than a Redis that restarted empty?
 * And when must this node stop acting as an owner (the fence)?
 *
 * Pure: the broker runs the round against Redis and carries the decisions
 * out. No Redis, no clock reads (the time is passed in), no sockets.
 */
import type { OwnerReport } from "./bus-codec.ts";

/** One drone's owner report with its fencing epoch (0 when unknown). */
export type EpochedReport = OwnerReport & { epoch?: number };

/** What one drone's owner report means for this node. */
export type OwnershipChange =
  /** This node starts simulating the drone: read its history and carry on from the newest frame. `takenFrom` is the node that held it. */
  | { kind: "adopt"; takenFrom: string | null }
  /** This node simulates the drone and goes on from its own state (renewed, or re-taken after Redis lost the key). */
  | { kind: "keep" }
  /** Another node (or nobody) holds the drone now: this node stops simulating it. */
  | { kind: "lose"; owner: string | null }
  /** Another node simulated it and still does, or nobody does and this node may not take it yet. */
  | { kind: "none" };

/** What the round knows about a drone before asking Redis. */
export interface DroneBefore {
  /** The owner reported by the previous round, if any. */
  previousOwner: string | undefined;
  /** Whether this node simulates the drone now. */
  simulatedHere: boolean;
  /** The fencing epoch of the drone as of the previous round, if known. */
  knownEpoch?: number;
}

/**
 * Whether a missing owner or alive key means that its node stopped renewing
 * it. A key that expired does. But when Redis restarts empty, every key is
 * gone at once while the nodes are alive; each renews its keys within one
 * key lifetime of reconnecting. So only after one key lifetime since this
 * node's link came up does a missing key mean a dead (or cut-off) node.
 */
export function missingKeysMeanDead(nowMs: number, linkUpSinceMs: number, keyLifetimeMs: number): boolean {
  return nowMs - linkUpSinceMs >= keyLifetimeMs;
}

/**
 * Whether this node may take a drone whose owner key is missing: at once if
 * nobody else held it in the last round; a drone another node held only
 * once a missing key means a dead owner (see `missingKeysMeanDead`). Else a
 * node that reconnects first after Redis restarted empty would take the
 * drones of a live owner from the stale frame it heard last, while that
 * owner still simulates them; left alone, the owner re-takes its key, as if
 * the key had survived the restart.
 */
export function mayTake(drone: DroneBefore, self: string, nowMs: number, linkUpSinceMs: number, ownerKeyMs: number): boolean {
  const other = drone.previousOwner !== undefined && drone.previousOwner !== self;
  return !other || missingKeysMeanDead(nowMs, linkUpSinceMs, ownerKeyMs);
}

/**
 * Whether this node may still act as the owner of the drones it holds: its
 * last successful renewal was sent less than one key lifetime ago. Past
 * that, its keys may have expired and another node may fly its drones, so
 * it stops flying, publishing and answering for them (the fence) until a
 * round renews them again. Measured from when the renewal was sent, on this
 * node's monotonic clock: Redis set the expiry later than that, so the key
 * outlives the claim (the lease holder's rule in client-go and Chubby).
 */
export function claimValid(nowMs: number, renewalSentMs: number, keyLifetimeMs: number): boolean {
  return nowMs - renewalSentMs < keyLifetimeMs;
}

/** What a drone's owner report means for this node. */
export function ownershipChange(drone: DroneBefore, report: EpochedReport, self: string): OwnershipChange {
  if (report.owner === self) {
    // Taken or renewed by this node: a drone it already simulates goes on from its own state,
    // which is newer than anything stored (Redis may have restarted empty)...
    // ...unless another node held the drone in between: its epoch moved on by more than this node's own take,
    // so this node's state is stale and it carries on from the newest stored frame, as any taker does.
    if (drone.simulatedHere && !(report.taken && drone.knownEpoch !== undefined && report.epoch !== undefined && report.epoch > drone.knownEpoch + 1)) return { kind: "keep" };
    const takenFrom = drone.previousOwner !== undefined && drone.previousOwner !== self ? drone.previousOwner : null;
    return { kind: "adopt", takenFrom };
  }
  return drone.simulatedHere ? { kind: "lose", owner: report.owner } : { kind: "none" };
}
