/** The lines every text client reads: the error line and the status line. */
import { expect, test } from "bun:test";
import { describeStatus, errorLine } from "../../protocol/text.ts";
import { hoveringFrame } from "./protocol-fixtures.ts";

/** Heading and battery that show the rounding. */
const frame = { ...hoveringFrame, heading: 359.6, battery: 97.94 };

test("the status line: position to the centimetre, heading rounded, battery to a tenth, the pilot as seen by the reader", () => {
  expect(describeStatus(frame, "abcd1234")).toBe("alpha hovering x=0.00 y=20.00 z=2.00 heading=360 speed=0.00 battery=97.9% pilot=you");
  expect(describeStatus(frame, "ffff0000")).toEndWith("pilot=abcd1234");
  expect(describeStatus(frame, null)).toEndWith("pilot=abcd1234");
  expect(describeStatus({ ...frame, pilot: null }, null)).toEndWith("pilot=none");
});

test("the error line: code, then message", () => {
  expect(errorLine({ code: "geofence", message: "target altitude 300 m exceeds the 120 m ceiling" })).toBe("error geofence: target altitude 300 m exceeds the 120 m ceiling");
});
