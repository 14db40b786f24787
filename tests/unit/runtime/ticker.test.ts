/** The deadline ticker on a fake clock and fake timers: periods do not stretch, a short stall is made up, overload does not pile up. */
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

test("a tick more than two periods late restarts the schedule half a period out instead of running back to back", () => {
  const time = fakeTime();
  const starts: number[] = [];
  startTicker(100, time.clocks, () => {
    starts.push(time.clocks.monotonicMs());
    time.advanceInTick(starts.length === 2 ? 250 : 0);
  }, time.timers);
  for (let i = 0; i < 4; i++) time.fire();
  expect(starts).toEqual([100, 200, 500, 600]);
});

test("a tick that ends up to two periods late keeps the schedule: the delayed tick runs at once, in the same turn, the next on time", () => {
  const time = fakeTime();
  const starts: number[] = [];
  const turns: number[] = [];
  startTicker(100, time.clocks, () => {
    starts.push(time.clocks.monotonicMs());
    time.advanceInTick(starts.length === 2 ? 150 : 0);
  }, time.timers);
  for (let i = 0; i < 4; i++) turns.push(time.fire());
  // The tick due at 300 runs at 350, when the one due at 200 is done, in that timer's turn: no tick is skipped.
  expect(starts).toEqual([100, 200, 350, 400, 500]);
  expect(turns).toEqual([100, 200, 400, 500]);
});

test("a stall of up to two periods is made up by ticks back to back, then the grid holds", () => {
  const time = fakeTime();
  const starts: number[] = [];
  startTicker(10, time.clocks, () => {
    starts.push(time.clocks.monotonicMs());
    time.advanceInTick(starts.length === 1 ? 20 : 2);
  }, time.timers);
  for (let i = 0; i < 4; i++) time.fire();
  // Due at 10, 20, 30, 40, ...: the first tick ends at 30, the two it delayed follow back to back in its turn.
  expect(starts).toEqual([10, 30, 32, 40, 50, 60]);
});

test("stop cancels the pending tick; a bad period is refused", () => {
  const time = fakeTime();
  const ticker = startTicker(50, time.clocks, () => {}, time.timers);
  expect(time.pending).not.toBeNull();
  ticker.stop();
  expect(time.pending).toBeNull();
  expect(() => startTicker(0, time.clocks, () => {}, time.timers)).toThrow("'periodMs' must be a positive number: received 0");
});
