/**
 * A fixed-rate tick against a deadline, for the telemetry loop.
 *
 * Not `setInterval`: Bun sends what a tick published after the callback
 * returns, and an interval measured from there stretches every period by
 * that sending time. Each deadline advances by one period instead. A tick
 * that ends up to `catchUpPeriods` periods past its deadline keeps the
 * schedule: the ticks it delayed run at once, in the same turn (so Bun sends
 * their frames to each socket in one write, as bare Bun's reference loop
 * does), so a short stall (a collection, a busy moment of the machine) costs
 * viewers no frames. A tick later than that starts the schedule again from
 * now (half a period out), so an overloaded server runs its ticks one after
 * another rather than piling them up. Owns only the timer; what a tick does
 * is the caller's.
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

/**
 * How many periods past its deadline a tick may end and still have the
 * ticks it delayed made up. When one tick's sending fills most of its
 * period (many viewers at a high rate), a stall of a few milliseconds makes
 * a tick a period late; skipping the ticks it delayed would cost every
 * viewer frames (docs/benchmarks.md, telemetry-tick). Beyond this the server
 * is overloaded rather than stalled, and making up would only pile work up.
 */
const catchUpPeriods = 2;

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
    let nowMs = clocks.monotonicMs();
    // Ticks already due are made up in this same turn, so that Bun sends their frames to each socket in one write.
    for (let madeUp = 0; madeUp < catchUpPeriods && nowMs - dueMs >= periodMs && nowMs - dueMs <= catchUpPeriods * periodMs; madeUp++) {
      dueMs += periodMs;
      tick();
      nowMs = clocks.monotonicMs();
    }
    dueMs = nowMs - dueMs > catchUpPeriods * periodMs ? nowMs + periodMs / 2 : dueMs + periodMs;
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
