/** Tests for bench/chart.ts: panel titles wrapped to their width. */
import { expect, test } from "bun:test";
import { wrapTitle } from "./chart.ts";

test("a title that fits stays on one line", () => {
  expect(wrapTitle("echo 64 conn × 16 in flight, 32 B", 40)).toEqual(["echo 64 conn × 16 in flight, 32 B"]);
});

test("a long title breaks after a comma when one fits, else at a space", () => {
  expect(wrapTitle("fleet 1,000 viewers × 100 drones at 10 Hz, one batch per tick", 45)).toEqual([
    "fleet 1,000 viewers × 100 drones at 10 Hz,",
    "one batch per tick",
  ]);
  expect(wrapTitle("telemetry 10,000 subscribers × 1 drone at 10 Hz", 40)).toEqual(["telemetry 10,000 subscribers × 1 drone", "at 10 Hz"]);
});

test("a second line that is still too long is cut with an ellipsis", () => {
  const [, second] = wrapTitle(`${"a".repeat(10)} ${"b".repeat(30)}`, 12);
  expect(second).toBe(`${"b".repeat(11)}…`);
});
