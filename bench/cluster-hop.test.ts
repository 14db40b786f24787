import { describe, expect, test } from "bun:test";
import { pairArrivals, percentilesOf, quantile } from "./cluster-hop.ts";

describe("pairArrivals", () => {
  test("pairs frames by seq: second viewer's arrival minus the first's, in µs", () => {
    const first = new Map([[1, 10.0], [2, 20.0], [3, 30.0]]);
    const second = new Map([[1, 10.15], [2, 20.3], [3, 29.99]]);
    const pairs = pairArrivals(first, second);
    expect(pairs.hopsMicros.map(Math.round)).toEqual([150, 300, -10]);
    expect(pairs.unpaired).toBe(0);
  });

  test("counts frames only one viewer saw as unpaired", () => {
    const pairs = pairArrivals(new Map([[1, 1], [2, 2]]), new Map([[2, 2.1], [3, 3.1], [4, 4.1]]));
    expect(pairs.hopsMicros.length).toBe(1);
    expect(pairs.unpaired).toBe(3);
  });
});

describe("quantile", () => {
  test("nearest rank, whatever the input order", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile(values, 1)).toBe(100);
    expect(quantile(values, 0)).toBe(1);
  });

  test("NaN for no values; the only value for one", () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(quantile([7], 0.99)).toBe(7);
  });

  test("does not reorder the caller's array", () => {
    const values = [3, 1, 2];
    quantile(values, 0.5);
    expect(values).toEqual([3, 1, 2]);
  });
});

test("percentilesOf reports count, p50 and p99", () => {
  expect(percentilesOf([5, 1, 3])).toEqual({ count: 3, p50Micros: 3, p99Micros: 5 });
});
