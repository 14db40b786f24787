/**
 * What a client can ask of a drone (claim, release, command, status) as
 * plain data, and how the node that simulates the drone carries it out.
 *
 * An endpoint turns a message into a `DroneOp`; the flight service runs it
 * at once when the drone is simulated here, or the cluster forwards it to
 * the node that owns the drone and brings the `OpResult` back. Keeping the
 * operation serialisable is what lets both paths share one implementation.
 * Pure apart from the fleet it is given: no sockets, no clock reads.
 */
import type { DroneCommand } from "../drone/types.ts";
import type { CommandOrigin, Fleet } from "./fleet.ts";
import type { DroneRequest, ProtocolError, RequestId, TelemetryData } from "../../../protocol/index.ts";

export type DroneOp =
  | { kind: "claim"; drone: string; session: string }
  | { kind: "release"; drone: string; session: string }
  | {
      kind: "command";
      drone: string;
      session: string;
      request: DroneRequest;
      /** The command as the client wrote it. */
      label: string;
      form: CommandOrigin["form"];
      requestId?: RequestId;
      /** The tutorial dialect's `up` on the ground: take off first, then climb. */
      takeoffFirstIfLanded?: boolean;
    }
  | { kind: "status"; drone: string };

export type OpResult =
  | { ok: true; data: Record<string, unknown> }
  | { ok: false; error: ProtocolError };

/** Where the op came from, for routing the command's `done` back. */
export interface OpContext {
  /** Seconds on the fleet's clock. */
  now: number;
  /** The node whose client sent it, when it came from another node. */
  node?: string;
  /** The drone's telemetry as of now, for `status`. */
  snapshot(drone: string): TelemetryData;
}

/** Carries out an op on a drone this node simulates. */
export function executeOp(fleet: Fleet, op: DroneOp, context: OpContext): OpResult {
  switch (op.kind) {
    case "claim": {
      const claimed = fleet.claim(op.drone, op.session);
      return claimed.ok ? { ok: true, data: { drone: op.drone, role: "pilot", pilot: op.session } } : claimed;
    }
    case "release": {
      const released = fleet.release(op.drone, op.session, context.now);
      return released.ok ? { ok: true, data: { drone: op.drone, role: "observer", pilot: null } } : released;
    }
    case "status":
      return { ok: true, data: { drone: op.drone, command: "status", status: context.snapshot(op.drone) } };
    case "command": {
      const origin: CommandOrigin = {
        session: op.session,
        label: op.label,
        form: op.form,
        receivedAt: context.now,
        ...(op.requestId === undefined ? {} : { requestId: op.requestId }),
        ...(context.node === undefined ? {} : { node: context.node }),
      };
      const takeoffFirst = op.takeoffFirstIfLanded === true && fleet.drone(op.drone).state === "landed";
      const result = takeoffFirst
        ? fleet.command(op.drone, { name: "takeoff" }, origin, op.request as DroneCommand)
        : fleet.command(op.drone, op.request as DroneCommand, origin);
      return result.ok ? { ok: true, data: { drone: op.drone, command: op.label, target: result.target } } : result;
    }
  }
}
