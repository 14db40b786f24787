/**
 * The scale-out benchmark's summary and tables: per (server, placement,
 * workers) and per (setup, load), each figure's median with min–max across
 * rounds, the deliveries of N workers over 1 worker paired by round,
 * skyport's lead over the Socket.IO peer per core and in p99 paired by
 * round, and the text and Markdown tables bench/cluster.ts prints and
 * docs/scaling.md and docs/benchmarks.md quote.
 *
 * Pure: samples in, numbers and strings out.
 */
import type { HopLoad, HopSample, HopSetup } from "./cluster-hop.ts";
import type { ScaleSample } from "./cluster-scale.ts";
import { formatCount, formatNumber } from "./report.ts";
import { spread, type Spread } from "./stats.ts";

/**
 * Where skyport runs in a scale run: `core0` pins the workers (and
 * redis-server) to core 0, leaving core 1 to the load generator; `shared`
 * leaves them unpinned, free to use core 1 as well, where the load
 * generator is pinned.
 */
export type Placement = "core0" | "shared";

export const placementLabels: Record<Placement, string> = {
  core0: "skyport on core 0",
  shared: "skyport unpinned",
};

/** Who serves the viewers in a scale run: skyport's workers, or the Socket.IO peer's (Redis adapter). */
export type ScaleServer = "skyport" | "socketio";

export const scaleServerNames: Record<ScaleServer, string> = { skyport: "skyport", socketio: "Socket.IO" };

/** A scale row's first cell: the server and where it ran, e.g. "Socket.IO on core 0". */
export function scaleLabel(server: ScaleServer, placement: Placement): string {
  return placementLabels[placement].replace("skyport", scaleServerNames[server]);
}

/** One scale run as recorded: its round, the server, where it ran, and what it measured or why it failed. */
export interface ScaleRecord {
  round: number;
  /** The workload's id (bench/cluster.ts); absent in results from before there were two: `deliveries`. */
  workload?: string;
  /** Absent in results from before the Socket.IO peer: skyport. */
  server?: ScaleServer;
  placement: Placement;
  workers: number;
  sample?: ScaleSample;
  error?: string;
  attempts: number;
  /** Other processes used more than the disturbance limit even in the attempt kept. */
  disturbed: boolean;
}

/** One hop setup's run (both its phases) as recorded. */
export interface HopRecord {
  round: number;
  setup: HopSetup;
  samples?: HopSample[];
  error?: string;
  attempts: number;
  disturbed: boolean;
}

export interface ScaleRow {
  server: ScaleServer;
  placement: Placement;
  workers: number;
  runs: number;
  deliveriesPerSecond?: Spread;
  ticksPerSecond?: Spread;
  /** Deliveries of this run over the 1-worker run of the same placement and round. */
  versusOneWorker?: Spread;
  /** Deliveries per second of worker CPU (deliveries/s over the workers' summed core share). */
  deliveriesPerWorkerCoreSecond?: Spread;
  p50Micros?: Spread;
  p99Micros?: Spread;
  lostFrames?: Spread;
  workersCoreShare?: Spread;
  /** Each worker's core share, by worker index. */
  perWorkerCoreShare: Spread[];
  supervisorCoreShare?: Spread;
  redisCoreShare?: Spread;
  loadgenCoreShare?: Spread;
  otherCoreShare?: Spread;
  /** Worker indexes that owned the drones, across runs. */
  ownerWorkers: number[];
  errors: string[];
}

export interface HopRow {
  setup: HopSetup;
  load: HopLoad;
  runs: number;
  firstP50?: Spread;
  firstP99?: Spread;
  secondP50?: Spread;
  secondP99?: Spread;
  hopP50?: Spread;
  hopP99?: Spread;
  samples: number;
  /**
   * Loaded rows: the background viewers' latency (`single`: all of them as
   * group 1; `redis`: node a's as group 1, node b's as group 2) and, for
   * `redis`, node b's percentile minus node a's per round.
   */
  group1P50?: Spread;
  group1P99?: Spread;
  group2P50?: Spread;
  group2P99?: Spread;
  groupHopP50?: Spread;
  groupHopP99?: Spread;
  backgroundLostFrames?: Spread;
  framesPerSecond?: Spread;
  nodesCoreShare?: Spread;
  redisCoreShare?: Spread;
  otherCoreShare?: Spread;
  errors: string[];
}

const spreadOf = <T>(items: readonly T[], value: (item: T) => number): Spread | undefined => spread(items.map(value));

export function summarizeScale(
  records: readonly ScaleRecord[],
  placements: readonly Placement[],
  workerCounts: readonly number[],
  servers: readonly ScaleServer[] = ["skyport"],
): ScaleRow[] {
  const rows: ScaleRow[] = [];
  for (const server of servers) {
    for (const placement of placements) {
      const ofServer = records.filter((r) => (r.server ?? "skyport") === server && r.placement === placement);
      const oneWorker = new Map(ofServer.filter((r) => r.workers === 1 && r.sample).map((r) => [r.round, r.sample!.deliveriesPerSecond]));
      for (const workers of workerCounts) {
        const mine = ofServer.filter((r) => r.workers === workers);
        if (mine.length === 0) continue;
        const samples = mine.flatMap((r) => (r.sample ? [r.sample] : []));
        const paired = mine.flatMap((r) => {
          const base = oneWorker.get(r.round);
          return r.sample && base ? [r.sample.deliveriesPerSecond / base] : [];
        });
        rows.push({
          server,
          placement,
          workers,
          runs: samples.length,
          deliveriesPerSecond: spreadOf(samples, (s) => s.deliveriesPerSecond),
          ticksPerSecond: spreadOf(samples, (s) => s.ticksPerSecond),
          versusOneWorker: spread(paired),
          deliveriesPerWorkerCoreSecond: spreadOf(samples, deliveriesPerCore),
          p50Micros: spreadOf(samples, (s) => s.p50Micros),
          p99Micros: spreadOf(samples, (s) => s.p99Micros),
          lostFrames: spreadOf(samples, (s) => s.lostFrames),
          workersCoreShare: spreadOf(samples, (s) => s.workersCoreShare),
          perWorkerCoreShare: Array.from({ length: workers }, (_, i) => spreadOf(samples, (s) => s.workerCoreShares[i] ?? NaN)).filter((s): s is Spread => s !== undefined),
          supervisorCoreShare: spreadOf(samples, (s) => s.supervisorCoreShare),
          redisCoreShare: spreadOf(samples, (s) => s.redisCoreShare),
          loadgenCoreShare: spreadOf(samples, (s) => s.loadgenCoreShare),
          otherCoreShare: spreadOf(samples, (s) => s.otherCoreShare),
          ownerWorkers: [...new Set(samples.map((s) => s.ownerWorker))].sort(),
          errors: mine.filter((r) => r.error).map((r) => `round ${r.round}: ${r.error}`),
        });
      }
    }
  }
  return rows;
}

/** Deliveries per second of worker CPU: deliveries/s over the workers' summed core share. */
const deliveriesPerCore = (s: ScaleSample): number => s.deliveriesPerSecond / s.workersCoreShare;

/** The workers' user CPU (their own code and runtime) per delivery, µs; NaN for a sample from before it was measured. */
export const userMicrosPerDelivery = (s: ScaleSample): number =>
  s.workerUserShares === undefined ? NaN : (s.workerUserShares.reduce((sum, share) => sum + share, 0) / s.deliveriesPerSecond) * 1e6;

/** The workers' system CPU (the kernel working for them) per delivery, µs; NaN for a sample from before it was measured. */
export const systemMicrosPerDelivery = (s: ScaleSample): number => (s.workersCoreShare / s.deliveriesPerSecond) * 1e6 - userMicrosPerDelivery(s);

/** skyport against the Socket.IO peer at one placement and worker count, paired by round. */
export interface PeerRow {
  placement: Placement;
  workers: number;
  skyportPerCore?: Spread;
  socketIoPerCore?: Spread;
  /** skyport's deliveries per worker core-second over Socket.IO's, per round (the goal: at least 10). */
  perCoreLead?: Spread;
  skyportP99?: Spread;
  socketIoP99?: Spread;
  /** skyport's p99 over Socket.IO's, per round (the goal: at most 1, no worse). */
  p99Ratio?: Spread;
  /** Worker CPU per delivery in µs, user (the server's own code and its runtime) and system (the kernel), for each server. */
  skyportUserMicros?: Spread;
  skyportSystemMicros?: Spread;
  socketIoUserMicros?: Spread;
  socketIoSystemMicros?: Spread;
  /** Rounds with both servers measured. */
  rounds: number;
}

/** One row per placement and worker count where both skyport and the Socket.IO peer were measured in some round. */
export function summarizePeers(records: readonly ScaleRecord[], placements: readonly Placement[], workerCounts: readonly number[]): PeerRow[] {
  const rows: PeerRow[] = [];
  for (const placement of placements) {
    for (const workers of workerCounts) {
      const of = (server: ScaleServer) =>
        new Map(records.filter((r) => (r.server ?? "skyport") === server && r.placement === placement && r.workers === workers && r.sample).map((r) => [r.round, r.sample!]));
      const skyport = of("skyport");
      const peer = of("socketio");
      const rounds = [...skyport.keys()].filter((round) => peer.has(round));
      if (rounds.length === 0) continue;
      const pairs = rounds.map((round) => ({ ours: skyport.get(round)!, theirs: peer.get(round)! }));
      rows.push({
        placement,
        workers,
        skyportPerCore: spreadOf(pairs, (p) => deliveriesPerCore(p.ours)),
        socketIoPerCore: spreadOf(pairs, (p) => deliveriesPerCore(p.theirs)),
        perCoreLead: spreadOf(pairs, (p) => deliveriesPerCore(p.ours) / deliveriesPerCore(p.theirs)),
        skyportP99: spreadOf(pairs, (p) => p.ours.p99Micros),
        socketIoP99: spreadOf(pairs, (p) => p.theirs.p99Micros),
        p99Ratio: spreadOf(pairs, (p) => p.ours.p99Micros / p.theirs.p99Micros),
        skyportUserMicros: spreadOf(pairs, (p) => userMicrosPerDelivery(p.ours)),
        skyportSystemMicros: spreadOf(pairs, (p) => systemMicrosPerDelivery(p.ours)),
        socketIoUserMicros: spreadOf(pairs, (p) => userMicrosPerDelivery(p.theirs)),
        socketIoSystemMicros: spreadOf(pairs, (p) => systemMicrosPerDelivery(p.theirs)),
        rounds: rounds.length,
      });
    }
  }
  return rows;
}

/** Issue 18's goal for the cluster: skyport delivers at least this many times Socket.IO's deliveries per worker core-second… */
export const perCoreLeadGoal = 10;
/** …with a p99 no worse than Socket.IO's (skyport's over Socket.IO's at most this). */
export const p99RatioGoal = 1;

/** One line per placement and worker count: skyport's lead per core and p99 ratio (medians over rounds) against the goal. */
export function peerGoalLines(rows: readonly PeerRow[]): string[] {
  return rows.map((row) => {
    const where = `${placementLabels[row.placement].replace("skyport ", "")}, ${row.workers} worker${row.workers > 1 ? "s" : ""}`;
    if (!row.perCoreLead || !row.p99Ratio) return `- ${where}: not measured`;
    const lead = row.perCoreLead.median;
    const p99 = row.p99Ratio.median;
    const met = lead >= perCoreLeadGoal && p99 <= p99RatioGoal;
    return (
      `- ${where}: ${ratio(lead)} the deliveries per core (goal ≥ ${perCoreLeadGoal}x), p99 ${ratio(p99)} Socket.IO's (goal ≤ ${p99RatioGoal}x), ` +
      `median of ${row.rounds} round${row.rounds > 1 ? "s" : ""}: ${met ? "MET" : "MISSED"}`
    );
  });
}

/** The side-by-side table: deliveries per worker core-second and p99, skyport and Socket.IO, and skyport's lead. */
export function peerTable(rows: readonly PeerRow[]): string[][] {
  const header = [
    "placement", "workers", "skyport per core-s", "Socket.IO per core-s", "skyport ÷ Socket.IO", "skyport p99 ms", "Socket.IO p99 ms", "p99 skyport ÷ Socket.IO",
    "skyport µs user / sys", "Socket.IO µs user / sys", "rounds",
  ];
  return [
    header,
    ...rows.map((row) => [
      placementLabels[row.placement].replace("skyport ", ""),
      String(row.workers),
      formatSpread(row.skyportPerCore, formatCount),
      formatSpread(row.socketIoPerCore, formatCount),
      formatSpread(row.perCoreLead, ratio),
      formatSpread(row.skyportP99, milliseconds),
      formatSpread(row.socketIoP99, milliseconds),
      formatSpread(row.p99Ratio, ratio),
      userSystem(row.skyportUserMicros, row.skyportSystemMicros),
      userSystem(row.socketIoUserMicros, row.socketIoSystemMicros),
      String(row.rounds),
    ]),
  ];
}

/** "user / system" µs per delivery, medians: "–" when not measured. */
function userSystem(user: Spread | undefined, system: Spread | undefined): string {
  return user && system ? `${formatNumber(user.median)} / ${formatNumber(system.median)}` : "–";
}

export function summarizeHop(records: readonly HopRecord[]): HopRow[] {
  const rows: HopRow[] = [];
  for (const setup of ["single", "redis"] as const) {
    const mine = records.filter((r) => r.setup === setup);
    if (mine.length === 0) continue;
    for (const load of ["idle", "loaded"] as const) {
      const samples = mine.flatMap((r) => r.samples ?? []).filter((s) => s.load === load);
      rows.push({
        setup,
        load,
        runs: samples.length,
        firstP50: spreadOf(samples, (s) => s.firstLatency.p50Micros),
        firstP99: spreadOf(samples, (s) => s.firstLatency.p99Micros),
        secondP50: spreadOf(samples, (s) => s.secondLatency.p50Micros),
        secondP99: spreadOf(samples, (s) => s.secondLatency.p99Micros),
        hopP50: spreadOf(samples, (s) => s.hop.p50Micros),
        hopP99: spreadOf(samples, (s) => s.hop.p99Micros),
        samples: samples.reduce((sum, s) => sum + s.hop.count, 0),
        ...groupSpreads(load === "loaded" ? samples : []),
        framesPerSecond: spreadOf(samples, (s) => s.framesPerSecond),
        nodesCoreShare: spreadOf(samples, (s) => s.nodeCoreShares.reduce((sum, share) => sum + share, 0)),
        redisCoreShare: spreadOf(samples, (s) => s.redisCoreShare),
        otherCoreShare: spreadOf(samples, (s) => s.otherCoreShare),
        errors: mine.filter((r) => r.error).map((r) => `round ${r.round}: ${r.error}`),
      });
    }
  }
  return rows;
}

/** The background viewers' figures of the loaded samples (none for idle ones). */
function groupSpreads(samples: readonly HopSample[]): Partial<HopRow> {
  const loaded = samples.filter((s) => s.backgroundLatency.length > 0);
  if (loaded.length === 0) return {};
  const group = (i: number, pick: (p: HopSample["firstLatency"]) => number) => spreadOf(loaded, (s) => (s.backgroundLatency[i] ? pick(s.backgroundLatency[i]) : NaN));
  const pairs = loaded.filter((s) => s.backgroundLatency.length === 2);
  return {
    group1P50: group(0, (p) => p.p50Micros),
    group1P99: group(0, (p) => p.p99Micros),
    group2P50: group(1, (p) => p.p50Micros),
    group2P99: group(1, (p) => p.p99Micros),
    groupHopP50: spreadOf(pairs, (s) => s.backgroundLatency[1]!.p50Micros - s.backgroundLatency[0]!.p50Micros),
    groupHopP99: spreadOf(pairs, (s) => s.backgroundLatency[1]!.p99Micros - s.backgroundLatency[0]!.p99Micros),
    backgroundLostFrames: spreadOf(loaded, (s) => s.backgroundLostFrames),
  };
}

// ------------------------------------------------------------ Formatting

/** `median [min–max]` with `format`, the range left out when every round agreed; `–` when absent. */
export function formatSpread(value: Spread | undefined, format: (n: number) => string): string {
  if (!value) return "–";
  const median = format(value.median);
  if (value.count === 1) return median;
  const min = format(value.min);
  const max = format(value.max);
  return min === max ? median : `${median} [${min}–${max}]`;
}

export const percent = (share: number): string => `${Math.round(share * 100)}%`;
/** µs shown as ms with three significant digits (delivery latencies under load are milliseconds). */
export const milliseconds = (micros: number): string => formatNumber(micros / 1000);
/** Whole µs with thousands separators; negative values (a hop can be) keep their sign. */
export const micros = (value: number): string => `${value < 0 ? "-" : ""}${Math.round(Math.abs(value)).toLocaleString("en-US")}`;
const ratio = (value: number): string => `${value.toFixed(2)}x`;
const loss = (value: number): string => (value === 0 ? "0" : formatCount(value));

/** Column headers and cells of the deliveries table. */
export function scaleTable(rows: readonly ScaleRow[]): string[][] {
  const header = ["placement", "workers", "deliveries/s", "ticks/s", "vs 1 worker", "per worker core-s", "p50 ms", "p99 ms", "lost", "workers CPU", "each worker", "redis", "loadgen", "others"];
  return [
    header,
    ...rows.map((row) => [
      scaleLabel(row.server, row.placement),
      String(row.workers),
      formatSpread(row.deliveriesPerSecond, formatCount),
      formatSpread(row.ticksPerSecond, (n) => String(Math.round(n))),
      row.workers === 1 ? "1 (reference)" : formatSpread(row.versusOneWorker, ratio),
      formatSpread(row.deliveriesPerWorkerCoreSecond, formatCount),
      formatSpread(row.p50Micros, milliseconds),
      formatSpread(row.p99Micros, milliseconds),
      formatSpread(row.lostFrames, loss),
      formatSpread(row.workersCoreShare, percent),
      row.perWorkerCoreShare.map((s) => percent(s.median)).join(" / "),
      formatSpread(row.redisCoreShare, percent),
      formatSpread(row.loadgenCoreShare, percent),
      formatSpread(row.otherCoreShare, percent),
    ]),
  ];
}

export const setupLabels: Record<HopSetup, string> = {
  single: "one process, no Redis",
  redis: "node a → Redis → node b",
};

/** The timing viewers' table: one row per setup and load, the hop paired frame by frame. */
export function hopTable(rows: readonly HopRow[], backgroundViewers: number): string[][] {
  const header = ["setup", "background", "viewer 1 p50 / p99 µs", "viewer 2 p50 / p99 µs", "hop p50 µs", "hop p99 µs", "frames", "frames/s", "skyport CPU", "redis"];
  return [
    header,
    ...rows.map((row) => [
      setupLabels[row.setup],
      row.load === "idle" ? "none" : `${backgroundViewers.toLocaleString("en-US")} viewers`,
      `${formatSpread(row.firstP50, micros)} / ${formatSpread(row.firstP99, micros)}`,
      `${formatSpread(row.secondP50, micros)} / ${formatSpread(row.secondP99, micros)}`,
      formatSpread(row.hopP50, micros),
      formatSpread(row.hopP99, micros),
      row.samples.toLocaleString("en-US"),
      formatSpread(row.framesPerSecond, (n) => String(Math.round(n))),
      formatSpread(row.nodesCoreShare, percent),
      row.setup === "redis" ? formatSpread(row.redisCoreShare, percent) : "–",
    ]),
  ];
}

/**
 * The background viewers' table: for the loaded phase, the same viewers on
 * one process, then on node a and node b, and node b minus node a.
 */
export function backgroundTable(rows: readonly HopRow[], backgroundViewers: number): string[][] {
  const all = backgroundViewers.toLocaleString("en-US");
  const half = (backgroundViewers / 2).toLocaleString("en-US");
  const header = ["background viewers", "p50 µs", "p99 µs", "lost"];
  const out: string[][] = [header];
  const single = rows.find((r) => r.setup === "single" && r.load === "loaded");
  if (single) out.push([`all ${all} on one process, no Redis`, formatSpread(single.group1P50, micros), formatSpread(single.group1P99, micros), formatSpread(single.backgroundLostFrames, loss)]);
  const cluster = rows.find((r) => r.setup === "redis" && r.load === "loaded");
  if (cluster) {
    out.push(
      [`${half} on node a (owner)`, formatSpread(cluster.group1P50, micros), formatSpread(cluster.group1P99, micros), formatSpread(cluster.backgroundLostFrames, loss)],
      [`${half} on node b (via Redis)`, formatSpread(cluster.group2P50, micros), formatSpread(cluster.group2P99, micros), ""],
      ["node b − node a, same frames", formatSpread(cluster.groupHopP50, micros), formatSpread(cluster.groupHopP99, micros), ""],
    );
  }
  return out;
}

/** Aligned plain text, one line per row, columns separated by two spaces. */
export function textTable(cells: readonly string[][]): string {
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => [...(row[column] ?? "")].length)));
  return cells.map((row) => row.map((cell, i) => cell + " ".repeat(widths[i]! - [...cell].length)).join("  ").trimEnd()).join("\n");
}

export function markdownTable(cells: readonly string[][]): string {
  const line = (row: readonly string[]) => `| ${row.join(" | ")} |`;
  return [line(cells[0]!), line(cells[0]!.map(() => "---")), ...cells.slice(1).map(line)].join("\n");
}

/** The answer to "what does the Redis hop cost", from the summary rows; null without the Redis setup. */
export function hopSentence(rows: readonly HopRow[], backgroundViewers: number): string | null {
  const find = (setup: HopSetup, load: HopLoad) => rows.find((r) => r.setup === setup && r.load === load);
  const idle = find("redis", "idle");
  if (!idle?.hopP50 || !idle.hopP99) return null;
  let sentence = `the Redis hop adds ${micros(idle.hopP50.median)} µs at p50 and ${micros(idle.hopP99.median)} µs at p99 with no other load (same frame, one viewer per node)`;
  const floor = find("single", "idle");
  if (floor?.hopP50 && floor.hopP99) sentence += `, against ${micros(floor.hopP50.median)} / ${micros(floor.hopP99.median)} µs between two viewers of one process`;
  const loaded = find("redis", "loaded");
  if (loaded?.groupHopP50 && loaded.groupHopP99) {
    sentence +=
      `; with ${backgroundViewers.toLocaleString("en-US")} background viewers, those on node b get frames ${micros(loaded.groupHopP50.median)} µs (p50) ` +
      `and ${micros(loaded.groupHopP99.median)} µs (p99) later than those on node a`;
  }
  return `${sentence} (medians over rounds).`;
}
