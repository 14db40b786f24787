/** Sample wire data for the protocol's unit tests. */
import type { TelemetryData } from "../../protocol/messages.ts";

/** A hovering drone's frame: alpha at (0, 20, 2), heading north, piloted by abcd1234. */
export const hoveringFrame: TelemetryData = {
  drone: "alpha",
  seq: 7,
  time: 1_763_712_000_123,
  state: "hovering",
  lat: -35.3630813,
  lon: 149.16523,
  altitudeMsl: 586,
  position: { x: 0, y: 20, z: 2 },
  velocity: { x: 0, y: 0, z: 0 },
  heading: 0,
  speed: 0,
  battery: 97.9,
  voltage: 16.74,
  armed: true,
  mode: "GUIDED",
  gps: { fix: "3d", satellites: 10 },
  link: { status: "up", lastHeard: 1_763_712_000_100 },
  flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false, failsafe: false },
  target: null,
  pilot: "abcd1234",
};
