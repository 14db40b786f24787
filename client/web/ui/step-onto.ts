/**
 * Steps that add up: a move tapped while the previous one is still flying
 * goes on from where that one ends, not from where the drone is now. Two
 * taps of Forward 5 m end 10 m ahead, as a pilot expects, instead of the
 * second superseding the first from mid-way (6 m).
 *
 * Pure: the frame and the step in, the absolute `goto` out (or null when the
 * tap should be sent as it is: nothing in flight, a turn, or a drone that is
 * not moving toward a target).
 */
import type { TelemetryData } from "../../../protocol/index.ts";

/** The moves a tap can add onto a move in flight, with their bearing from the heading (degrees clockwise) or vertical sense. */
const horizontal: Readonly<Record<string, number>> = { forward: 0, right: 90, back: 180, left: -90 };
const vertical: Readonly<Record<string, number>> = { up: 1, down: -1 };

/** Rounds to centimetres, as frames and targets are. */
function centimetres(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * The `goto` arguments a tapped move becomes when it adds onto the move in
 * flight, or null to send the move as it is.
 */
export function stepOnto(frame: TelemetryData | null, move: string, metres: number): [x: number, y: number, z: number] | null {
  if (frame === null || frame.target === null || frame.state !== "moving") return null;
  const { x, y, z, heading } = frame.target;
  const bearing = horizontal[move];
  if (bearing !== undefined) {
    const radians = ((heading + bearing) * Math.PI) / 180;
    return [centimetres(x + Math.sin(radians) * metres), centimetres(y + Math.cos(radians) * metres), z];
  }
  const sense = vertical[move];
  if (sense !== undefined) return [x, y, centimetres(Math.max(0.5, z + sense * metres))];
  return null;
}
