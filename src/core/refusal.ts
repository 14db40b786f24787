/**
 * Why the core said no, in domain terms: a code, a sentence for a person,
 * and what the refusal is about (the vehicle named, or one of the command's
 * arguments by its model name).
 *
 * Owns only this vocabulary. It knows nothing of the wire: the protocol layer
 * turns a `Refusal` into an error message and names the field the client
 * wrote (`data.drone`, `data.args[0]`, `args[0]`).
 */
import type { CommandRejectionCode } from "./drone/types.ts";

/** Every refusal the fleet, a vehicle or the cluster can give. */
export type RefusalCode =
  /** No vehicle by that id. */
  | "unknown_drone"
  /** The session does not hold the vehicle's lease. */
  | "not_pilot"
  /** Another session holds the lease. */
  | "lease_taken"
  /** The sender's identity has no right to this: `fly:<drone>` to claim or command, `admin` to force. */
  | "forbidden"
  /** The vehicle cannot be reached now: its node did not answer, a takeover is in progress, its link is down, or it did not acknowledge in time. */
  | "drone_unavailable"
  /** The vehicle has no such command: a simulated drone has no arm, disarm or mode. */
  | "not_supported"
  /** A mission command with no mission to act on (none uploaded, none running, none paused). */
  | "no_mission"
  /** Refusals from the vehicle itself, in the flight model's vocabulary. */
  | CommandRejectionCode;

/**
 * What a refusal is about: the vehicle named in the request, one argument of
 * the command (model name, e.g. `distance`, `z`), or one item of a mission
 * (its index, and the item's field when one is to blame).
 */
export type RefusalSubject = { vehicle: true } | { argument: string } | { item: number; field?: string };

export interface Refusal {
  code: RefusalCode;
  message: string;
  about?: RefusalSubject;
}

/** A refusal about the vehicle the request named. */
export function vehicleRefusal(code: RefusalCode, message: string): Refusal {
  return { code, message, about: { vehicle: true } };
}
