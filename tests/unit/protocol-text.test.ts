/** The lines every text client reads: the error line and the status line. */
import { expect, test } from "bun:test";
import { describeStatus, errorLine } from "../../protocol/text.ts";
import type { TelemetryData } from "../../protocol/messages.ts";

const frame: TelemetryData = {
  drone: "alpha",
  seq: 7,
  time: 0,
  state: "hovering",
  position: { x: 0, y: 20, z: 2 },
  velocity: { x: 0, y: 0, z: 0 },
  heading: 359.6,
  speed: 0,
  battery: 97.94,
  flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false, failsafe: false },
  target: null,
  pilot: "abcd1234",
};

test("the status line: position to the centimetre, heading rounded, battery to a tenth, the pilot as seen by the reader", () => {
  expect(describeStatus(frame, "abcd1234")).toBe("alpha hovering x=0.00 y=20.00 z=2.00 heading=360 speed=0.00 battery=97.9% pilot=you");
  expect(describeStatus(frame, "ffff0000")).toEndWith("pilot=abcd1234");
  expect(describeStatus(frame, null)).toEndWith("pilot=abcd1234");
  expect(describeStatus({ ...frame, pilot: null }, null)).toEndWith("pilot=none");
});

test("the error line: code, then message", () => {
  expect(errorLine({ code: "geofence", message: "target altitude 300 m exceeds the 120 m ceiling" })).toBe("error geofence: target altitude 300 m exceeds the 120 m ceiling");
});
