import { describe, expect, test } from "bun:test";
import { FrameSampler } from "../../../src/core/recorder/sampler.ts";

/** Times (ms) of the frames kept from a stream at `hz` for `seconds`, with a fixed jitter pattern. */
function kept(sampler: FrameSampler, hz: number, seconds: number, airborne: (time: number) => boolean, start = 0): number[] {
  const times: number[] = [];
  for (let i = 0; i < hz * seconds; i++) {
    const time = start + (i * 1000) / hz + (i % 3) - 1;
    if (sampler.keep(time, airborne(time))) times.push(time);
  }
  return times;
}

describe("FrameSampler", () => {
  test("keeps every frame when the record rate is the telemetry rate", () => {
    expect(kept(new FrameSampler(10), 10, 2, () => true)).toHaveLength(20);
  });

  test("decimates to the record rate while airborne and to 1 Hz on the ground", () => {
    expect(kept(new FrameSampler(2), 10, 10, () => true)).toHaveLength(20);
    expect(kept(new FrameSampler(10), 10, 10, () => false)).toHaveLength(10);
  });

  test("keeps the first frame after a takeoff and after a landing", () => {
    const sampler = new FrameSampler(1);
    const times = kept(sampler, 10, 3, (time) => time >= 1450 && time < 1750);
    expect(times).toContain(1499);
    expect(times).toContain(1799);
    expect(times).toEqual([-1, 1000, 1499, 1799, 2800]);
  });

  test("a record rate must be positive", () => {
    expect(() => new FrameSampler(0)).toThrow("'recordHz' must be a positive number: received 0");
  });
});
