/**
 * Deliveries per second with N worker processes: one `server.ts --workers N
 * --redis URL` (a single process for N = 1), viewers connected through its
 * shared port (the kernel spreads them over the workers), one measured
 * window, and where the CPU went: each worker, the supervisor, redis-server,
 * the load generator, and whatever else ran on the machine meanwhile.
 *
 * The same window measures the Socket.IO peer (cluster-socketio.ts starts
 * it): whatever serves the viewers is a `ScaleTarget`.
 *
 * Owns that protocol; the viewers' behaviour is load-listen.ts (through
 * driver.ts), starting skyport is cluster-nodes.ts.
 */
import { LoadGroup } from "./driver.ts";
import { mergeSnapshots, percentile } from "./histogram.ts";
import { startNode } from "./cluster-nodes.ts";
import { flushRedis, waitForCluster } from "./cluster-redis.ts";
import { startCpuWindow } from "./cluster-window.ts";
import { droneIds, subscribeMessage } from "./servers.ts";

/** After the window, viewers keep reading this long before loss is judged (as in fanout.ts). */
const lossGraceMilliseconds = 500;
/** Longest wait for every drone to have an owner and every worker to be on the bus. */
const clusterReadyTimeoutMilliseconds = 15_000;
/** The `--node-id` of the benchmark's cluster; workers are `<this>-w<index>`. */
const nodeId = "bench";

export interface ScaleShape {
  workers: number;
  drones: number;
  hz: number;
  viewers: number;
  warmupSeconds: number;
  measureSeconds: number;
  /** Core the load generator is pinned to. */
  loadCore: number;
  /** Core skyport (supervisor and workers) is pinned to, or undefined to let the kernel place the workers. */
  serverCore?: number;
}

/** One run's figures. Core shares are of one core over the window (1 = 100 %). */
export interface ScaleSample {
  workers: number;
  /** Telemetry messages received per second, all viewers together. */
  deliveriesPerSecond: number;
  /**
   * Frames per second per drone that the average viewer got: the drones'
   * real tick rate, below `hz` when the worker that simulates them is short
   * of CPU (every worker's viewers get the ticks that worker makes).
   */
  ticksPerSecond: number;
  /** Delivery latency: arrival minus the frame's `time` (whole ms, so 0–1 ms too high). */
  p50Micros: number;
  p99Micros: number;
  /** Frames some viewer never got (seq gaps, and frames still missing after the grace period). */
  lostFrames: number;
  viewersWithLoss: number;
  /** Viewers whose connection closed during the window, and viewers that got no telemetry at all. */
  viewersClosed: number;
  viewersSilent: number;
  /** Each worker's CPU, in worker index order; the owner of every drone is `ownerWorker`. */
  workerCoreShares: number[];
  /** The user part of each worker's share, same order: the rest is system time (the kernel's). Absent in results from before it was measured. */
  workerUserShares?: number[];
  /** Index of the worker that simulates the drones (it owned all of them at the start). */
  ownerWorker: number;
  workersCoreShare: number;
  supervisorCoreShare: number;
  redisCoreShare: number;
  loadgenCoreShare: number;
  /** This runner's own CPU. */
  runnerCoreShare: number;
  /** Mean bytes of a telemetry message the viewers received (the Socket.IO peer emits messages of skyport's size). */
  messageBytes?: number;
  /** Cores used by processes other than these (and this runner), plus hypervisor steal. */
  otherCoreShare: number;
}

/** Servers running for one scale window: where viewers connect, how they open, and which processes serve them. */
export interface ScaleTarget {
  port: number;
  /** WebSocket path with query string. */
  path: string;
  openingMessages: string[];
  /** Non-telemetry messages each viewer receives before it is ready. */
  replies: number;
  /** The processes that serve sockets, in worker index order. */
  serverPids: number[];
  supervisorPid: number | null;
  /** Index of the worker that makes the frames. */
  ownerWorker: number;
}

/** Runs one window against a fresh `--workers N` skyport sharing drones through `redisUrl`. */
export async function runScale(shape: ScaleShape, redisUrl: string, redisPid: number, cores: number[]): Promise<ScaleSample> {
  const drones = droneIds(shape.drones);
  await flushRedis(redisUrl);
  const node = await startNode({ drones, hz: shape.hz, redisUrl, nodeId, workers: shape.workers, core: shape.serverCore });
  try {
    const view = await waitForCluster(redisUrl, drones, shape.workers, clusterReadyTimeoutMilliseconds);
    const owners = new Set(view.owners);
    if (owners.size !== 1) throw new Error(`expected one worker to own every drone, found owners ${[...owners].join(", ")}`);
    const owner = [...owners][0]!;
    const ownerWorker = shape.workers === 1 ? 0 : Number(/-w(\d+)$/.exec(owner)?.[1] ?? -1);
    const target: ScaleTarget = {
      port: node.port,
      path: `/drone?drone=${drones.join(",")}`,
      openingMessages: [subscribeMessage(drones[0]!)],
      replies: 2,
      serverPids: node.serverPids,
      supervisorPid: node.supervisorPid,
      ownerWorker,
    };
    return await measureScale(shape, target, redisPid, cores);
  } finally {
    await node.stop();
  }
}

/** Connects the viewers to `target`, measures one window, and reads where the CPU went. */
export async function measureScale(shape: ScaleShape, target: ScaleTarget, redisPid: number, cores: number[]): Promise<ScaleSample> {
  const group = await LoadGroup.open({
    port: target.port,
    path: target.path,
    connections: shape.viewers,
    processes: 1,
    core: shape.loadCore,
    behaviour: { mode: "listen", send: target.openingMessages, replies: target.replies, graceMilliseconds: lossGraceMilliseconds },
  });
  try {
    await Bun.sleep(shape.warmupSeconds * 1000);
    group.command("mark");
    const supervisor = target.supervisorPid === null ? [] : [target.supervisorPid];
    const window = startCpuWindow([...target.serverPids, ...supervisor, redisPid, ...group.pids], cores);
    await Bun.sleep(shape.measureSeconds * 1000);
    const cpu = window.finish();
    const results = await group.stop();

    const workerCoreShares = cpu.shares.slice(0, target.serverPids.length);
    const rest = cpu.shares.slice(target.serverPids.length);
    const tallies = results.map((r) => {
      if (!r.telemetry) throw new Error("the load generator reported no telemetry tally");
      return r.telemetry;
    });
    const deliveriesPerSecond = results.reduce((sum, r) => sum + r.messages / r.windowSeconds, 0);
    if (deliveriesPerSecond === 0) throw new Error("no telemetry delivered in the measured window");
    const deliveries = results.reduce((sum, r) => sum + r.messages, 0);
    const latency = mergeSnapshots(results.map((r) => r.latency));
    return {
      workers: shape.workers,
      deliveriesPerSecond,
      ticksPerSecond: deliveriesPerSecond / (shape.viewers * shape.drones),
      p50Micros: percentile(latency, 0.5),
      p99Micros: percentile(latency, 0.99),
      lostFrames: tallies.reduce((sum, t) => sum + t.lostInGaps + t.framesBehind, 0),
      viewersWithLoss: tallies.reduce((sum, t) => sum + t.subscribersWithLoss, 0),
      viewersClosed: results.reduce((sum, r) => sum + r.connectionsLost, 0),
      viewersSilent: tallies.reduce((sum, t) => sum + t.silentSubscribers, 0),
      workerCoreShares,
      workerUserShares: cpu.userShares.slice(0, target.serverPids.length),
      ownerWorker: target.ownerWorker,
      workersCoreShare: workerCoreShares.reduce((sum, s) => sum + s, 0),
      supervisorCoreShare: supervisor.length ? rest[0]! : 0,
      redisCoreShare: rest[supervisor.length]!,
      loadgenCoreShare: rest.slice(supervisor.length + 1).reduce((sum, s) => sum + s, 0),
      runnerCoreShare: cpu.runnerShare,
      otherCoreShare: cpu.otherCores,
      messageBytes: tallies.reduce((sum, t) => sum + t.payloadBytes, 0) / deliveries,
    };
  } finally {
    await group.close();
  }
}
