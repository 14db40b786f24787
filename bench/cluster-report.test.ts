import { describe, expect, test } from "bun:test";
import type { HopSample } from "./cluster-hop.ts";
import {
  backgroundTable,
  formatSpread,
  hopSentence,
  micros,
  markdownTable,
  peerGoalLines,
  peerTable,
  scaleTable,
  summarizeHop,
  summarizePeers,
  summarizeScale,
  textTable,
  type ScaleRecord,
} from "./cluster-report.ts";
import type { ScaleSample } from "./cluster-scale.ts";

function scaleSample(workers: number, deliveriesPerSecond: number, workerShares: number[]): ScaleSample {
  return {
    workers,
    deliveriesPerSecond,
    ticksPerSecond: deliveriesPerSecond / 10_000,
    p50Micros: 8000,
    p99Micros: 20000,
    lostFrames: 0,
    viewersWithLoss: 0,
    viewersClosed: 0,
    viewersSilent: 0,
    workerCoreShares: workerShares,
    ownerWorker: 0,
    workersCoreShare: workerShares.reduce((a, b) => a + b, 0),
    supervisorCoreShare: 0,
    redisCoreShare: 0.01,
    loadgenCoreShare: 0.8,
    runnerCoreShare: 0,
    otherCoreShare: 0.02,
  };
}

const record = (round: number, workers: number, deliveries: number, shares: number[]): ScaleRecord => ({
  round,
  placement: "core0",
  workers,
  sample: scaleSample(workers, deliveries, shares),
  attempts: 1,
  disturbed: false,
});

describe("summarizeScale", () => {
  const records = [
    record(1, 1, 700_000, [1]),
    record(1, 2, 630_000, [0.5, 0.5]),
    record(2, 1, 600_000, [1]),
    record(2, 2, 660_000, [0.5, 0.5]),
    { round: 3, placement: "core0", workers: 2, error: "boom", attempts: 2, disturbed: false } satisfies ScaleRecord,
  ];
  const rows = summarizeScale(records, ["core0", "shared"], [1, 2, 4]);

  test("one row per placement and worker count that ran", () => {
    expect(rows.map((r) => `${r.placement}/${r.workers}`)).toEqual(["core0/1", "core0/2"]);
  });

  test("deliveries over 1 worker are paired by round, not a ratio of medians", () => {
    const two = rows[1]!;
    // round 1: 0.9, round 2: 1.1
    expect(two.versusOneWorker!.min).toBeCloseTo(0.9);
    expect(two.versusOneWorker!.max).toBeCloseTo(1.1);
    expect(two.versusOneWorker!.median).toBeCloseTo(1.0);
  });

  test("deliveries per worker core-second, per-worker shares and failures", () => {
    const two = rows[1]!;
    expect(two.deliveriesPerWorkerCoreSecond!.median).toBeCloseTo(645_000);
    expect(two.perWorkerCoreShare.map((s) => s.median)).toEqual([0.5, 0.5]);
    expect(two.runs).toBe(2);
    expect(two.errors).toEqual(["round 3: boom"]);
  });

  test("the table has a header and a row per summary row", () => {
    const cells = scaleTable(rows);
    expect(cells.length).toBe(3);
    expect(cells[1]![4]).toBe("1 (reference)");
    expect(cells[2]![4]).toBe("1.00x [0.90x–1.10x]");
    expect(cells[2]![10]).toBe("50% / 50%");
  });
});

describe("skyport and the Socket.IO peer side by side", () => {
  // skyport's workers spend 40 % of their CPU in user space, Socket.IO's 90 %.
  const userFraction = { skyport: 0.4, socketio: 0.9 };
  const peer = (round: number, server: "skyport" | "socketio", workers: number, deliveries: number, shares: number[], p99Micros: number): ScaleRecord => ({
    ...record(round, workers, deliveries, shares),
    server,
    sample: { ...scaleSample(workers, deliveries, shares), p99Micros, workerUserShares: shares.map((share) => share * userFraction[server]) },
  });
  const records: ScaleRecord[] = [
    peer(1, "skyport", 1, 700_000, [0.7], 20_000),
    peer(1, "socketio", 1, 100_000, [1], 80_000),
    peer(2, "skyport", 1, 800_000, [0.8], 30_000),
    peer(2, "socketio", 1, 110_000, [1], 60_000),
    peer(1, "skyport", 2, 600_000, [0.5, 0.5], 25_000),
    peer(1, "socketio", 2, 90_000, [0.5, 0.5], 90_000),
    // Round 2's Socket.IO run at 2 workers failed: its skyport run has nothing to pair with.
    peer(2, "skyport", 2, 640_000, [0.5, 0.5], 25_000),
    { round: 2, server: "socketio", placement: "core0", workers: 2, error: "boom", attempts: 1, disturbed: false },
  ];

  test("the scale table has a row per server, placement and worker count, labelled with the server", () => {
    const rows = summarizeScale(records, ["core0"], [1, 2], ["skyport", "socketio"]);
    expect(scaleTable(rows).slice(1).map((cells) => `${cells[0]} / ${cells[1]}`)).toEqual([
      "skyport on core 0 / 1",
      "skyport on core 0 / 2",
      "Socket.IO on core 0 / 1",
      "Socket.IO on core 0 / 2",
    ]);
    // Results from before the peer carry no server: they are skyport's.
    expect(summarizeScale([record(1, 1, 700_000, [1])], ["core0"], [1]).map((r) => r.server)).toEqual(["skyport"]);
  });

  test("deliveries per worker core-second and p99, and skyport's lead, are paired by round", () => {
    const rows = summarizePeers(records, ["core0", "shared"], [1, 2, 4]);
    expect(rows.map((r) => `${r.placement}/${r.workers}/${r.rounds}`)).toEqual(["core0/1/2", "core0/2/1"]);
    // Per core: skyport 1,000,000 in both rounds; Socket.IO 100,000 then 110,000.
    expect(rows[0]!.perCoreLead!.min).toBeCloseTo(1_000_000 / 110_000);
    expect(rows[0]!.perCoreLead!.max).toBeCloseTo(10);
    expect(rows[0]!.p99Ratio!.min).toBeCloseTo(0.25);
    expect(rows[0]!.p99Ratio!.max).toBeCloseTo(0.5);
    expect(peerTable(rows)).toEqual([
      [
        "placement", "workers", "skyport per core-s", "Socket.IO per core-s", "skyport ÷ Socket.IO", "skyport p99 ms", "Socket.IO p99 ms", "p99 skyport ÷ Socket.IO",
        "skyport µs user / sys", "Socket.IO µs user / sys", "rounds",
      ],
      // CPU per delivery: skyport 1 µs (0.4 user) in both rounds; Socket.IO 10 µs then 9.09 µs, 90 % user.
      ["on core 0", "1", "1.00M", "105k [100k–110k]", "9.55x [9.09x–10.00x]", "25.0 [20.0–30.0]", "70.0 [60.0–80.0]", "0.38x [0.25x–0.50x]", "0.400 / 0.600", "8.59 / 0.955", "2"],
      ["on core 0", "2", "600k", "90.0k", "6.67x", "25.0", "90.0", "0.28x", "0.667 / 1.00", "10.0 / 1.11", "1"],
    ]);
    // Results from before user and system time were read show no split.
    const unsplit = records.map((r) => ({ ...r, sample: r.sample && { ...r.sample, workerUserShares: undefined } }));
    expect(peerTable(summarizePeers(unsplit, ["core0"], [1]))[1]!.slice(8, 10)).toEqual(["–", "–"]);
  });

  test("each placement and worker count is judged against the goal: 10x per core, p99 no worse", () => {
    const rows = summarizePeers(records, ["core0"], [1, 2]);
    expect(peerGoalLines(rows)).toEqual([
      "- on core 0, 1 worker: 9.55x the deliveries per core (goal ≥ 10x), p99 0.38x Socket.IO's (goal ≤ 1x), median of 2 rounds: MISSED",
      "- on core 0, 2 workers: 6.67x the deliveries per core (goal ≥ 10x), p99 0.28x Socket.IO's (goal ≤ 1x), median of 1 round: MISSED",
    ]);
    const better = summarizePeers([...records.filter((r) => r.workers === 1 && r.server === "skyport"), { ...records[1]!, sample: { ...records[1]!.sample!, deliveriesPerSecond: 50_000 } }, { ...records[3]!, sample: { ...records[3]!.sample!, deliveriesPerSecond: 50_000 } }], ["core0"], [1]);
    expect(peerGoalLines(better)[0]).toEndWith("median of 2 rounds: MET");
  });
});

function hopSample(setup: HopSample["setup"], load: HopSample["load"], hop: [number, number], groups: Array<[number, number]> = []): HopSample {
  const latency = { count: 500, p50Micros: 700, p99Micros: 1500 };
  return {
    setup,
    load,
    firstLatency: latency,
    secondLatency: latency,
    hop: { count: 500, p50Micros: hop[0], p99Micros: hop[1] },
    unpaired: 0,
    backgroundLatency: groups.map(([p50Micros, p99Micros]) => ({ count: 50_000, p50Micros, p99Micros })),
    backgroundLostFrames: 0,
    nodeCoreShares: [0.1, 0.1],
    redisCoreShare: 0.01,
    loadgenCoreShare: 0,
    otherCoreShare: 0,
    framesPerSecond: 100,
  };
}

describe("hop summary", () => {
  const records = [1, 2, 3].flatMap((round) => [
    { round, setup: "single" as const, samples: [hopSample("single", "idle", [20, 100]), hopSample("single", "loaded", [200, 900], [[2000, 5000]])], attempts: 1, disturbed: false },
    { round, setup: "redis" as const, samples: [hopSample("redis", "idle", [130 + round, 400]), hopSample("redis", "loaded", [-500, 5000], [[1500, 4000], [1700 + round, 4500]])], attempts: 1, disturbed: false },
  ]);
  const rows = summarizeHop(records);

  test("one row per setup and load, medians over rounds", () => {
    expect(rows.map((r) => `${r.setup}/${r.load}`)).toEqual(["single/idle", "single/loaded", "redis/idle", "redis/loaded"]);
    expect(rows[2]!.hopP50).toEqual({ median: 132, min: 131, max: 133, count: 3 });
    expect(rows[2]!.samples).toBe(1500);
  });

  test("under load the hop is node b's percentile minus node a's, per round", () => {
    expect(rows[3]!.groupHopP50).toEqual({ median: 202, min: 201, max: 203, count: 3 });
    expect(rows[3]!.groupHopP99!.median).toBe(500);
    expect(rows[0]!.groupHopP50).toBeUndefined();
    expect(rows[1]!.groupHopP50).toBeUndefined();
    expect(backgroundTable(rows, 1000).map((r) => r.slice(0, 3))).toEqual([
      ["background viewers", "p50 µs", "p99 µs"],
      ["all 1,000 on one process, no Redis", "2,000", "5,000"],
      ["500 on node a (owner)", "1,500", "4,000"],
      ["500 on node b (via Redis)", "1,702 [1,701–1,703]", "4,500"],
      ["node b − node a, same frames", "202 [201–203]", "500"],
    ]);
  });

  test("the sentence the docs quote", () => {
    expect(hopSentence(rows, 1000)).toBe(
      "the Redis hop adds 132 µs at p50 and 400 µs at p99 with no other load (same frame, one viewer per node), against 20 / 100 µs between two viewers of one process; " +
        "with 1,000 background viewers, those on node b get frames 202 µs (p50) and 500 µs (p99) later than those on node a (medians over rounds).",
    );
  });

  test("no sentence without the Redis setup", () => {
    expect(hopSentence(rows.filter((r) => r.setup === "single"), 1000)).toBeNull();
  });
});

describe("formatting", () => {
  test("formatSpread leaves out a range every round agreed on", () => {
    const pct = (n: number) => `${Math.round(n * 100)}%`;
    expect(formatSpread({ median: 0.5, min: 0.5, max: 0.5, count: 3 }, pct)).toBe("50%");
    expect(formatSpread({ median: 0.5, min: 0.4, max: 0.6, count: 3 }, pct)).toBe("50% [40%–60%]");
    expect(formatSpread(undefined, pct)).toBe("–");
  });

  test("micros: whole µs, separators, sign kept", () => {
    expect(micros(123.4)).toBe("123");
    expect(micros(12_345.6)).toBe("12,346");
    expect(micros(-1_200)).toBe("-1,200");
  });

  test("text and Markdown tables", () => {
    const cells = [["a", "bb"], ["ccc", "d"]];
    expect(textTable(cells)).toBe("a    bb\nccc  d");
    expect(markdownTable(cells)).toBe("| a | bb |\n| --- | --- |\n| ccc | d |");
  });
});
