/**
 * Which rounds a ratio to bare Bun may be judged on (issue 18). A ratio
 * compares two servers under the same load generator, so it says something
 * about the servers only when the load generator was not what held either of
 * them back: either both servers saturated their core (then each delivered
 * what its core allows, whatever the load generator did), or the load
 * generator had core to spare in both runs. A round where the load generator
 * was saturated while a server was not measures the load generator, not that
 * server. A run that other processes disturbed (even after the runner's
 * retries) is not judged either: its figures are partly theirs.
 *
 * Pure: two runs' samples in, a reason (or none) out.
 */
import type { Sample } from "./scenarios.ts";

/** A server's core counts as saturated from this share of one core up. */
export const saturatedCoreShare = 0.9;
/** The load generator counts as a possible limit from this share of its core up (the same line as report.ts's loadgen note). */
export const loadgenBusyShare = 0.9;

/** One run of a pair, as the rule needs it: the server's name, whether it was disturbed, and what it measured. */
export interface PairedRun {
  server: string;
  sample: Sample;
  /** Other processes used more than the runner's disturbance limit, even in the attempt kept. */
  contended?: boolean;
}

/** A round left out of a ratio, and why, in words for the table. */
export interface ExcludedRound {
  round: number;
  reason: string;
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

/**
 * Why the ratio of `run` to `reference` in one round must not be judged, or
 * null when it may be. Samples without core shares (memory) are judged
 * unless disturbed.
 */
export function unfairReason(run: PairedRun, reference: PairedRun): string | null {
  const disturbed = [run, reference].filter((r) => r.contended);
  if (disturbed.length) {
    const others = (r: PairedRun) => percent(Math.max(r.sample.otherLoadServerCore ?? 0, r.sample.otherLoadLoadCore ?? 0));
    return `disturbed (${disturbed.map((r) => `${r.server}: others ${others(r)}`).join(", ")})`;
  }
  const pair = [run, reference];
  if (pair.some((r) => r.sample.serverCoreShare === undefined || r.sample.loadgenCoreShare === undefined)) return null;
  const bothSaturated = pair.every((r) => r.sample.serverCoreShare! >= saturatedCoreShare);
  const loadgenFree = pair.every((r) => r.sample.loadgenCoreShare! < loadgenBusyShare);
  if (bothSaturated || loadgenFree) return null;
  const busy = pair.filter((r) => r.sample.loadgenCoreShare! >= loadgenBusyShare);
  const idle = pair.filter((r) => r.sample.serverCoreShare! < saturatedCoreShare);
  return (
    `load generator bound (loadgen ${busy.map((r) => `${percent(r.sample.loadgenCoreShare!)} with ${r.server}`).join(", ")}; ` +
    `${idle.map((r) => `${r.server} ${percent(r.sample.serverCoreShare!)}`).join(", ")} of its core)`
  );
}
