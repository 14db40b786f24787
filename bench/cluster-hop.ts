/**
 * The Redis hop: how much later a frame reaches a viewer on a node that
 * relays it from Redis than a viewer on the node that simulates the drone.
 *
 * Two viewers of one drone live in this process, one per node; each notes
 * when every frame (by seq) arrives, on one monotonic clock
 * (`performance.now()`, microsecond resolution). The hop of a frame is its
 * arrival on the relaying node minus its arrival on the owner. Frame `time`
 * fields are whole milliseconds, too coarse for this, so they only give the
 * absolute delivery latency shown for context.
 *
 * Owns the timing viewers, the pairing arithmetic (pure, exported for
 * tests) and the protocol of one setup: fresh nodes, an idle window, then a
 * window with background viewers of the same drone (bench/driver.ts's
 * listening load generators).
 */
import { LoadGroup } from "./driver.ts";
import { mergeSnapshots, percentile } from "./histogram.ts";
import { startNode, type RunningNode } from "./cluster-nodes.ts";
import { flushRedis, waitForCluster } from "./cluster-redis.ts";
import { startCpuWindow } from "./cluster-window.ts";
import { subscribeMessage } from "./servers.ts";

/** Start of a skyport telemetry message: the only messages a hop viewer times. */
const telemetryPrefix = '{"type":"telemetry",';
/** How long a viewer may take to open and get its welcome. */
const openTimeoutMilliseconds = 5000;

/** When each frame arrived at one viewer, by seq. */
export interface Arrivals {
  /** seq → arrival, `performance.now()` milliseconds. */
  at: Map<number, number>;
  /** seq → delivery latency in µs: arrival (epoch) minus the frame's `time` (whole ms, so 0–1 ms too high). */
  latencyMicros: Map<number, number>;
}

/** A /drone viewer of one drone that records arrivals while `recording`. */
export class HopViewer {
  private arrivals: Arrivals = { at: new Map(), latencyMicros: new Map() };
  private recording = false;
  /** Set if the socket closed while the benchmark still needed it. */
  closedEarly: string | null = null;

  private constructor(private readonly ws: WebSocket) {}

  /** Opens `ws://127.0.0.1:port/drone?drone=<drone>` and resolves after the welcome. */
  static open(port: number, drone: string): Promise<HopViewer> {
    return new Promise((resolve, reject) => {
      const url = `ws://127.0.0.1:${port}/drone?drone=${encodeURIComponent(drone)}`;
      const ws = new WebSocket(url);
      const viewer = new HopViewer(ws);
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error(`${url}: no welcome within ${openTimeoutMilliseconds} ms`));
      }, openTimeoutMilliseconds);
      ws.onmessage = (event) => {
        // Read the clock first: everything after it is this process's own delay.
        const now = performance.now();
        const text = event.data as string;
        if (typeof text !== "string") return;
        if (text.startsWith(telemetryPrefix)) {
          if (viewer.recording) viewer.record(now, text);
        } else if (text.startsWith('{"type":"welcome"')) {
          clearTimeout(timer);
          resolve(viewer);
        }
      };
      ws.onclose = (event) => {
        clearTimeout(timer);
        viewer.closedEarly = `closed with ${event.code} ${event.reason}`;
        reject(new Error(`${url}: ${viewer.closedEarly}`));
      };
    });
  }

  private record(now: number, text: string): void {
    const data = (JSON.parse(text) as { data: { seq: number; time: number } }).data;
    this.arrivals.at.set(data.seq, now);
    this.arrivals.latencyMicros.set(data.seq, (performance.timeOrigin + now - data.time) * 1000);
  }

  /** Forgets earlier arrivals and records from now on. */
  start(): void {
    this.arrivals = { at: new Map(), latencyMicros: new Map() };
    this.recording = true;
  }

  /** Stops recording and returns what arrived since `start`. */
  stop(): Arrivals {
    this.recording = false;
    return this.arrivals;
  }

  close(): void {
    this.ws.onclose = null;
    this.ws.close();
  }
}

/** Frames seen by both viewers, and the second's arrival minus the first's for each, in µs. */
export interface HopPairs {
  hopsMicros: number[];
  /** Frames only one of the two viewers recorded (edges of the window, or loss). */
  unpaired: number;
}

/** Pairs two viewers' arrivals by seq: hop = second − first, in µs. */
export function pairArrivals(first: Map<number, number>, second: Map<number, number>): HopPairs {
  const hopsMicros: number[] = [];
  for (const [seq, at] of first) {
    const other = second.get(seq);
    if (other !== undefined) hopsMicros.push((other - at) * 1000);
  }
  return { hopsMicros, unpaired: first.size + second.size - 2 * hopsMicros.length };
}

/** The nearest-rank quantile `q` (0..1) of `values`; NaN when empty. Sorts a copy. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** p50 and p99 of a set of µs values, with how many there were. */
export interface Percentiles {
  count: number;
  p50Micros: number;
  p99Micros: number;
}

export function percentilesOf(values: readonly number[]): Percentiles {
  return { count: values.length, p50Micros: quantile(values, 0.5), p99Micros: quantile(values, 0.99) };
}

// ------------------------------------------------------------ The measurement

/** The one drone whose frames are timed. */
export const hopDrone = "alpha";
/** Longest wait for the owner to hold the drone and every node to be on the bus. */
const clusterReadyTimeoutMilliseconds = 15_000;
/** After the window, background viewers keep reading this long before loss is judged. */
const lossGraceMilliseconds = 500;

export interface HopShape {
  hz: number;
  /** Background viewers of the same drone in the loaded phase, spread evenly over the nodes. */
  backgroundViewers: number;
  warmupSeconds: number;
  measureSeconds: number;
  /** Core the background load generators are pinned to; skyport is not pinned. */
  loadCore: number;
}

/**
 * `redis`: node a (started first, so it owns the drone) and node b, one
 * timing viewer on each; the hop is b's arrival minus a's. Background
 * viewers: half on a, half on b.
 * `single`: one process without --redis with both timing viewers (their
 * difference is the method's floor: same process, no Redis) and all the
 * background viewers.
 */
export type HopSetup = "redis" | "single";
export type HopLoad = "idle" | "loaded";

/** One phase of one round. */
export interface HopSample {
  setup: HopSetup;
  load: HopLoad;
  /** Delivery latency (arrival minus the frame's whole-ms `time`) at the first viewer: on node a, or the single process. */
  firstLatency: Percentiles;
  /** The same at the second viewer: on node b, or the single process again. */
  secondLatency: Percentiles;
  /** Second arrival minus first, per frame. */
  hop: Percentiles;
  unpaired: number;
  /**
   * Loaded phase only: the background viewers' delivery latency, all of
   * them for `single`, and [node a's, node b's] for `redis`. Under load the
   * timing viewers' per-frame hop depends on where each sits in its node's
   * fan-out (a node sends a frame to its hundreds of sockets one after
   * another, in an order of its own), so the hop under load is also read
   * from these populations: node b's percentile minus node a's, over the
   * same frames (so both carry the same whole-ms `time` bias).
   */
  backgroundLatency: Percentiles[];
  /** Frames the background viewers missed (loaded phase only). */
  backgroundLostFrames: number;
  /** Each node's CPU over the window (a, then b), share of one core. */
  nodeCoreShares: number[];
  redisCoreShare: number;
  loadgenCoreShare: number;
  /** Cores used by other processes on the machine meanwhile, plus steal. */
  otherCoreShare: number;
  /** Frames per second the first viewer received: below `hz` when the drone's node ticks late. */
  framesPerSecond: number;
}

interface HopSetupNodes {
  nodes: RunningNode[];
  viewers: [HopViewer, HopViewer];
}

async function startSetup(setup: HopSetup, shape: HopShape, redisUrl: string): Promise<{ nodes: RunningNode[] }> {
  const drones = [hopDrone];
  const nodes: RunningNode[] = [];
  try {
    if (setup === "single") {
      nodes.push(await startNode({ drones, hz: shape.hz, redisUrl: null }));
      return { nodes };
    }
    await flushRedis(redisUrl);
    nodes.push(await startNode({ drones, hz: shape.hz, redisUrl, nodeId: "a" }));
    const first = await waitForCluster(redisUrl, drones, 1, clusterReadyTimeoutMilliseconds);
    if (first.owners[0] !== "a") throw new Error(`node a should own ${hopDrone}, but ${first.owners[0]} does`);
    nodes.push(await startNode({ drones, hz: shape.hz, redisUrl, nodeId: "b" }));
    await waitForCluster(redisUrl, drones, 2, clusterReadyTimeoutMilliseconds);
    return { nodes };
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
}

/** Records both viewers for one window and pairs their arrivals. */
async function timeWindow(
  running: HopSetupNodes,
  seconds: number,
  extraPids: number[],
  cores: readonly number[],
): Promise<Pick<HopSample, "firstLatency" | "secondLatency" | "hop" | "unpaired" | "nodeCoreShares" | "otherCoreShare" | "framesPerSecond"> & { extraShares: number[] }> {
  const [first, second] = running.viewers;
  const pids = [...running.nodes.flatMap((node) => node.serverPids), ...extraPids];
  const window = startCpuWindow(pids, cores);
  first.start();
  second.start();
  await Bun.sleep(seconds * 1000);
  const a = first.stop();
  const b = second.stop();
  const cpu = window.finish();
  const shares = cpu.shares;
  for (const viewer of running.viewers) if (viewer.closedEarly) throw new Error(`a timing viewer ${viewer.closedEarly}`);
  const pairs = pairArrivals(a.at, b.at);
  if (pairs.hopsMicros.length === 0) throw new Error("no frame reached both timing viewers in the window");
  return {
    firstLatency: percentilesOf([...a.latencyMicros.values()]),
    secondLatency: percentilesOf([...b.latencyMicros.values()]),
    hop: percentilesOf(pairs.hopsMicros),
    unpaired: pairs.unpaired,
    nodeCoreShares: shares.slice(0, running.nodes.length),
    extraShares: shares.slice(running.nodes.length),
    otherCoreShare: cpu.otherCores,
    framesPerSecond: a.at.size / cpu.wallSeconds,
  };
}

/** Background load generators: two, one per node (both on the single process), splitting the viewers evenly. */
const backgroundGroups = 2;

/** Opens the background viewers: group i on `nodes[i]` (or on the only node). */
async function openBackground(nodes: RunningNode[], shape: HopShape): Promise<LoadGroup[]> {
  const groups: LoadGroup[] = [];
  try {
    for (let i = 0; i < backgroundGroups; i++) {
      const node = nodes[Math.min(i, nodes.length - 1)]!;
      const connections = Math.floor(shape.backgroundViewers / backgroundGroups) + (i < shape.backgroundViewers % backgroundGroups ? 1 : 0);
      groups.push(
        await LoadGroup.open({
          port: node.port,
          path: `/drone?drone=${hopDrone}`,
          connections,
          processes: 1,
          core: shape.loadCore,
          behaviour: { mode: "listen", send: [subscribeMessage(hopDrone)], replies: 2, graceMilliseconds: lossGraceMilliseconds },
        }),
      );
    }
    return groups;
  } catch (error) {
    await Promise.all(groups.map((group) => group.close()));
    throw error;
  }
}

/** Both phases (idle, then with background viewers) of one setup, on fresh processes. */
export async function runHop(setup: HopSetup, shape: HopShape, redisUrl: string, redisPid: number, cores: readonly number[]): Promise<HopSample[]> {
  const { nodes } = await startSetup(setup, shape, redisUrl);
  const viewers: HopViewer[] = [];
  try {
    const [firstNode, secondNode] = setup === "redis" ? [nodes[0]!, nodes[1]!] : [nodes[0]!, nodes[0]!];
    viewers.push(await HopViewer.open(firstNode.port, hopDrone));
    viewers.push(await HopViewer.open(secondNode.port, hopDrone));
    const running: HopSetupNodes = { nodes, viewers: [viewers[0]!, viewers[1]!] };
    const redisPids = setup === "redis" ? [redisPid] : [];
    const samples: HopSample[] = [];

    await Bun.sleep(shape.warmupSeconds * 1000);
    const idle = await timeWindow(running, shape.measureSeconds, redisPids, cores);
    samples.push({ setup, load: "idle", ...omitExtra(idle), backgroundLatency: [], backgroundLostFrames: 0, redisCoreShare: idle.extraShares[0] ?? 0, loadgenCoreShare: 0 });

    const groups = await openBackground(nodes, shape);
    try {
      await Bun.sleep(shape.warmupSeconds * 1000);
      for (const group of groups) group.command("mark");
      const loaded = await timeWindow(running, shape.measureSeconds, [...redisPids, ...groups.flatMap((g) => g.pids)], cores);
      const byGroup = await Promise.all(groups.map((group) => group.stop()));
      const results = byGroup.flat();
      const lost = results.reduce((sum, r) => sum + (r.telemetry ? r.telemetry.lostInGaps + r.telemetry.framesBehind : 0), 0);
      const latencyOf = (group: typeof results) => {
        const latency = mergeSnapshots(group.map((r) => r.latency));
        return { count: latency.count, p50Micros: percentile(latency, 0.5), p99Micros: percentile(latency, 0.99) };
      };
      // One process: its viewers are one population, whichever load generator holds them.
      const backgroundLatency = setup === "single" ? [latencyOf(results)] : byGroup.map(latencyOf);
      samples.push({
        setup,
        load: "loaded",
        ...omitExtra(loaded),
        backgroundLatency,
        backgroundLostFrames: lost,
        redisCoreShare: redisPids.length ? loaded.extraShares[0]! : 0,
        loadgenCoreShare: loaded.extraShares.slice(redisPids.length).reduce((sum, s) => sum + s, 0),
      });
    } finally {
      await Promise.all(groups.map((group) => group.close()));
    }
    return samples;
  } finally {
    for (const viewer of viewers) viewer.close();
    await Promise.all(nodes.map((node) => node.stop()));
  }
}

function omitExtra<T extends { extraShares: number[] }>(value: T): Omit<T, "extraShares"> {
  const { extraShares: _, ...rest } = value;
  return rest;
}
