/**
 * `gotogeo`: fly to a latitude and longitude at an altitude above home,
 * the form a map click gives. The vehicle's own home turns it into the
 * metres-from-home `goto` every vehicle already flies, so the geofence,
 * the ceiling and the minimum altitude are checked exactly as for any goto.
 *
 * Pure: owns the translation and its refusals; knows no wire format.
 */
import { homeFromPoint, offsetFromHome } from "./geodesy.ts";
import { vehicleRefusal, type Refusal } from "../refusal.ts";
import type { VehicleCommand, VehicleState } from "./vehicle.ts";

/** A goto by geographic coordinates: WGS-84 degrees, and metres above the vehicle's home (as goto's `z`). */
export interface GeoGotoCommand {
  name: "gotogeo";
  lat: number;
  lon: number;
  altitude: number;
}

/** Anything a pilot may send a vehicle: its own commands, and a goto by coordinates. */
export type PilotCommand = VehicleCommand | GeoGotoCommand;

/**
 * The command a vehicle flies for `command`: itself, or for `gotogeo` the
 * `goto` to the same point in metres from the vehicle's home. Refused when
 * the vehicle has not yet said where it is (a MAVLink vehicle before its
 * first position and home).
 */
export function resolvePilotCommand(command: PilotCommand, state: Pick<VehicleState, "geo" | "position">): { ok: true; command: VehicleCommand } | { ok: false; refusal: Refusal } {
  if (command.name !== "gotogeo") return { ok: true, command };
  if (state.geo === null) return { ok: false, refusal: vehicleRefusal("drone_unavailable", "gotogeo needs the vehicle's position on Earth, which it has not reported yet: wait for its GPS, or use goto X Y Z in metres from home") };
  const home = homeFromPoint(state.geo, state.position.x, state.position.y);
  const { x, y } = offsetFromHome(home, command);
  return { ok: true, command: { name: "goto", x, y, z: command.altitude } };
}
