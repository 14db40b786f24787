/**
 * The benchmark scenarios: what load to apply to a running server and what
 * to measure, producing one `Sample` per run.
 *
 * Owns the measurement protocol (warm up, mark, measure, stop; settle, read
 * RSS) and the scenario list. It does not start servers or aggregate rounds.
 * A new scenario (e.g. telemetry fan-out once the drone endpoint exists) is
 * one more entry in `scenarios` with its `role` and a `run` function; the
 * runner, table and chart pick it up from here.
 */
import { LoadGroup } from "./driver.ts";
import { mergeSnapshots, percentile } from "./histogram.ts";
import { coreTimes, cpuBetween, otherLoadShare, rssBytes, sampleCpu } from "./proc.ts";
import type { Role, RunningServer } from "./servers.ts";

/** Phase lengths and sizes that differ between a full run and `--quick`. */
export interface Timing {
  warmupSeconds: number;
  measureSeconds: number;
  idleConnections: number;
  /**
   * Shortest wait after opening connections before reading RSS: the
   * allocator returns the handshakes' transient memory a second or two after
   * a burst, so an early reading overstates the per-connection cost.
   */
  minSettleSeconds: number;
  /** Longest wait for RSS to stop moving. */
  maxSettleSeconds: number;
  /** RSS has stopped moving when it stayed within `settleToleranceBytes` for this long. */
  stableSeconds: number;
  /** Retries of disturbed runs allowed in the whole benchmark, as a share of its runs. */
  retryShare: number;
}

export const fullTiming: Timing = {
  warmupSeconds: 1.5,
  measureSeconds: 4,
  idleConnections: 10_000,
  minSettleSeconds: 2.5,
  maxSettleSeconds: 6,
  stableSeconds: 1,
  retryShare: 0.1,
};
export const quickTiming: Timing = {
  warmupSeconds: 0.4,
  measureSeconds: 1.2,
  idleConnections: 2000,
  minSettleSeconds: 0.8,
  maxSettleSeconds: 1.5,
  stableSeconds: 0.5,
  retryShare: 0.05,
};

export interface ScenarioContext {
  server: RunningServer;
  /** Cores the server and the load generators are pinned to. */
  serverCore: number;
  /** The server's WebSocket path for the scenario's role. */
  path: string;
  timing: Timing;
  loadCore: number;
  /** Load generator child processes per traffic run. */
  loadProcesses: number;
}

/** What one run measured. Absent fields do not apply to the scenario. */
export interface Sample {
  messagesPerSecond?: number;
  p50Micros?: number;
  p99Micros?: number;
  /** Server CPU time (user + system) per echoed message. */
  cpuMicrosPerMessage?: number;
  /** Server CPU time over the window as a share of one core (1 = 100 %). */
  serverCoreShare?: number;
  /** Load generator CPU share of one core: near 1 means the load generator, not the server, may be the limit. */
  loadgenCoreShare?: number;
  /**
   * CPU used on the server's core and on the load core by processes other
   * than the benchmark's (plus hypervisor steal), as a share of the window.
   * Near 0 on a quiet machine; high values mean the numbers were disturbed.
   */
  otherLoadServerCore?: number;
  otherLoadLoadCore?: number;
  rssBytesPerConnection?: number;
  rssBeforeBytes?: number;
  rssAfterBytes?: number;
}

export interface Scenario {
  id: string;
  /** What `--only` matches besides the id, e.g. "echo" for both echo scenarios. */
  group: string;
  title: string;
  /** The title as the table and chart show it, with sizes that depend on --quick. */
  label(timing: Timing): string;
  role: Role;
  /** Metrics compared with bare Bun in the table's ratio column. */
  compare: ReadonlyArray<keyof Sample>;
  run(context: ScenarioContext): Promise<Sample>;
}

interface TrafficShape {
  connections: number;
  inflight: number;
  payloadBytes: number;
}

/** Connections opened before the "before" RSS reading, so one-time costs of the first connections are not charged per connection. */
const warmConnections = 100;
/** How often RSS is read while waiting for it to settle. */
const settleIntervalMilliseconds = 100;
/** RSS counts as unchanged while it moves less than this (about 13 bytes per connection at 10,000). */
const settleToleranceBytes = 128 * 1024;

/** Keeps K messages in flight on each connection for the window; measures rate, latency and CPU. */
async function runTraffic(shape: TrafficShape, context: ScenarioContext): Promise<Sample> {
  const { server, timing } = context;
  const group = await LoadGroup.open({
    port: server.port,
    path: context.path,
    ...shape,
    processes: shape.connections === 1 ? 1 : context.loadProcesses,
    core: context.loadCore,
  });
  try {
    group.command("start");
    await Bun.sleep(timing.warmupSeconds * 1000);
    group.command("mark");
    const serverBefore = sampleCpu(server.pid);
    const loadBefore = group.pids.map(sampleCpu);
    const runnerBefore = process.cpuUsage();
    const serverCoreBefore = coreTimes(context.serverCore);
    const loadCoreBefore = coreTimes(context.loadCore);
    await Bun.sleep(timing.measureSeconds * 1000);
    const serverCoreAfter = coreTimes(context.serverCore);
    const loadCoreAfter = coreTimes(context.loadCore);
    const runner = process.cpuUsage(runnerBefore);
    const loadAfter = group.pids.map(sampleCpu);
    const serverAfter = sampleCpu(server.pid);
    const results = await group.stop();

    const lost = results.reduce((sum, r) => sum + r.connectionsLost, 0);
    if (lost > 0) throw new Error(`${lost} connection(s) closed during the measured window`);
    const messagesPerSecond = results.reduce((sum, r) => sum + r.messages / r.windowSeconds, 0);
    if (messagesPerSecond === 0) throw new Error("no echoes received in the measured window");
    const latency = mergeSnapshots(results.map((r) => r.latency));
    const serverCpu = cpuBetween(serverBefore, serverAfter);
    const loadCpu = loadAfter.map((after, i) => cpuBetween(loadBefore[i]!, after));
    // The runner (this process) is pinned to the load core too.
    const oursOnLoadCore = loadCpu.reduce((sum, use) => sum + use.cpuSeconds, 0) + (runner.user + runner.system) / 1e6;
    return {
      messagesPerSecond,
      p50Micros: percentile(latency, 0.5),
      p99Micros: percentile(latency, 0.99),
      cpuMicrosPerMessage: (serverCpu.coreShare / messagesPerSecond) * 1e6,
      serverCoreShare: serverCpu.coreShare,
      // All children share one core, so their shares add up.
      loadgenCoreShare: loadCpu.reduce((sum, use) => sum + use.coreShare, 0),
      otherLoadServerCore: otherLoadShare(serverCoreBefore, serverCoreAfter, serverCpu.cpuSeconds, serverCpu.wallSeconds),
      otherLoadLoadCore: otherLoadShare(loadCoreBefore, loadCoreAfter, oursOnLoadCore, serverCpu.wallSeconds),
    };
  } finally {
    await group.close();
  }
}

/** Waits until the process's RSS stops moving (at least `timing.minSettleSeconds`, at most `maxSettleSeconds`), and returns it. */
async function settledRss(pid: number, timing: Timing): Promise<number> {
  const started = performance.now();
  const readings: number[] = [];
  const window = Math.max(2, Math.round((timing.stableSeconds * 1000) / settleIntervalMilliseconds));
  for (;;) {
    readings.push(rssBytes(pid));
    const recent = readings.slice(-window);
    const elapsed = performance.now() - started;
    const stable = recent.length === window && Math.max(...recent) - Math.min(...recent) <= settleToleranceBytes;
    if ((stable && elapsed >= timing.minSettleSeconds * 1000) || elapsed >= timing.maxSettleSeconds * 1000) return readings[readings.length - 1]!;
    await Bun.sleep(settleIntervalMilliseconds);
  }
}

/** Opens idle connections and charges the RSS growth to them. */
async function runIdleMemory(context: ScenarioContext): Promise<Sample> {
  const { server, timing } = context;
  const idle = { port: server.port, path: context.path, inflight: 0, payloadBytes: 0, processes: 1, core: context.loadCore };
  const warm = await LoadGroup.open({ ...idle, connections: warmConnections });
  try {
    const rssBeforeBytes = await settledRss(server.pid, timing);
    const held = await LoadGroup.open({ ...idle, connections: timing.idleConnections });
    try {
      const rssAfterBytes = await settledRss(server.pid, timing);
      return { rssBytesPerConnection: (rssAfterBytes - rssBeforeBytes) / timing.idleConnections, rssBeforeBytes, rssAfterBytes };
    } finally {
      await held.close();
    }
  } finally {
    await warm.close();
  }
}

function traffic(id: string, group: string, title: string, shape: TrafficShape, compare: ReadonlyArray<keyof Sample>): Scenario {
  return { id, group, title, role: "echo", label: () => title, compare, run: (context) => runTraffic(shape, context) };
}

export const scenarios: readonly Scenario[] = [
  traffic("echo-32", "echo", "echo 64 conn × 16 in flight, 32 B", { connections: 64, inflight: 16, payloadBytes: 32 }, [
    "messagesPerSecond",
    "cpuMicrosPerMessage",
  ]),
  traffic("echo-4k", "echo", "echo 64 conn × 4 in flight, 4 KiB", { connections: 64, inflight: 4, payloadBytes: 4096 }, [
    "messagesPerSecond",
    "cpuMicrosPerMessage",
  ]),
  traffic("latency", "latency", "latency 1 conn × 1 in flight, 32 B", { connections: 1, inflight: 1, payloadBytes: 32 }, [
    "p50Micros",
    "p99Micros",
    "cpuMicrosPerMessage",
  ]),
  {
    id: "memory",
    group: "memory",
    title: "memory per idle connection",
    role: "echo",
    label: (timing) => `memory per idle connection (${timing.idleConnections.toLocaleString("en-US")} open)`,
    compare: ["rssBytesPerConnection"],
    run: runIdleMemory,
  },
];
