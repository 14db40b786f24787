/**
 * What a client can ask of a vehicle (claim, release, command) as plain
 * data, and how the node that flies the vehicle carries it out.
 *
 * An endpoint turns a message into a `DroneOp`; the runtime runs it at once
 * when the vehicle is flown here, or the cluster forwards it to the node that
 * owns the vehicle and brings the `OpResult` back. Keeping the operation
 * serialisable is what lets both paths share one implementation.
 * Pure apart from the fleet it is given: no sockets, no clock reads, and no
 * wire formats (refusals are domain `Refusal`s; the endpoint words them).
 */
import { mayFly, mayTakeOver, type Identity } from "../identity/rights.ts";
import { vehicleRefusal, type Refusal } from "../refusal.ts";
import { resolvePilotCommand, type PilotCommand } from "../vehicle/geo-goto.ts";
import type { CommandPlan } from "../vehicle/vehicle.ts";
import type { MissionCommand } from "../mission/mission.ts";
import type { CommandAnswer, Fleet } from "./fleet.ts";

/** A request id as the client sent it, carried back untouched. */
export type RequestId = string | number;

/** Who asked for a command, so its answer and completion can find their way back. */
export interface CommandOrigin {
  session: string;
  /** The request id of a JSON command, if it had one. */
  requestId?: RequestId;
  /** The command as the client wrote it, for replies and logs. */
  label: string;
  /** How the client talks: JSON clients get a `done` message; text and controller clients do not. */
  form: "json" | "text" | "controller";
  /** When the command arrived, seconds on the fleet's clock, for latency metrics. */
  receivedAt?: number;
  /** In a cluster, the node the client is connected to, when that is not the node flying the vehicle. */
  node?: string;
  /** The signed-in user who sent it (a JWT's `sub`), so its completion names a person (the recorder stores it). */
  user?: string;
}

/**
 * Every op carries its sender's identity, so the node that flies the vehicle
 * (here or, forwarded, another) decides on the same rights.
 */
export type DroneOp = { identity: Identity } & (
  | {
      kind: "claim";
      drone: string;
      session: string;
      /** Take the lease from its pilot (needs `admin`). */
      force?: boolean;
      /** The claiming session's resume token, kept with the lease (secret: never logged). */
      resume?: string;
      /** A lost pilot's resume token, presented to take back its reserved lease (secret: never logged). */
      reclaim?: string;
    }
  | { kind: "release"; drone: string; session: string; /** Release whoever flies it (needs `admin`). */ force?: boolean }
  | {
      kind: "command";
      drone: string;
      session: string;
      /** What the client asked; a `gotogeo` becomes a `goto` from the vehicle's home where the vehicle is flown. */
      command: PilotCommand;
      /** The command as the client wrote it. */
      label: string;
      form: CommandOrigin["form"];
      requestId?: RequestId;
      /** The tutorial dialect's `up` on the ground: take off first, then climb. */
      takeoffFirstIfLanded?: boolean;
    }
  | {
      kind: "mission";
      drone: string;
      session: string;
      command: MissionCommand;
      /** The message as the client named it (`mission`, `mission_start`, ...), for its ack and `done`. */
      label: string;
      requestId?: RequestId;
    }
);

/** What an op's sender is told. */
export type OpResult = { ok: true; data: OpData } | { ok: false; error: Refusal };

/** The acknowledgement of each op. */
export type OpData =
  | { drone: string; role: "pilot"; pilot: string }
  | { drone: string; role: "observer"; pilot: null }
  | { drone: string; command: string; target: CommandPlan }
  /** A mission command accepted: `items` is how many the mission holds now. */
  | { drone: string; mission: string; items: number };

/** Where the op came from, for routing the command's `done` back. */
export interface OpContext {
  /** Seconds on the fleet's clock. */
  now: number;
  /** The node whose client sent it, when it came from another node. */
  node?: string;
}

/** An op's result now, or the ticket of the fleet notice that will answer it (a vehicle that answers later). */
export type OpOutcome = OpResult | { ok: "pending"; ticket: number };

/** Carries out an op on a vehicle this node flies. */
export function executeOp(fleet: Fleet<CommandOrigin>, op: DroneOp, context: OpContext): OpOutcome {
  const forbidden = rightsRefusal(op);
  if (forbidden !== null) return { ok: false, error: forbidden };
  switch (op.kind) {
    case "claim": {
      const { identity } = op;
      const credentials = {
        ...(op.resume === undefined ? {} : { resume: op.resume }),
        ...(op.reclaim === undefined ? {} : { reclaim: op.reclaim }),
        ...(op.force === true ? { force: true } : {}),
        ...(identity.source === "jwt" ? { user: identity.name === undefined ? { user: identity.user } : { user: identity.user, name: identity.name } } : {}),
      };
      const claimed = fleet.claim(op.drone, op.session, context.now, credentials);
      return claimed.ok ? { ok: true, data: { drone: op.drone, role: "pilot", pilot: op.session } } : { ok: false, error: claimed.refusal };
    }
    case "release": {
      const released = fleet.release(op.drone, op.session, context.now, op.force === true);
      return released.ok ? { ok: true, data: { drone: op.drone, role: "observer", pilot: null } } : { ok: false, error: released.refusal };
    }
    case "command": {
      const origin: CommandOrigin = {
        session: op.session,
        label: op.label,
        form: op.form,
        receivedAt: context.now,
        ...(op.requestId === undefined ? {} : { requestId: op.requestId }),
        ...(context.node === undefined ? {} : { node: context.node }),
        ...(op.identity.source === "jwt" ? { user: op.identity.user } : {}),
      };
      // Resolved here, on the node that flies the vehicle: its home is the one the goto is measured from.
      const resolved = resolvePilotCommand(op.command, fleet.state(op.drone));
      if (!resolved.ok) return { ok: false, error: resolved.refusal };
      const takeoffFirst = op.takeoffFirstIfLanded === true && fleet.state(op.drone).state === "landed";
      const result = takeoffFirst
        ? fleet.command(op.drone, { name: "takeoff" }, origin, context.now, resolved.command)
        : fleet.command(op.drone, resolved.command, origin, context.now);
      return result.ok === "pending" ? result : commandResult(op, result);
    }
    case "mission": {
      const origin: CommandOrigin = {
        session: op.session,
        label: op.label,
        form: "json",
        receivedAt: context.now,
        ...(op.requestId === undefined ? {} : { requestId: op.requestId }),
        ...(context.node === undefined ? {} : { node: context.node }),
        ...(op.identity.source === "jwt" ? { user: op.identity.user } : {}),
      };
      const answer = fleet.mission(op.drone, op.command, origin, context.now);
      return answer.ok ? { ok: true, data: { drone: op.drone, mission: op.label, items: answer.items } } : { ok: false, error: answer.refusal };
    }
  }
}

/**
 * Whether the op's identity may do it: `fly:<drone>` to claim, release and
 * command; `admin` to force. Null when it may. Checked where the op runs, so
 * a forwarded op is judged on the owner node by the same rule.
 */
export function rightsRefusal(op: DroneOp): Refusal | null {
  const { rights, user } = op.identity;
  if (!mayFly(rights, op.drone)) {
    return vehicleRefusal("forbidden", `${user} may not fly ${op.drone}: the token's scope needs fly:${op.drone} or fly:*`);
  }
  if ((op.kind === "claim" || op.kind === "release") && op.force === true && !mayTakeOver(rights)) {
    return vehicleRefusal("forbidden", `${user} may not ${op.kind} ${op.drone} by force: the token's scope needs admin`);
  }
  return null;
}

/** A command's answer (now, or from a fleet `answer` notice) as the op result its sender gets. */
export function commandResult(op: { drone: string; label: string }, answer: CommandAnswer): OpResult {
  return answer.ok ? { ok: true, data: { drone: op.drone, command: op.label, target: answer.plan } } : { ok: false, error: answer.refusal };
}
