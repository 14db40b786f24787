/**
 * A fixed-rate tick against a deadline, for the telemetry loop.
 *
 * Not `setInterval`: Bun sends what a tick published after the callback
 * returns, and an interval measured from there stretches every period by
 * that sending time. Each deadline advances by one period instead. A tick
 * more than a period late starts the schedule again from now (half a period
 * out), so an overloaded server runs its ticks one after another rather
 * than piling them up. Owns only the timer; what a tick does is the caller's.
 */
import type { Clocks } from "./clock.ts";

export interface Ticker {
  stop(): void;
}

/** The timer functions the ticker uses; tests pass their own. */
export interface Timers {
  setTimeout(run: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

const globalTimers: Timers = {
  setTimeout: (run, delayMs) => setTimeout(run, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Calls `tick` every `periodMs` on `clocks`' monotonic time until stopped. */
export function startTicker(periodMs: number, clocks: Clocks, tick: () => void, timers: Timers = globalTimers): Ticker {
  if (!(periodMs > 0)) throw new RangeError(`'periodMs' must be a positive number: received ${periodMs}`);
  let dueMs = clocks.monotonicMs() + periodMs;
  let timer: unknown = null;
  const run = () => {
    tick();
    const nowMs = clocks.monotonicMs();
    dueMs = nowMs - dueMs > periodMs ? nowMs + periodMs / 2 : dueMs + periodMs;
    timer = timers.setTimeout(run, Math.max(0, dueMs - nowMs));
  };
  timer = timers.setTimeout(run, periodMs);
  return {
    stop() {
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
  };
}
