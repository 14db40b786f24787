/**
 * How long the battery lasts at the rate it is draining now: a least-squares
 * slope over the recent samples, extrapolated to empty.
 *
 * Pure: samples in (server time), seconds out. No DOM, no clock.
 */
import type { Sample } from "./dashboard-history.ts";

/** The estimate looks at this much of the most recent history, milliseconds. */
export const batteryEstimateWindowMs = 20_000;
/** Fewer samples than this in the window give no estimate (too noisy). */
const minSamples = 5;
/** A drain slower than this, percent per second, is no drain (a drone on the ground): no estimate. */
const minDrainPercentPerSecond = 0.001;

/**
 * Seconds until the battery reaches 0 % at the current drain, or null when
 * it is not draining (landed) or there is too little history to tell.
 *
 * @example
 * secondsToEmpty([{ time: 0, value: 50 }, ..., { time: 10_000, value: 49 }]); // ≈ 490 (0.1 %/s)
 */
export function secondsToEmpty(samples: readonly Sample[]): number | null {
  const newest = samples[samples.length - 1];
  if (newest === undefined) return null;
  const recent = samples.filter((sample) => sample.time >= newest.time - batteryEstimateWindowMs && !sample.breakBefore);
  if (recent.length < minSamples) return null;
  const meanTime = recent.reduce((sum, sample) => sum + sample.time, 0) / recent.length;
  const meanValue = recent.reduce((sum, sample) => sum + sample.value, 0) / recent.length;
  let covariance = 0;
  let variance = 0;
  for (const sample of recent) {
    covariance += (sample.time - meanTime) * (sample.value - meanValue);
    variance += (sample.time - meanTime) ** 2;
  }
  if (variance === 0) return null;
  const percentPerSecond = (covariance / variance) * 1000;
  if (percentPerSecond > -minDrainPercentPerSecond) return null;
  return newest.value / -percentPerSecond;
}

/** "≈ 9 min left", "≈ 45 s left", or "" when there is no estimate. */
export function formatTimeLeft(seconds: number | null): string {
  if (seconds === null) return "";
  if (seconds < 90) return `≈ ${Math.max(0, Math.round(seconds))} s left`;
  return `≈ ${Math.round(seconds / 60)} min left`;
}
