/**
 * Reads a process's CPU time and resident memory from Linux's /proc.
 *
 * Owns parsing /proc/PID/stat (utime and stime, user and kernel time summed
 * over all threads, in clock ticks), /proc/PID/status (VmRSS) and the per-core lines of /proc/stat
 * (how busy a core was, to tell whether other processes shared the pinned
 * cores). Nothing else: callers decide when to sample and what the
 * difference means.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second when `getconf CLK_TCK` cannot be asked; 100 on every common Linux build. */
const defaultClockTicksPerSecond = 100;

let clockTicksCache: number | undefined;

/** `getconf CLK_TCK`: the unit of utime and stime in /proc/PID/stat. */
export function clockTicksPerSecond(): number {
  if (clockTicksCache !== undefined) return clockTicksCache;
  let ticks = defaultClockTicksPerSecond;
  try {
    const out = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
    const parsed = Number.parseInt(out.stdout.toString().trim(), 10);
    if (Number.isInteger(parsed) && parsed > 0) ticks = parsed;
  } catch {
    // No getconf: keep the default.
  }
  clockTicksCache = ticks;
  return ticks;
}

/** A process's CPU time so far, split: `user` runs its own code (JS, the runtime, libc), `system` is the kernel working for it (syscalls, and the softirq work of its loopback traffic). */
export interface CpuSplit {
  userSeconds: number;
  systemSeconds: number;
}

/** What /proc/PID/stat says a process has used so far, over all its threads: its CPU split, and its minor page faults. */
export interface ProcessTimes extends CpuSplit {
  /** Page faults served without I/O (minflt): mostly first touches of freshly mapped memory. */
  minorFaults: number;
}

/** CPU seconds the process has used so far, user and system apart (utime and stime, all threads). */
export function cpuSplit(pid: number): CpuSplit {
  return processTimes(pid);
}

/**
 * utime, stime and minflt of a process. The command name in field 2 may
 * contain spaces and parentheses, so fields are counted from the last ')':
 * minflt, utime and stime are fields 10, 14 and 15 of the line.
 */
export function processTimes(pid: number): ProcessTimes {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const minflt = Number(fields[10 - 3]);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (![minflt, utime, stime].every(Number.isFinite)) throw new Error(`cannot parse /proc/${pid}/stat: ${stat.slice(0, 200)}`);
  const ticks = clockTicksPerSecond();
  return { userSeconds: utime / ticks, systemSeconds: stime / ticks, minorFaults: minflt };
}

/** CPU seconds (user + system) the process has used so far, over all its threads. */
export function cpuSeconds(pid: number): number {
  const split = cpuSplit(pid);
  return split.userSeconds + split.systemSeconds;
}

/** Resident set size in bytes (VmRSS, which /proc reports in kB = KiB). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS line in /proc/${pid}/status (has the process exited?)`);
  return Number(match[1]) * 1024;
}

/**
 * One core's time from /proc/stat, in seconds: `busy` is user + nice +
 * system + irq + softirq (the kernel charges the softirq work of a process's
 * own loopback traffic to that process's stime, so it belongs on this side),
 * `steal` is time the hypervisor gave to another guest.
 */
export interface CoreTimes {
  busySeconds: number;
  stealSeconds: number;
}

export function coreTimes(core: number): CoreTimes {
  const stat = readFileSync("/proc/stat", "utf8");
  const match = new RegExp(`^cpu${core} (.+)$`, "m").exec(stat);
  if (!match) throw new Error(`no cpu${core} line in /proc/stat`);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest is already in user)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = match[1]!.trim().split(/\s+/).map(Number);
  const ticks = clockTicksPerSecond();
  return { busySeconds: (user + nice + system + irq + softirq) / ticks, stealSeconds: steal / ticks };
}

/**
 * Share of a core's wall time used by processes other than `ours` (CPU
 * seconds those used in the window), plus hypervisor steal: how much the
 * rest of the machine disturbed a pinned benchmark process. A few percent
 * even on a quiet machine (interrupt work no process is charged for).
 */
export function otherLoadShare(before: CoreTimes, after: CoreTimes, oursCpuSeconds: number, wallSeconds: number): number {
  if (wallSeconds <= 0) return 0;
  const others = Math.max(0, after.busySeconds - before.busySeconds - oursCpuSeconds);
  return (others + (after.stealSeconds - before.stealSeconds)) / wallSeconds;
}

/** A CPU-time reading paired with the wall clock, so two of them give a rate. */
export interface CpuSample {
  cpuSeconds: number;
  /** The user part of `cpuSeconds` (the rest is system). */
  userSeconds: number;
  wallSeconds: number;
}

export function sampleCpu(pid: number): CpuSample {
  const split = cpuSplit(pid);
  return { cpuSeconds: split.userSeconds + split.systemSeconds, userSeconds: split.userSeconds, wallSeconds: performance.now() / 1000 };
}

export interface CpuUse {
  cpuSeconds: number;
  wallSeconds: number;
  /** CPU time as a share of one core (1 = 100 %). */
  coreShare: number;
  /** The user part of `coreShare`; the rest (`coreShare - userShare`) is the kernel's. */
  userShare: number;
}

/** CPU used between two samples and the share of one core it represents. */
export function cpuBetween(before: CpuSample, after: CpuSample): CpuUse {
  const cpu = after.cpuSeconds - before.cpuSeconds;
  const user = after.userSeconds - before.userSeconds;
  const wall = after.wallSeconds - before.wallSeconds;
  return { cpuSeconds: cpu, wallSeconds: wall, coreShare: wall > 0 ? cpu / wall : 0, userShare: wall > 0 ? user / wall : 0 };
}
