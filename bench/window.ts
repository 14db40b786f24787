/**
 * The measured window every traffic scenario shares: CPU of the server and
 * of the load generators from /proc over the window, and how much other
 * processes used the two pinned cores meanwhile (see "Disturbance" in
 * docs/benchmarks.md).
 *
 * Owns when the readings are taken (immediately around the sleep); the
 * caller tells the load generators to mark and stop.
 */
import { coreTimes, cpuBetween, otherLoadShare, sampleCpu, type CpuUse } from "./proc.ts";

export interface WindowReadings {
  server: CpuUse;
  /** One per load generator process. */
  loadgens: CpuUse[];
  /** Share of each pinned core used by other processes (plus steal) during the window. */
  otherLoadServerCore: number;
  otherLoadLoadCore: number;
}

/** Told when a measured window starts and ends (bench/profile.ts profiles only the window). */
export interface WindowObserver {
  started(): void;
  ended(): Promise<void>;
}

/** Sleeps `seconds` and returns the CPU readings across that sleep. */
export async function measureWindow(
  serverPid: number,
  loadgenPids: number[],
  cores: { server: number; load: number },
  seconds: number,
  observer?: WindowObserver,
): Promise<WindowReadings> {
  observer?.started();
  const serverBefore = sampleCpu(serverPid);
  const loadBefore = loadgenPids.map(sampleCpu);
  const runnerBefore = process.cpuUsage();
  const serverCoreBefore = coreTimes(cores.server);
  const loadCoreBefore = coreTimes(cores.load);
  await Bun.sleep(seconds * 1000);
  const serverCoreAfter = coreTimes(cores.server);
  const loadCoreAfter = coreTimes(cores.load);
  const runner = process.cpuUsage(runnerBefore);
  const loadAfter = loadgenPids.map(sampleCpu);
  const serverAfter = sampleCpu(serverPid);
  await observer?.ended();

  const server = cpuBetween(serverBefore, serverAfter);
  const loadgens = loadAfter.map((after, i) => cpuBetween(loadBefore[i]!, after));
  // The runner (this process) is pinned to the load core too.
  const oursOnLoadCore = loadgens.reduce((sum, use) => sum + use.cpuSeconds, 0) + (runner.user + runner.system) / 1e6;
  return {
    server,
    loadgens,
    otherLoadServerCore: otherLoadShare(serverCoreBefore, serverCoreAfter, server.cpuSeconds, server.wallSeconds),
    otherLoadLoadCore: otherLoadShare(loadCoreBefore, loadCoreAfter, oursOnLoadCore, server.wallSeconds),
  };
}

/** The load generators' CPU as a share of their one core (they all share it, so the shares add up). */
export function loadgenCoreShare(readings: WindowReadings): number {
  return readings.loadgens.reduce((sum, use) => sum + use.coreShare, 0);
}
