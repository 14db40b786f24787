/** The per-subscription rate limit (`maxHz`) as a pure decision on the offered frames' times. */
import { expect, test } from "bun:test";
import { FrameThrottle } from "../../../src/core/flow/throttle.ts";

/** The times (ms) of the frames taken out of frames offered every `periodMs` from `startMs`, `count` of them. */
function taken(throttle: FrameThrottle, startMs: number, periodMs: number, count: number, jitterMs: (i: number) => number = () => 0): number[] {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = startMs + i * periodMs + jitterMs(i);
    if (throttle.offer(at)) times.push(at);
  }
  return times;
}

test("10 Hz frames at maxHz 2: the first at once, then one every 500 ms", () => {
  expect(taken(new FrameThrottle(2), 1000, 100, 21)).toEqual([1000, 1500, 2000, 2500, 3000]);
});

test("a frame a little early is taken, so tick jitter does not cost a tick, and the rate stays exact", () => {
  // Every frame 1 ms early or late, alternately: still exactly 2 a second over 10 s.
  const times = taken(new FrameThrottle(2), 0, 100, 100, (i) => (i % 2 === 0 ? -1 : 1));
  expect(times.length).toBe(20);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(450);
});

test("never more than maxHz: 100 Hz frames at maxHz 1 over 10 s give one a second, on the second", () => {
  expect(taken(new FrameThrottle(1), 0, 10, 1000)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
});

test("a frame is taken early only when it is nearer its due time than the next one will be", () => {
  // 10 Hz frames at maxHz 1: the frame 100 ms early is not taken (the next is on time); one 2 ms early is.
  expect(taken(new FrameThrottle(1), 0, 100, 30, (i) => (i === 20 ? -2 : 0))).toEqual([0, 1000, 1998]);
});

test("maxHz above the frame rate passes every frame", () => {
  expect(taken(new FrameThrottle(50), 0, 100, 10).length).toBe(10);
});

test("after a pause in the stream the schedule starts again from the next frame, with no burst", () => {
  const throttle = new FrameThrottle(2);
  expect(taken(throttle, 0, 100, 10)).toEqual([0, 500]);
  // Nothing from 900 to 5000: the next frame is taken, the one after it waits a whole interval.
  expect(taken(throttle, 5000, 100, 11)).toEqual([5000, 5500, 6000]);
});

test("a clock that steps back does not stop the frames", () => {
  const throttle = new FrameThrottle(1);
  expect(throttle.offer(100_000)).toBe(true);
  expect(throttle.offer(50_000)).toBe(true);
  expect(throttle.offer(50_500)).toBe(false);
  expect(throttle.offer(51_000)).toBe(true);
});

test("a frame sent outside the schedule (a resume's latest) pushes the next one an interval on", () => {
  const throttle = new FrameThrottle(2);
  throttle.sent(1000);
  expect(taken(throttle, 1100, 100, 10)).toEqual([1500, 2000]);
});

test("a maxHz that is not a positive number is refused with what was received", () => {
  expect(() => new FrameThrottle(0)).toThrow("maxHz must be a positive number of frames per second: received 0");
  expect(() => new FrameThrottle(Number.NaN)).toThrow("received NaN");
});
