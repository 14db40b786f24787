/**
 * CPU over a measured window for the scale-out benchmark: each watched
 * process's share of one core, and what the rest of the machine used
 * meanwhile (every core's busy time minus the watched processes and this
 * runner, plus hypervisor steal). Unlike window.ts it watches any number of
 * processes on any cores, since workers and redis-server may not be pinned.
 *
 * Owns when the readings are taken; callers say which pids matter.
 */
import { coreTimes, cpuBetween, sampleCpu, type CoreTimes, type CpuSample } from "./proc.ts";

export interface CpuWindowResult {
  /** Share of one core (1 = 100 %) per watched pid, in the order given. */
  shares: number[];
  /** The user part of each share (the rest is the kernel's: system time), same order. */
  userShares: number[];
  /** This runner's own share of one core. */
  runnerShare: number;
  /** Cores used by everything else on the machine, plus steal (0.25 = a quarter of one core). */
  otherCores: number;
  wallSeconds: number;
}

/** Every core the machine has, by the cpuN lines of /proc/stat. */
export function machineCores(): number[] {
  const cores: number[] = [];
  for (let core = 0; ; core++) {
    try {
      coreTimes(core);
      cores.push(core);
    } catch {
      return cores;
    }
  }
}

/** Starts a window over `pids`; `finish()` ends it. Read the pids while they still run. */
export function startCpuWindow(pids: readonly number[], cores: readonly number[]): { finish(): CpuWindowResult } {
  const before: CpuSample[] = pids.map(sampleCpu);
  const runnerBefore = process.cpuUsage();
  const coresBefore: CoreTimes[] = cores.map(coreTimes);
  const wallBefore = performance.now();
  return {
    finish() {
      const coresAfter = cores.map(coreTimes);
      const runner = process.cpuUsage(runnerBefore);
      const uses = pids.map((pid, i) => cpuBetween(before[i]!, sampleCpu(pid)));
      const wallSeconds = (performance.now() - wallBefore) / 1000;
      const runnerSeconds = (runner.user + runner.system) / 1e6;
      const oursSeconds = uses.reduce((sum, use) => sum + use.cpuSeconds, 0) + runnerSeconds;
      let busy = 0;
      let steal = 0;
      coresAfter.forEach((after, i) => {
        busy += after.busySeconds - coresBefore[i]!.busySeconds;
        steal += after.stealSeconds - coresBefore[i]!.stealSeconds;
      });
      return {
        shares: uses.map((use) => use.coreShare),
        userShares: uses.map((use) => use.userShare),
        runnerShare: runnerSeconds / wallSeconds,
        otherCores: Math.max(0, busy - oursSeconds) / wallSeconds + steal / wallSeconds,
        wallSeconds,
      };
    },
  };
}
