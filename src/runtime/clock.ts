/**
 * The clocks the running server reads: one monotonic, for steps, timers and
 * rate limits; one wall clock, stamped into telemetry frames.
 *
 * Everything clocked takes a `Clocks` so tests can inject their own and step
 * time by hand; the pure layers take time as arguments instead.
 */
export interface Clocks {
  /** Monotonic milliseconds, for simulation steps and timers. */
  monotonicMs(): number;
  /** Unix milliseconds, stamped into telemetry frames. */
  wallMs(): number;
}

export const systemClocks: Clocks = { monotonicMs: () => performance.now(), wallMs: () => Date.now() };
