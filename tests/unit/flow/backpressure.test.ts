/** The slow-consumer rule as a pure decision. */
import { expect, test } from "bun:test";
import { backpressureVerdict, canResume } from "../../../src/core/flow/backpressure.ts";

const limits = { slowConsumerBytes: 1000, stallSeconds: 5 };

test("a socket over the limit stalls; under it nothing changes", () => {
  expect(backpressureVerdict(1000, null, 0, limits)).toBe("keep");
  expect(backpressureVerdict(1001, null, 0, limits)).toBe("stall");
});

test("a stalled socket resumes under half the limit, and is closed after stallSeconds over it", () => {
  expect(backpressureVerdict(500, 10_000, 10_100, limits)).toBe("resume");
  expect(backpressureVerdict(501, 10_000, 14_999, limits)).toBe("keep");
  expect(backpressureVerdict(501, 10_000, 15_000, limits)).toBe("close");
  expect(backpressureVerdict(400, 10_000, 60_000, limits)).toBe("resume");
  expect([canResume(500, limits), canResume(501, limits)]).toEqual([true, false]);
});
