/**
 * The seam between one node's flight service and the other nodes.
 *
 * Every node publishes to its own sockets with Bun's pub/sub; a broker
 * carries what the other nodes need: each tick's frames (one message per
 * tick per node, however many viewers), leases and events, operations on
 * drones simulated elsewhere and their replies. The in-process broker is the
 * default: this node simulates every drone and nothing leaves the process.
 * The Redis broker (`src/runtime/cluster/`) connects nodes through Redis.
 */
import type { DroneOp, OpResult } from "../../core/fleet/ops.ts";

/** One drone's frame of a tick, as it travels between nodes. */
export interface TickEntry {
  drone: string;
  seq: number;
  /** The frame's `data` as JSON, serialised once by the simulating node. */
  dataJson: string;
}

export interface Broker {
  /** This node's name in the cluster. */
  readonly nodeId: string;
  /** Whether other nodes share the vehicles (each node flies only those it owns), or this process flies them all. */
  readonly shared: boolean;
  /** Whether this node simulates the drone now. */
  owns(drone: string): boolean;
  /** This node's frames of one tick, for the other nodes. */
  publishTick(timeMs: number, entries: readonly TickEntry[]): void;
  /** A lease or event message (already JSON) for a drone's viewers on the other nodes. */
  publishNotice(drone: string, text: string): void;
  /** A drone's pilot changed on the node that simulates it: remembered cluster-wide for a takeover. */
  leaseChanged(drone: string, pilot: string | null, pilotNode: string | null): void;
  /** Runs an op on the node that simulates the drone; `answer` is called exactly once. */
  forward(op: DroneOp, answer: (result: OpResult) => void): void;
  /** A command's `done` message (already JSON) for a session connected to another node. */
  sendDone(node: string, session: string, text: string): void;
  /** A session that sent ops to other nodes closed: they drop its leases. */
  sessionClosed(session: string): void;
}

/** One process alone: it simulates every drone and has nobody to tell. */
export const inProcessBroker: Broker = {
  nodeId: "local",
  shared: false,
  owns: () => true,
  publishTick() {},
  publishNotice() {},
  leaseChanged() {},
  forward: (op, answer) => answer({ ok: false, error: { code: "unknown_drone", message: `no node simulates ${op.drone}` } }),
  sendDone() {},
  sessionClosed() {},
};
