/**
 * Who may fly the selected drone from this page, and how to say why not.
 *
 * Pure: connection state, session and the drone's pilot in; a role, a
 * yes/no and one sentence out. The pilot panel and the flight controls show
 * the same answer, so it is decided here once.
 */
import type { ConnectionState } from "../sdk/index.ts";
import { shortSession } from "./ui/format.ts";
import { isReplayId } from "../../protocol/index.ts";

export type Role = "pilot" | "observer" | "free" | "offline";

export interface Permission {
  role: Role;
  /** Whether flight commands may be sent. */
  canFly: boolean;
  /** Whether the Claim button makes sense (the drone has no pilot). */
  canClaim: boolean;
  /** Whether the Release button makes sense (this session is the pilot). */
  canRelease: boolean;
  /** What the page says next to the controls. */
  reason: string;
}

export interface PermissionInput {
  connection: ConnectionState;
  drone: string | null;
  session: string | null;
  /** Session id of the drone's pilot, or null when nobody flies it. */
  pilot: string | null;
}

export function flightPermission({ connection, drone, session, pilot }: PermissionInput): Permission {
  const none = { canFly: false, canClaim: false, canRelease: false };
  if (connection !== "open") {
    const reason = connection === "reconnecting" ? "Reconnecting to the server: controls return when the link is back" : connection === "connecting" ? "Connecting to the server…" : "Disconnected from the server";
    return { role: "offline", ...none, reason };
  }
  if (drone === null) return { role: "offline", ...none, reason: "Waiting for the server's drone list…" };
  // A replay of a recorded flight is watched, never flown: nobody can claim it.
  if (isReplayId(drone)) return { role: "observer", ...none, reason: `${drone} is a recorded flight played back: watch it, or steer the replay in Flights` };
  if (pilot !== null && pilot === session) return { role: "pilot", canFly: true, canClaim: false, canRelease: true, reason: `You fly ${drone}` };
  if (pilot !== null) return { role: "observer", ...none, reason: `Observer: ${drone} is flown by session ${shortSession(pilot)}` };
  return { role: "free", ...none, canClaim: true, reason: `Claim ${drone} to fly` };
}
