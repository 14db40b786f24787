/** Tests for bench/report.ts: the table's columns (the Socket.IO peer's row, the rounds judged), the exclusion notes and verdicts. */
import { expect, test } from "bun:test";
import { exclusionNotes, markdownTable, textTable, verdictLines, type TableLabels } from "./report.ts";
import { summarize, type RunRecord } from "./stats.ts";
import { judge } from "./targets.ts";

const sample = (messagesPerSecond: number, cpuMicrosPerMessage: number, serverCoreShare: number, loadgenCoreShare: number) => ({
  messagesPerSecond,
  cpuMicrosPerMessage,
  serverCoreShare,
  loadgenCoreShare,
  lostFramesPerSubscriber: 0,
  messageBytes: 490,
});

const records: RunRecord[] = [
  { round: 1, scenario: "telemetry-max", server: "skyport", sample: sample(2.5e6, 0.35, 0.97, 0.99) },
  { round: 1, scenario: "telemetry-max", server: "bun", sample: sample(3.0e6, 0.3, 0.99, 0.99) },
  { round: 1, scenario: "telemetry-max", server: "socketio", sample: sample(118e3, 8.4, 0.99, 0.2) },
  { round: 2, scenario: "telemetry-max", server: "skyport", sample: sample(2.0e6, 0.44, 0.88, 0.99) },
  { round: 2, scenario: "telemetry-max", server: "bun", sample: sample(3.2e6, 0.31, 0.99, 0.99) },
  { round: 2, scenario: "telemetry-max", server: "socketio", sample: sample(120e3, 8.2, 0.99, 0.21) },
];
const labels: TableLabels = {
  scenarioTitles: { "telemetry-max": "telemetry max rate" },
  serverLabels: { skyport: "skyport", bun: "bare Bun.serve", socketio: "Socket.IO 4.8 on Node" },
  compared: { "telemetry-max": ["messagesPerSecond", "cpuMicrosPerMessage"] },
};
const rows = summarize(records, ["telemetry-max"], ["skyport", "bun", "socketio"]);

test("the table has a Socket.IO row and says on which rounds each row's ratios stand", () => {
  const lines = textTable(rows, labels).split("\n");
  expect(lines[0]).toMatch(/vs bare Bun\s+rounds judged$/);
  const row = (server: string) => lines.find((line) => line.includes(server))!;
  // skyport's round 2 (88% of its core, the load generator at 99%) is out: its ratios are round 1's alone.
  expect(row("skyport")).toContain("thr 0.83, cpu 1.17");
  expect(row("skyport")).toMatch(/1 of 2 \(r2 out\)$/);
  expect(row("bare Bun.serve")).toMatch(/1 \(reference\)\s+–$/);
  // Socket.IO saturated its core in both rounds, bare Bun too: both rounds count.
  expect(row("Socket.IO 4.8 on Node")).toContain("119k [118k–120k]");
  expect(row("Socket.IO 4.8 on Node")).toContain("thr 0.04, cpu 27.23 [26.45–28.00]");
  expect(row("Socket.IO 4.8 on Node")).toMatch(/2 of 2$/);
  expect(markdownTable(rows, labels).split("\n")[0]).toBe(
    "| scenario | server | msgs/s | p50 µs | p99 µs | CPU µs/msg | server CPU | loadgen CPU | RSS/conn | lost/sub | of asked | msg size | vs bare Bun | rounds judged |",
  );
});

test("every excluded round gets a note with its reason, and the verdict says on how many rounds it stands", () => {
  expect(exclusionNotes(rows, labels)).toEqual([
    "note: skyport, telemetry max rate: round 2's ratios not judged: load generator bound (loadgen 99% with skyport, 99% with bun; skyport 88% of its core)",
  ]);
  const lines = verdictLines(judge(rows));
  const throughput = lines.find((line) => line.startsWith("- deliveries per second at the maximum rate"))!;
  expect(throughput).toContain("0.833x [0.833x–0.833x] on 1 round, target ≥ 0.950x: MISSED");
  expect(throughput).toContain("; round 2 not judged (see notes)");
});

test("a row with no fair round shows every round's ratios as not judged", () => {
  const unfair = summarize(records.filter((r) => r.round === 2), ["telemetry-max"], ["skyport", "bun"]);
  const line = textTable(unfair, labels).split("\n").find((l) => l.startsWith("telemetry max rate") && l.includes("skyport"))!;
  expect(line).toContain("not judged (all rounds: thr 0.63, cpu 1.42)");
  expect(line).toMatch(/0 of 1 \(r2 out\)$/);
  const verdict = verdictLines(judge(unfair)).find((l) => l.startsWith("- deliveries per second at the maximum rate"))!;
  expect(verdict).toBe("- deliveries per second at the maximum rate: not judged: no fair round (needs ≥ 0.950x); round 2 not judged (see notes)");
});
