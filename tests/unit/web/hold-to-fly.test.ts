/** Hold-to-fly's pure parts: the velocity of the held controls, and of a gamepad's sticks. */
import { expect, test } from "bun:test";
import { velocityOfSticks } from "../../../client/web/ui/gamepad.ts";
import { holdRates, velocityOf } from "../../../client/web/ui/hold-to-fly.ts";
import type { FlightAction } from "../../../client/web/ui/keymap.ts";

const held = (...actions: FlightAction[]) => velocityOf(new Set(actions));

test("each held control sets its axis at its rate; opposites cancel; diagonals keep the horizontal rate", () => {
  expect(held("forward")).toEqual([holdRates.horizontalMetresPerSecond, 0, 0, 0]);
  expect(held("back", "up", "ccw")).toEqual([-3, 0, 1, -45]);
  expect(held("forward", "back")).toEqual([0, 0, 0, 0]);
  const [forward, right] = held("forward", "right");
  expect(Math.hypot(forward, right)).toBeCloseTo(3, 9);
});

test("sticks: the dead zone is still, full travel is the hold rate, up on a stick is negative", () => {
  expect(velocityOfSticks({ axes: [0.1, -0.1, 0.05, 0] })).toEqual([0, 0, 0, 0]);
  expect(velocityOfSticks({ axes: [0, -1, 1, -1] })).toEqual([3, 0, 1, 45]);
  expect(velocityOfSticks({ axes: [1, 0, 0, 0] })).toEqual([0, 3, 0, 0]);
});
