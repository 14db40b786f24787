/** The deadline ticker on a fake clock and fake timers: periods do not stretch, overload does not pile up. */
import { expect, test } from "bun:test";
import { startTicker, type Timers } from "../../../src/runtime/ticker.ts";

/** A clock and timers that move only when the test runs the next timer. */
function fakeTime() {
  let nowMs = 0;
  let next: { run: () => void; at: number } | null = null;
  const timers: Timers = {
    setTimeout: (run, delayMs) => (next = { run, at: nowMs + delayMs }),
    clearTimeout: () => (next = null),
  };
  return {
    clocks: { monotonicMs: () => nowMs, wallMs: () => nowMs },
    timers,
    /** Fires the pending timer at its time; `work` ms pass inside the tick. */
    fire(workMs = 0, work?: () => void) {
      const due = next!;
      next = null;
      nowMs = Math.max(nowMs, due.at);
      const started = nowMs;
      work?.();
      due.run();
      return started;
    },
    advanceInTick(ms: number) {
      nowMs += ms;
    },
    get pending() {
      return next;
    },
  };
}

test("ticks stay on a 100 ms grid although each tick takes 30 ms", () => {
  const time = fakeTime();
  const starts: number[] = [];
  startTicker(100, time.clocks, () => {
    starts.push(time.clocks.monotonicMs());
    time.advanceInTick(30);
  }, time.timers);
  for (let i = 0; i < 5; i++) time.fire();
  expect(starts).toEqual([100, 200, 300, 400, 500]);
});

test("a tick more than a period late restarts the schedule half a period out instead of running back to back", () => {
  const time = fakeTime();
  const starts: number[] = [];
  startTicker(100, time.clocks, () => {
    starts.push(time.clocks.monotonicMs());
    time.advanceInTick(starts.length === 2 ? 250 : 0);
  }, time.timers);
  for (let i = 0; i < 4; i++) time.fire();
  expect(starts).toEqual([100, 200, 500, 600]);
});

test("stop cancels the pending tick; a bad period is refused", () => {
  const time = fakeTime();
  const ticker = startTicker(50, time.clocks, () => {}, time.timers);
  expect(time.pending).not.toBeNull();
  ticker.stop();
  expect(time.pending).toBeNull();
  expect(() => startTicker(0, time.clocks, () => {}, time.timers)).toThrow("'periodMs' must be a positive number: received 0");
});
