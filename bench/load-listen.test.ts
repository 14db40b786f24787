/** Tests for bench/load-listen.ts: the loss grace (frames still in flight after stop are late, not lost), what the streams produced, latency records. */
import { expect, test } from "bun:test";
import { LatencyHistogram } from "./histogram.ts";
import { framesProduced, graceFor, ListenLoad } from "./load-listen.ts";
import { encodeFrame, opcodes } from "../tests/support/frames.ts";

function latencies(micros: number[]) {
  const histogram = new LatencyHistogram();
  for (const value of micros) histogram.record(value);
  return histogram.snapshot();
}

test("the fixed grace stands while the window's p99 is well under it", () => {
  expect(graceFor(latencies([20_000, 50_000, 80_000]), 500)).toBe(500);
  expect(graceFor(latencies([]), 500)).toBe(500);
});

test("a slow fan-out gets twice its p99, bounded", () => {
  // The Socket.IO peer at the maximum rate: one burst to 1,000 sockets takes about 0.9 s.
  const slow = latencies(Array.from({ length: 100 }, (_, i) => (i + 1) * 9_500));
  // p99 is the 99th of 100 values, 940.5 ms (at its 100 µs bucket's midpoint).
  expect(graceFor(slow, 500)).toBeCloseTo(2 * 940.55, 1);
  expect(graceFor(latencies([900_000_000]), 500)).toBe(5000);
});

test("what the streams produced is each stream's advance from the mark, streams first seen later left out", () => {
  const atMark = Float64Array.from([100, 5, -1]);
  // Stream 0 advanced 200 frames, stream 1 none, stream 2 appeared after the mark; stream 3 is new in the table.
  expect(framesProduced(atMark, Float64Array.from([300, 5, 40, 7]))).toBe(200);
  expect(framesProduced(new Float64Array(0), Float64Array.from([1, 2]))).toBe(0);
});

test("every telemetry message's latency is recorded once, a tick's frames together", async () => {
  const load = new ListenLoad({ openingMessages: [], replies: 0, graceMilliseconds: 0 });
  const connection = { socket: null, upgraded: true, head: new Uint8Array(0), onUpgrade() {}, state: load.newState() };
  load.mark([connection]);
  const nowMicros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  // The reference's text frames: `R`, the send time in 16 digits of µs, the topic in 4, the seq in 10.
  const frame = (topic: number, seq: number, sentMicros: number) =>
    encodeFrame({ opcode: opcodes.text, mask: false, payload: `R${String(sentMicros).padStart(16, "0")}${String(topic).padStart(4, "0")}${String(seq).padStart(10, "0")}    ` });
  const olderTick = [0, 1, 2].map((topic) => frame(topic, 1, nowMicros - 90_000));
  const newerTick = [0, 1, 2].map((topic) => frame(topic, 2, nowMicros - 30_000));
  // One chunk ends inside a run of same-time frames and the next chunk carries on with it.
  load.data(connection, Buffer.concat([...olderTick, newerTick[0]!]));
  load.data(connection, Buffer.concat(newerTick.slice(1)));
  const result = await load.stop([connection]);
  expect(result.messages).toBe(6);
  expect(result.latency.count).toBe(6);
  const counts = result.latency.buckets.map(([, n]) => n);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(6);
  // 90 ms and 30 ms old (plus the test's own few ms), three messages each (one in the second chunk is a run of its own).
  expect(result.latency.maxMicros).toBeGreaterThanOrEqual(90_000);
  expect(result.latency.minMicros).toBeGreaterThanOrEqual(30_000);
  expect(result.latency.minMicros).toBeLessThan(90_000);
  expect(result.telemetry!.lostInGaps).toBe(0);
});
