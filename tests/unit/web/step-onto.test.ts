/** Taps that add up: a move tapped while one is in flight goes on from that move's target. */
import { expect, test } from "bun:test";
import { stepOnto } from "../../../client/web/ui/step-onto.ts";
import { hoveringFrame } from "../protocol-fixtures.ts";

const moving = { ...hoveringFrame, state: "moving" as const, position: { x: 0, y: 3, z: 2 }, target: { x: 0, y: 5, z: 2, heading: 0 } };

test("a second Forward 5 while the first flies ends 10 m ahead, not 8 (from where it is)", () => {
  expect(stepOnto(moving, "forward", 5)).toEqual([0, 10, 2]);
  expect(stepOnto(moving, "right", 5)).toEqual([5, 5, 2]);
  expect(stepOnto(moving, "back", 5)).toEqual([0, 0, 2]);
  expect(stepOnto({ ...moving, target: { x: 0, y: 5, z: 2, heading: 90 } }, "forward", 5)).toEqual([5, 5, 2]);
  expect(stepOnto(moving, "up", 3)).toEqual([0, 5, 5]);
  expect(stepOnto(moving, "down", 5)).toEqual([0, 5, 0.5]);
});

test("nothing in flight, a hovering drone, or a turn: the tap goes as it is", () => {
  expect(stepOnto(null, "forward", 5)).toBeNull();
  expect(stepOnto({ ...moving, target: null }, "forward", 5)).toBeNull();
  expect(stepOnto({ ...moving, state: "hovering" }, "forward", 5)).toBeNull();
  expect(stepOnto({ ...moving, state: "returning" }, "forward", 5)).toBeNull();
  expect(stepOnto(moving, "cw", 45)).toBeNull();
});
