/**
 * The benchmark scenarios: what load to apply to a running server and what
 * to measure, producing one `Sample` per run.
 *
 * Owns the scenario list and the echo and memory measurement protocols
 * (warm up, mark, measure, stop; settle, read RSS); the fan-out protocol is
 * in fanout.ts. It does not start servers or aggregate rounds. A new
 * scenario is one more entry in `scenarios` with the `workload` it asks of a
 * server and a `run` function; the runner, table and chart pick it up from
 * here.
 */
import { LoadGroup, type ListenPlan } from "./driver.ts";
import type { ReaderKind } from "./loadgen.ts";
import { runFanout, type AskedRate } from "./fanout.ts";
import { mergeSnapshots, percentile } from "./histogram.ts";
import { rssBytes } from "./proc.ts";
import type { Launch, RunningServer, TelemetryWorkload, Workload } from "./servers.ts";
import { loadgenCoreShare, measureWindow, type WindowObserver } from "./window.ts";

/** Phase lengths and sizes that differ between a full run and `--quick`. */
export interface Timing {
  warmupSeconds: number;
  measureSeconds: number;
  idleConnections: number;
  /** Viewers held open (subscribed, not reading) by the idle-viewer memory scenario. */
  idleViewers: number;
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
  /** Fan-out scenarios run this share of their subscribers (1 in a full run; --quick is a smoke test at a smaller scale). */
  subscriberScale: number;
  /**
   * After a fan-out window, subscribers keep reading this long before loss is
   * judged: a frame published just before the window ended and delivered
   * within this time is late, not lost. Far above every Bun server's p99
   * measured here; the load generator waits twice the window's p99 instead
   * when that is longer (load-listen.ts `graceFor`).
   */
  lossGraceSeconds: number;
}

export const fullTiming: Timing = {
  warmupSeconds: 1,
  measureSeconds: 3,
  idleConnections: 10_000,
  idleViewers: 5000,
  minSettleSeconds: 2.5,
  maxSettleSeconds: 6,
  stableSeconds: 1,
  retryShare: 0.1,
  subscriberScale: 1,
  lossGraceSeconds: 0.5,
};
export const quickTiming: Timing = {
  warmupSeconds: 0.3,
  measureSeconds: 0.8,
  idleConnections: 2000,
  idleViewers: 1000,
  minSettleSeconds: 0.8,
  maxSettleSeconds: 1.5,
  stableSeconds: 0.5,
  retryShare: 0.05,
  subscriberScale: 0.2,
  lossGraceSeconds: 0.2,
};

export interface ScenarioContext {
  server: RunningServer;
  /** Cores the server and the load generators are pinned to. */
  serverCore: number;
  /** The server's path and opening messages for the scenario's workload. */
  launch: Launch;
  timing: Timing;
  loadCore: number;
  /** Load generator child processes per traffic run. */
  loadProcesses: number;
  /** Told when the measured window starts and ends (a profiler's cue). */
  windowObserver?: WindowObserver;
  /** Fan-out: how the load generators run, when not as in a benchmark run (bench/loadgen-cost.ts compares and profiles them). */
  loadgen?: LoadgenTuning;
  /** Fan-out: runs beside the measured window with the processes in it (bench/loadgen-cost.ts reads counters and profiles there). */
  alongsideWindow?: (pids: WindowProcesses, seconds: number) => Promise<void>;
}

/** What bench/loadgen-cost.ts changes in the load generators of a fan-out run. */
export interface LoadgenTuning {
  /** Flags for their Bun before `run`, e.g. a profiler's. */
  runtimeFlags?: readonly string[];
  /** How they read (default: directly where possible, loadgen.ts). */
  reader?: ReaderKind;
}

/** The processes of one measured window. */
export interface WindowProcesses {
  server: number;
  loadgens: readonly number[];
}

/** What one run measured. Absent fields do not apply to the scenario. */
export interface Sample {
  /** Echoes per second; for fan-out, telemetry messages delivered per second (all subscribers). */
  messagesPerSecond?: number;
  /** Round-trip (echo) or delivery (fan-out: receipt minus the send time in the message) latency. */
  p50Micros?: number;
  p99Micros?: number;
  /** Server CPU time (user + system) per echoed or delivered message. */
  cpuMicrosPerMessage?: number;
  /** Server CPU time over the window as a share of one core (1 = 100 %). */
  serverCoreShare?: number;
  /** Load generator CPU share of one core: near 1 means the load generator, not the server, may be the limit. */
  loadgenCoreShare?: number;
  /** Fan-out: load generator CPU time per delivered message; it must stay below the server's for the server to be the limit. */
  loadgenCpuMicrosPerMessage?: number;
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
  /** Fan-out: frames that never reached a subscriber in the window (seq gaps, plus frames still missing after the grace period). */
  lostFrames?: number;
  /** Fan-out: `lostFrames` over the number of subscribers. */
  lostFramesPerSubscriber?: number;
  /** Fan-out: subscribers that lost at least one frame. */
  subscribersWithLoss?: number;
  /** Fan-out: mean payload bytes of a delivered telemetry message. */
  messageBytes?: number;
  /** Fan-out: drone frames delivered per second (a batch carries one per drone). */
  droneFramesPerSecond?: number;
  /** Paced fan-out: messages delivered over the messages asked for (subscribers × what each asked for per second); 1 when none was lost, skipped or late. */
  askedShare?: number;
  /**
   * Paced fan-out, a frame per drone: frames the server's streams produced
   * per second (their seqs' advance) over the rate asked (drones × hz).
   * Below 1, the server's tick slipped: it skipped ticks rather than dropping
   * frames it had made.
   */
  producedShare?: number;
}

export interface Scenario {
  id: string;
  /** What `--only` matches besides the id, e.g. "echo" for both echo scenarios. */
  group: string;
  title: string;
  /** The title as the table and chart show it, with sizes that depend on --quick. */
  label(timing: Timing): string;
  /** What the server must run; the runner picks the servers that can. */
  workload: Workload;
  /** Metrics compared with bare Bun in the table's ratio column. */
  compare: ReadonlyArray<keyof Sample>;
  /** Runs only when `--only` names it or its group (not in a full or quick run, whose timings and chart it would change). */
  optIn?: true;
  /** Left out of `--quick` (which must stay under two minutes, and whose 1/5 scale would not ask what the scenario is about); `--only` still runs it. */
  notQuick?: true;
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
    path: context.launch.path,
    connections: shape.connections,
    processes: shape.connections === 1 ? 1 : context.loadProcesses,
    core: context.loadCore,
    behaviour: { mode: "echo", inflight: shape.inflight, payloadBytes: shape.payloadBytes },
  });
  try {
    group.command("start");
    await Bun.sleep(timing.warmupSeconds * 1000);
    group.command("mark");
    const window = await measureWindow(server.pid, group.pids, { server: context.serverCore, load: context.loadCore }, timing.measureSeconds, context.windowObserver);
    const results = await group.stop();

    const lost = results.reduce((sum, r) => sum + r.connectionsLost, 0);
    if (lost > 0) throw new Error(`${lost} connection(s) closed during the measured window`);
    const messagesPerSecond = results.reduce((sum, r) => sum + r.messages / r.windowSeconds, 0);
    if (messagesPerSecond === 0) throw new Error("no echoes received in the measured window");
    const latency = mergeSnapshots(results.map((r) => r.latency));
    return {
      messagesPerSecond,
      p50Micros: percentile(latency, 0.5),
      p99Micros: percentile(latency, 0.99),
      cpuMicrosPerMessage: (window.server.coreShare / messagesPerSecond) * 1e6,
      serverCoreShare: window.server.coreShare,
      loadgenCoreShare: loadgenCoreShare(window),
      otherLoadServerCore: window.otherLoadServerCore,
      otherLoadLoadCore: window.otherLoadLoadCore,
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

/**
 * Opens idle connections and charges the RSS growth to them: `connections`
 * of them (the timing's `idleConnections` by default); with `stopReading`,
 * viewers that stop reading once subscribed. `onSettled` runs after each
 * settled reading, before the connections are opened and while they are
 * held (the RSS ladder, bench/rss-ladder.ts, reads the heap there).
 */
export async function runIdleMemory(
  context: ScenarioContext,
  connections = context.timing.idleConnections,
  stopReading = false,
  onSettled?: (phase: "before" | "after") => Promise<void>,
): Promise<Sample> {
  const { server, timing, launch } = context;
  // After its opening exchange (for /drone: welcome, unsubscribe, ack) an idle connection only listens, or (a viewer) not even that.
  const behaviour: ListenPlan = { mode: "listen", send: launch.openingMessages, replies: launch.replies, graceMilliseconds: 0, stopReading };
  const idle = { port: server.port, path: launch.path, processes: 1, core: context.loadCore, behaviour };
  const warm = await LoadGroup.open({ ...idle, connections: warmConnections });
  try {
    const rssBeforeBytes = await settledRss(server.pid, timing);
    await onSettled?.("before");
    const held = await LoadGroup.open({ ...idle, connections });
    try {
      const rssAfterBytes = await settledRss(server.pid, timing);
      await onSettled?.("after");
      return { rssBytesPerConnection: (rssAfterBytes - rssBeforeBytes) / connections, rssBeforeBytes, rssAfterBytes };
    } finally {
      await held.close();
    }
  } finally {
    await warm.close();
  }
}

function traffic(id: string, group: string, title: string, shape: TrafficShape, compare: ReadonlyArray<keyof Sample>): Scenario {
  return { id, group, title, workload: { role: "echo" }, label: () => title, compare, run: (context) => runTraffic(shape, context) };
}

function idleMemory(id: string, workload: Workload, what: string): Scenario {
  return {
    id,
    group: "memory",
    title: `memory per idle ${what}`,
    workload,
    label: (timing) => `memory per idle ${what} (${timing.idleConnections.toLocaleString("en-US")} open)`,
    compare: ["rssBytesPerConnection"],
    run: (context) => runIdleMemory(context),
  };
}

/**
 * Memory per viewer that watches one drone's 10 Hz telemetry and does not
 * read it (what operators have thousands of), against bare Bun sockets
 * subscribed to a topic published at 10 Hz. The frames pile up unread in
 * the kernel's socket buffers first; what the server holds per viewer is
 * what this charges.
 */
function idleViewerMemory(id: string): Scenario {
  const what = "viewer of one drone at 10 Hz, not reading";
  return {
    id,
    group: "memory",
    title: `memory per ${what}`,
    workload: { role: "telemetry", drones: 1, hz: 10, view: "each-drone", unpaced: false, slowConsumerBytes: defaultSlowConsumerBytes },
    label: (timing) => `memory per ${what} (${timing.idleViewers.toLocaleString("en-US")} open)`,
    compare: ["rssBytesPerConnection"],
    run: (context) => runIdleMemory(context, context.timing.idleViewers, true),
  };
}

/** What the compression scenarios compare with bare Bun (which never compresses: its frames are padding). */
const deflateCompared: ReadonlyArray<keyof Sample> = ["cpuMicrosPerMessage", "messageBytes"];

/** A compression scenario's workload: `drones` at 10 Hz, watched a frame each or as one batch. */
function deflateWorkload(drones: number, view: TelemetryWorkload["view"]): Omit<TelemetryWorkload, "role"> {
  return { drones, hz: 10, view, unpaced: false, slowConsumerBytes: defaultSlowConsumerBytes };
}

/** skyport's limit for unsent bytes per socket (--slow-consumer-bytes default), used unless a scenario says otherwise. */
const defaultSlowConsumerBytes = 1024 * 1024;
/** Drones in telemetry-max: enough that 100 Hz × this × 1,000 subscribers is more than one server core can send. */
const maxRateDrones = 100;
/**
 * Drones in telemetry-tick (issue 18: "the tick must not slip at 20 drones ×
 * 100 Hz with 1,000 viewers of all of them"): 2 M deliveries a second asked,
 * about 80% of what bare Bun sends at most on one core here.
 */
const tickDrones = 20;

/**
 * A fan-out scenario with `subscribers` viewers (scaled by the timing's
 * `subscriberScale`); `title` names the scale actually run.
 */
function fanout(
  id: string,
  title: (subscribers: string) => string,
  subscribers: number,
  workload: Omit<TelemetryWorkload, "role">,
  compare: ReadonlyArray<keyof Sample>,
  group = "telemetry",
): Scenario {
  const scaled = (timing: Timing) => Math.max(1, Math.round(subscribers * timing.subscriberScale));
  return {
    id,
    group,
    title: title(subscribers.toLocaleString("en-US")),
    workload: { role: "telemetry", ...workload },
    label: (timing) => title(scaled(timing).toLocaleString("en-US")),
    compare,
    run: (context) => runFanout(scaled(context.timing), context, undefined, askedOf(workload)),
  };
}

/** What a paced workload asks of the server each second; nothing for an unpaced one, which asks for all it can. */
function askedOf(workload: Omit<TelemetryWorkload, "role">): AskedRate | undefined {
  if (workload.unpaced) return undefined;
  if (workload.view === "batch") return { messagesPerSubscriber: workload.hz };
  return { messagesPerSubscriber: workload.hz * workload.drones, streamFrames: workload.hz * workload.drones };
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
  idleMemory("memory", { role: "echo" }, "connection"),
  idleMemory("memory-drone", { role: "idle-drone" }, "/drone connection"),
  idleViewerMemory("memory-viewer"),
  fanout(
    "telemetry-10k",
    (n) => `telemetry ${n} subscribers × 1 drone at 10 Hz`,
    10_000,
    { drones: 1, hz: 10, view: "each-drone", unpaced: false, slowConsumerBytes: defaultSlowConsumerBytes },
    ["messagesPerSecond", "p99Micros", "cpuMicrosPerMessage"],
  ),
  fanout(
    "telemetry-max",
    (n) => `telemetry max rate, ${n} subscribers × ${maxRateDrones} drones at 100 Hz`,
    1000,
    { drones: maxRateDrones, hz: 100, view: "each-drone", unpaced: true, slowConsumerBytes: defaultSlowConsumerBytes },
    ["messagesPerSecond", "cpuMicrosPerMessage"],
  ),
  {
    ...fanout(
      "telemetry-tick",
      (n) => `tick: ${n} viewers × ${tickDrones} drones at 100 Hz, each drone`,
      1000,
      { drones: tickDrones, hz: 100, view: "each-drone", unpaced: false, slowConsumerBytes: defaultSlowConsumerBytes },
      ["messagesPerSecond", "cpuMicrosPerMessage"],
    ),
    notQuick: true,
  },
  fanout(
    "fleet",
    (n) => `fleet ${n} viewers × 100 drones at 10 Hz, one batch per tick`,
    1000,
    { drones: 100, hz: 10, view: "batch", unpaced: false, slowConsumerBytes: defaultSlowConsumerBytes },
    ["messagesPerSecond", "p99Micros", "cpuMicrosPerMessage"],
  ),
  fanout(
    "fleet-each",
    (n) => `fleet ${n} viewers × 100 drones at 10 Hz, a frame per drone`,
    1000,
    { drones: 100, hz: 10, view: "each-drone", unpaced: false, slowConsumerBytes: defaultSlowConsumerBytes },
    ["messagesPerSecond", "p99Micros", "cpuMicrosPerMessage"],
  ),
  // permessage-deflate (issue 18), opt-in: `--only deflate --servers skyport,skyport-deflate,bun`. Fewer viewers
  // than the fan-out scenarios, because the load generator inflates every compressed message it reads.
  { ...fanout("deflate-frame", (n) => `compression: ${n} viewers × 1 drone at 10 Hz, a frame each`, 1000, deflateWorkload(1, "each-drone"), deflateCompared, "deflate"), optIn: true },
  { ...fanout("deflate-batch", (n) => `compression: ${n} viewers × 100 drones at 10 Hz, one batch per tick`, 200, deflateWorkload(100, "batch"), deflateCompared, "deflate"), optIn: true },
];
