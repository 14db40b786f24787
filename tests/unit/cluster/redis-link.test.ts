/** The reconnect backoff: doubling from 100 ms to a 5 s ceiling, with equal jitter (half fixed, half random). */
import { expect, test } from "bun:test";
import { retryDelayMs } from "../../../src/runtime/cluster/redis-link.ts";

const lowest = () => 0;
const highest = () => 1 - Number.EPSILON;

test("the first retry waits 50 to 100 ms", () => {
  expect(retryDelayMs(1, lowest)).toBe(50);
  expect(retryDelayMs(1, highest)).toBeCloseTo(100, 9);
  expect(retryDelayMs(1, () => 0.5)).toBe(75);
});

test("the ceiling doubles with each failure", () => {
  const ceilings = [1, 2, 3, 4, 5, 6].map((failures) => retryDelayMs(failures, lowest) * 2);
  expect(ceilings).toEqual([100, 200, 400, 800, 1600, 3200]);
});

test("the ceiling stops at 5 s, however many failures", () => {
  for (const failures of [7, 8, 20, 1000, Number.MAX_SAFE_INTEGER]) {
    expect(retryDelayMs(failures, lowest)).toBe(2500);
    expect(retryDelayMs(failures, highest)).toBeCloseTo(5000, 9);
  }
});

test("zero or negative failures count as the first", () => {
  expect(retryDelayMs(0, lowest)).toBe(50);
  expect(retryDelayMs(-3, highest)).toBeCloseTo(100, 9);
});

test("the jitter spreads uniformly over the upper half of the ceiling, never outside it", () => {
  for (let i = 0; i <= 100; i++) {
    const random = i / 101;
    const delay = retryDelayMs(4, () => random);
    expect(delay).toBeGreaterThanOrEqual(400);
    expect(delay).toBeLessThan(800);
    expect(delay).toBeCloseTo(400 + random * 400, 9);
  }
});

test("without an injected random it stays within the bounds", () => {
  for (let i = 0; i < 200; i++) {
    const delay = retryDelayMs(3);
    expect(delay).toBeGreaterThanOrEqual(200);
    expect(delay).toBeLessThanOrEqual(400);
  }
});
