/** Tests for bench/seq-tracker.ts: gaps, repeats and subscribers left behind. */
import { expect, test } from "bun:test";
import { SeqTracker, streamHeads } from "./seq-tracker.ts";

test("a gap of seqs counts the frames in between as lost, per stream", () => {
  const tracker = new SeqTracker();
  for (const seq of [5, 6, 9, 10]) tracker.record(0, seq);
  for (const seq of [100, 101, 102]) tracker.record(7, seq);
  expect(tracker.lost).toBe(2);
  expect(tracker.received).toBe(7);
  expect(tracker.lastSeq(0)).toBe(10);
  expect(tracker.lastSeq(7)).toBe(102);
  expect(tracker.lastSeq(3)).toBe(-1);
});

test("the first frame of a stream sets its baseline without counting loss", () => {
  const tracker = new SeqTracker();
  tracker.record(2, 1000);
  expect(tracker.lost).toBe(0);
});

test("a seq at or below the last one is a repeat, not a loss", () => {
  const tracker = new SeqTracker();
  for (const seq of [1, 2, 2, 1, 3]) tracker.record(0, seq);
  expect(tracker.repeated).toBe(2);
  expect(tracker.lost).toBe(0);
});

test("framesBehind counts what a subscriber lacks against the newest seq anyone saw", () => {
  const upToDate = new SeqTracker();
  const stalled = new SeqTracker();
  for (const seq of [1, 2, 3, 4]) upToDate.record(0, seq);
  for (const seq of [7, 8]) upToDate.record(1, seq);
  for (const seq of [1, 2]) stalled.record(0, seq);
  const heads = streamHeads([upToDate, stalled], 2);
  expect([...heads]).toEqual([4, 8]);
  expect(upToDate.framesBehind(heads)).toBe(0);
  // Stream 1 was never seen by `stalled`: not counted (a silent subscriber is reported separately).
  expect(stalled.framesBehind(heads)).toBe(2);
});
