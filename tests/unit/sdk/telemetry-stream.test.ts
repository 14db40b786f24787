/**
 * The SDK's telemetry delivery rules (`client/sdk/telemetry-stream.ts`),
 * without a socket: dedupe by seq, frames held during a resume, and the
 * fresh count after a stream reset.
 */
import { describe, expect, test } from "bun:test";
import { TelemetryStreams, type SequencedFrame } from "../../../client/sdk/telemetry-stream.ts";

function frame(drone: string, seq: number): SequencedFrame {
  return { drone, seq };
}

/** The seqs of the frames `accept` lets through, in order. */
function delivered(streams: TelemetryStreams<SequencedFrame>, frames: SequencedFrame[]): number[] {
  return frames.filter((each) => streams.accept(each)).map((each) => each.seq);
}

describe("dedupe", () => {
  test("each frame once, and only above the last seq delivered, per drone", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    expect(streams.lastSeq("alpha")).toBeUndefined();
    expect(delivered(streams, [frame("alpha", 0), frame("alpha", 1), frame("alpha", 1), frame("alpha", 0), frame("alpha", 3)])).toEqual([0, 1, 3]);
    expect(delivered(streams, [frame("bravo", 0)])).toEqual([0]);
    expect(streams.lastSeq("alpha")).toBe(3);
    expect(streams.lastSeqsOfAll()).toEqual({ alpha: 3, bravo: 0 });
  });

  test("clear forgets every seq", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    delivered(streams, [frame("alpha", 5)]);
    streams.clear();
    expect(streams.lastSeqsOfAll()).toBeUndefined();
    expect(delivered(streams, [frame("alpha", 0)])).toEqual([0]);
  });
});

describe("resume", () => {
  test("live frames are held until the ack, then dropped: the replay that follows contains them", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    delivered(streams, [frame("alpha", 9)]);
    streams.holdForResume([["alpha", 9]]);
    expect(delivered(streams, [frame("alpha", 20), frame("alpha", 21), frame("bravo", 0)])).toEqual([0]);
    streams.resumed([["alpha", 9]], 21);
    expect(delivered(streams, [frame("alpha", 10), frame("alpha", 11)])).toEqual([10, 11]);
  });

  test("for *, the ack's latestSeq is one per drone", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    streams.holdForResume([
      ["alpha", 4],
      ["bravo", 4],
    ]);
    streams.resumed(
      [
        ["alpha", 4],
        ["bravo", 4],
      ],
      { alpha: 8, bravo: 2 },
    );
    expect(delivered(streams, [frame("alpha", 5)])).toEqual([5]);
    // bravo's since is beyond its stream: it restarted, so its frames stay held for the stream_reset.
    expect(delivered(streams, [frame("bravo", 3)])).toEqual([]);
    expect(streams.reset("bravo").map((each) => each.seq)).toEqual([3]);
  });

  test("a since beyond the stream keeps holding; the stream_reset releases the held frames in seq order", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    delivered(streams, [frame("alpha", 40)]);
    streams.holdForResume([["alpha", 40]]);
    streams.accept(frame("alpha", 2));
    streams.accept(frame("alpha", 1));
    streams.resumed([["alpha", 40]], 2);
    const held = streams.reset("alpha");
    expect(held.map((each) => each.seq)).toEqual([1, 2]);
    expect(streams.lastSeq("alpha")).toBeUndefined();
    expect(delivered(streams, held)).toEqual([1, 2]);
  });

  test("a failed resume, an unsubscribe or a lost socket stop holding", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    for (const stopHolding of [
      () => streams.cancelResume([["alpha", 0]]),
      () => streams.unwatched("alpha"),
      () => streams.socketLost(),
    ]) {
      streams.clear();
      streams.holdForResume([["alpha", 0]]);
      expect(streams.accept(frame("alpha", 1))).toBe(false);
      stopHolding();
      expect(streams.accept(frame("alpha", 1))).toBe(true);
    }
  });
});

describe("stream epochs (issue 19 #7)", () => {
  test("the welcome's epoch is kept for drones with no seq yet; a drone with a seq keeps the epoch of that seq for its resume", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    streams.welcomed([{ id: "alpha", epoch: "E1" }]);
    delivered(streams, [frame("alpha", 26)]);
    streams.welcomed([{ id: "alpha", epoch: "E2" }, { id: "bravo", epoch: "F1" }]);
    expect([streams.epoch("alpha"), streams.epoch("bravo")]).toEqual(["E1", "F1"]);
    expect(streams.epochsOfAll()).toEqual({ alpha: "E1" });
  });

  test("an ack of another epoch is a reset even when since is within the stream: the held frames wait for stream_reset", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    streams.welcomed([{ id: "alpha", epoch: "E1" }]);
    delivered(streams, [frame("alpha", 26)]);
    streams.holdForResume([["alpha", 26, "E1"]]);
    expect(delivered(streams, [frame("alpha", 40)])).toEqual([]);
    streams.resumed([["alpha", 26, "E1"]], 40, "E2");
    expect(delivered(streams, [frame("alpha", 41)])).toEqual([]); // still held: no splice of 27.. of the new stream
    expect(streams.reset("alpha", "E2").map((f) => f.seq)).toEqual([40, 41]);
    expect(streams.epoch("alpha")).toBe("E2");
    expect(streams.lastSeq("alpha")).toBeUndefined();
  });

  test("an ack of the same epoch drops the held frames, as the replay carries them", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    streams.welcomed([{ id: "alpha", epoch: "E1" }]);
    delivered(streams, [frame("alpha", 26)]);
    streams.holdForResume([["alpha", 26, "E1"]]);
    delivered(streams, [frame("alpha", 30)]);
    streams.resumed([["alpha", 26, "E1"]], 30, "E1");
    expect(delivered(streams, [frame("alpha", 27), frame("alpha", 28)])).toEqual([27, 28]);
  });
});

describe("gaps (issue 19 #8)", () => {
  test("a frame past last + 1 is a gap after the last seq; none before the first frame, while resuming, or after frames_lost", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    expect(streams.gapBefore(frame("alpha", 5))).toBeUndefined();
    delivered(streams, [frame("alpha", 5)]);
    expect(streams.gapBefore(frame("alpha", 6))).toBeUndefined();
    expect(streams.gapBefore(frame("alpha", 9))).toBe(5);
    streams.lost("alpha", 8);
    expect(streams.gapBefore(frame("alpha", 9))).toBeUndefined();
    expect(delivered(streams, [frame("alpha", 7), frame("alpha", 9)])).toEqual([9]);
    streams.holdForResume([["alpha", 9]]);
    expect(streams.gapBefore(frame("alpha", 20))).toBeUndefined();
  });

  test("release hands back held frames in seq order and stops holding", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    streams.holdForResume([["alpha", 1]]);
    delivered(streams, [frame("alpha", 4), frame("alpha", 3)]);
    expect(streams.release("alpha").map((f) => f.seq)).toEqual([3, 4]);
    expect(delivered(streams, [frame("alpha", 5)])).toEqual([5]);
  });
});

describe("throttled subscriptions (maxHz)", () => {
  test("a drone watched at maxHz skips seqs on purpose: no gap, every newer frame delivered, duplicates still dropped", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    streams.throttle("alpha", true);
    delivered(streams, [frame("alpha", 5)]);
    expect(streams.gapBefore(frame("alpha", 10))).toBeUndefined();
    expect(delivered(streams, [frame("alpha", 10), frame("alpha", 10), frame("alpha", 8), frame("alpha", 15)])).toEqual([10, 15]);
    // Another drone at full rate still reports its gaps.
    delivered(streams, [frame("bravo", 1)]);
    expect(streams.gapBefore(frame("bravo", 4))).toBe(1);
  });

  test("throttling `*` covers every drone; back at full rate, gaps count again", () => {
    const streams = new TelemetryStreams<SequencedFrame>();
    streams.throttle("*", true);
    delivered(streams, [frame("alpha", 1), frame("bravo", 1)]);
    expect(streams.gapBefore(frame("bravo", 9))).toBeUndefined();
    streams.throttle("*", false);
    expect(streams.gapBefore(frame("bravo", 9))).toBe(1);
  });
});
