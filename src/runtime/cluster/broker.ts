/**
 * The seam between one node's flight service and the other nodes, as two
 * interfaces, one per direction (centrifuge's Broker and BrokerEventHandler):
 * `Broker` is what the node asks of the cluster, `ClusterEvents` is what the
 * cluster hands back to the node. A broker knows the node only through
 * `ClusterEvents`, registered once when the broker starts.
 *
 * Every node publishes to its own sockets with Bun's pub/sub; a broker
 * carries what the other nodes need: each tick's frames (one message per
 * tick per node, however many viewers), leases and events, operations on
 * drones simulated elsewhere and their replies. The in-process broker is the
 * default: this node simulates every drone and nothing leaves the process.
 * The Redis broker (`redis-broker.ts`) connects nodes through Redis.
 * Owns only these contracts: no I/O, no clock.
 */
import type { DroneOp, OpResult } from "../../core/fleet/ops.ts";
import type { MissionItem, MissionProgress } from "../../core/mission/mission.ts";
import type { TelemetryData } from "../../../protocol/index.ts";

/** One drone's frame of a tick, as it travels between nodes. */
export interface TickEntry {
  drone: string;
  seq: number;
  /**
   * The stream epoch the seq belongs to (see telemetry-streams.ts): it
   * travels with the frame on the bus and in Redis, so a node that takes the
   * drone over continues the same stream. Absent only in entries written
   * before epochs existed, which count as the receiver's current epoch.
   */
  epoch?: string;
  /** The frame's `data` as JSON, serialised once by the simulating node. */
  dataJson: string;
}

/** The newest frame of a drone in shared storage, with the stream epoch it was stored in (undefined: stored before epochs). */
export interface StoredFrame {
  data: TelemetryData;
  epoch?: string;
}

/** What /healthz and /metrics report about the cluster. */
export interface ClusterStatus {
  node: string;
  redis: "up" | "down";
  ownedDrones: string[];
  reconnects: number;
  lastError: string | null;
  forwardedOps: number;
  forwardFailures: number;
  ticksPublished: number;
  ticksReceived: number;
  /** Catch-up reads of the frame lists finished (one after each connection to Redis): resume with `since` works from here. */
  catchUps: number;
  /** Writes that resume and failover depend on and that failed: frame appends, pilot records, the shutdown release. */
  writeFailures: number;
  /** The cluster protocol this node speaks (bus-version.ts). */
  busVersion: number;
  /** Live nodes this node cannot share the cluster with, and why: while any runs, this node takes no drone. */
  incompatiblePeers: Array<{ node: string; reason: string }>;
}

/** What a node asks of the other nodes. */
export interface Broker {
  /** This node's name in the cluster. */
  readonly nodeId: string;
  /** Whether other nodes share the vehicles (each node flies only those it owns), or this process flies them all. */
  readonly shared: boolean;
  /** Whether this node simulates the drone now. */
  owns(drone: string): boolean;
  /** The node that flies the drone as of the last ownership round (undefined when unknown or in one process). */
  ownerOf(drone: string): string | undefined;
  /** This node's frames of one tick, for the other nodes. */
  publishTick(timeMs: number, entries: readonly TickEntry[]): void;
  /** A lease or event message (already JSON) for a drone's viewers on the other nodes. */
  publishNotice(drone: string, text: string): void;
  /** A drone's pilot changed on the node that simulates it: remembered cluster-wide for a takeover. */
  leaseChanged(drone: string, pilot: string | null, pilotNode: string | null): void;
  /** The mission a drone flown here holds changed, or how far it is through it (null: it holds none): kept cluster-wide for a takeover and for nodes that start late. */
  missionChanged(drone: string, mission: MissionRecord | null): void;
  /** Runs an op on the node that simulates the drone; `answer` is called exactly once, with the node that answered (none when none did). */
  forward(op: DroneOp, answer: (result: OpResult, node?: string) => void): void;
  /** A command's `done` message (already JSON) for a session connected to another node. */
  sendDone(node: string, session: string, text: string): void;
  /** A session that sent ops to other nodes closed: they drop its leases. */
  /** `reason` is why its leases end, when it is not a plain disconnect (a silent pilot). */
  sessionClosed(session: string, reason?: string): void;
}

/** One process alone: it simulates every drone and has nobody to tell. */
export const inProcessBroker: Broker = {
  nodeId: "local",
  shared: false,
  owns: () => true,
  ownerOf: () => undefined,
  publishTick() {},
  publishNotice() {},
  leaseChanged() {},
  missionChanged() {},
  forward: (op, answer) => answer({ ok: false, error: { code: "unknown_drone", message: `no node simulates ${op.drone}` } }),
  sendDone() {},
  sessionClosed() {},
};

/** The mission a drone's owner holds, as it keeps it in Redis for a node that takes the drone over or starts late. */
export interface MissionRecord {
  items: readonly MissionItem[];
  /** Where the vehicle was in it when last reported; null before it started. */
  progress: MissionProgress | null;
}

/** Who flies a drone, as recorded cluster-wide: the pilot's session and the node its socket is on. */
export interface PilotOnNode {
  session: string;
  node: string;
}

/**
 * What the cluster hands back to the node: frames and notices of drones
 * simulated elsewhere, ownership moving, and operations and sessions that
 * cross nodes. Registered once with the broker (`RedisBroker.start`).
 */
export interface ClusterEvents {
  /** This node joined a cluster through `broker`: from now on it simulates only the drones the broker says it owns. */
  useBroker(broker: Broker): void;

  // Telemetry of drones another node simulates.
  /** One tick of frames from the node simulating those drones: kept for resume and published here as if simulated here. */
  ingestTick(timeMs: number, entries: readonly TickEntry[]): void;
  /** A lease or event message (already JSON) from the node simulating the drone, for this node's viewers. */
  ingestNotice(drone: string, text: string): void;
  /** A drone's frames read back from shared storage (this node started late, reconnected, or takes the drone over), oldest first. */
  backfill(drone: string, history: readonly TickEntry[]): void;

  // Ownership moving.
  /**
   * This node now simulates the drone: carry on from `last` (the newest frame
   * stored cluster-wide, or null), with `pilot` if that pilot is still
   * connected somewhere. `takenFrom` is the node that stopped answering, or
   * null when nobody held the drone before (a start, or storage lost it).
   */
  adopt(drone: string, last: TelemetryData | null, pilot: PilotOnNode | null, takenFrom: string | null, mission: MissionRecord | null): void;
  /** The mission a drone flown elsewhere holds, read from shared storage (this node started late or reconnected): for its new viewers. */
  missionKnown(drone: string, mission: MissionRecord | null): void;
  /**
   * This node took back the key of a drone it still simulates (Redis lost
   * the key, or this node's claim had lapsed): whether it goes on from its
   * own state. Not when another node flew the drone meanwhile (a frame heard
   * from it, or a stored frame newer than this node's): then it carries on
   * from the newest, as a takeover does, and returns false. `claimLapsed`:
   * this node's previous claim had expired before it took the key back, so
   * another node may have flown the drone unheard; unless `stored` is this
   * node's own newest frame, its stream goes on in a fresh epoch.
   */
  retake(drone: string, stored: StoredFrame | null, claimLapsed: boolean): boolean;
  /** Another node simulates the drone now: stop here; commands in progress fail with `reason`. */
  relinquish(drone: string, reason: string): void;

  // Operations and sessions across nodes.
  /** An op another node forwarded for a drone simulated here; `reply` is called exactly once. */
  performForNode(op: DroneOp, node: string, reply: (result: OpResult) => void): void;
  /** A command's `done` message (already JSON) for a session connected here. */
  deliverDone(session: string, text: string): void;
  /** A session on another node closed (or its node died): it loses its leases here. */
  remoteSessionClosed(session: string, reason?: string): void;
  /** Pilots of drones simulated here whose sessions live on other nodes: session to node. */
  remotePilots(): Map<string, string>;
  /** An ownership round read every drone's owner (`Broker.ownerOf`): commands in flight on a node that no longer flies their drone fail. */
  ownersRead(): void;
}
