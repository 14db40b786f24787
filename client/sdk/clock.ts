/**
 * The SDK's only source of time: what "now" is and how to wait.
 *
 * Owns the clock seam and the system clock behind it. Every other SDK module
 * takes a `SkyportClock` and never reads `Date.now()`, `performance.now()`
 * or the global timers itself, so tests can drive reconnection, staleness and
 * timeouts on a fake clock instead of sleeping.
 */

/** Whatever `setTimeout` returned; handed back to `clearTimeout` untouched. */
export type TimerHandle = unknown;

/** Time as the SDK sees it. */
export interface SkyportClock {
  /**
   * The current time in milliseconds since the Unix epoch (the scale of
   * `Date.now()`): durations are differences of it, and a `ReconnectInfo.at`
   * read from it can be compared with the page's own `Date.now()`.
   */
  now(): number;
  /** Runs `callback` once, `delayMs` from now. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer that has not fired yet; a fired or cancelled one is ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now()` and the global timers. */
export const systemClock: SkyportClock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, delayMs),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
};
