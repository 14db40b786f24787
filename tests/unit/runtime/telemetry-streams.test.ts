/** Telemetry streams: seq, buffers, publishing own and mirrored frames, the `*` batch, with a recording publisher. */
import { describe, expect, test } from "bun:test";
import { TelemetryStreams, type Publisher } from "../../../src/runtime/telemetry-streams.ts";

function recorder(fleetWatchers = 0) {
  const sent: Array<[string, string]> = [];
  const publisher: Publisher = { publish: (topic, text) => sent.push([topic, text]), subscriberCount: (topic) => (topic === "fleet" ? fleetWatchers : 0) };
  return { sent, publisher };
}

const entry = (drone: string, seq: number) => ({ drone, seq, dataJson: `{"drone":"${drone}","seq":${seq}}` });

describe("TelemetryStreams", () => {
  test("own frames: seq from nextSeq, buffered, published once per topic; a batch only while * is watched", () => {
    const streams = new TelemetryStreams(["alpha", "bravo"], 10);
    const { sent, publisher } = recorder(1);
    streams.attach(publisher);
    expect([streams.latestSeq("alpha"), streams.nextSeq("alpha")]).toEqual([null, 0]);
    streams.publishOwn(1234.6, [entry("alpha", 0), entry("bravo", 0)]);
    expect(sent).toEqual([
      ["drone:alpha", '{"type":"telemetry","data":{"drone":"alpha","seq":0}}'],
      ["drone:bravo", '{"type":"telemetry","data":{"drone":"bravo","seq":0}}'],
      ["fleet", '{"type":"telemetry_batch","data":{"time":1235,"frames":[{"drone":"alpha","seq":0},{"drone":"bravo","seq":0}]}}'],
    ]);
    expect(streams.nextSeq("alpha")).toBe(1);
    expect(streams.replay("alpha", -1).frames).toEqual(['{"type":"telemetry","data":{"drone":"alpha","seq":0}}']);
  });

  test("mirrored frames: duplicates dropped, a gap restarts the buffer, unknown vehicles ignored", () => {
    const streams = new TelemetryStreams(["alpha"], 10);
    streams.attach(recorder().publisher);
    expect(streams.publishMirrored(0, [entry("alpha", 5), entry("zulu", 1)]).map((e) => e.seq)).toEqual([5]);
    expect(streams.publishMirrored(0, [entry("alpha", 5), entry("alpha", 6)]).map((e) => e.seq)).toEqual([6]);
    expect(streams.publishMirrored(0, [entry("alpha", 9)]).map((e) => e.seq)).toEqual([9]);
    expect(streams.replay("alpha", 5)).toEqual({ frames: ['{"type":"telemetry","data":{"drone":"alpha","seq":9}}'], lost: 3, reset: false });
  });

  test("backfill fills older frames; continueFrom keeps a buffer that ends at the takeover seq", () => {
    const streams = new TelemetryStreams(["alpha"], 10);
    streams.backfill("alpha", [entry("alpha", 3), entry("alpha", 4)]);
    expect(streams.latestSeq("alpha")).toBe(4);
    streams.continueFrom("alpha", 4);
    expect(streams.replay("alpha", 2).frames.length).toBe(2);
    streams.continueFrom("alpha", 7);
    expect(streams.replay("alpha", 2).reset).toBe(true);
    expect(streams.nextSeq("alpha")).toBe(8);
  });

  test("notices go to the vehicle's topic and to *; nothing is published before attach", () => {
    const streams = new TelemetryStreams(["alpha"], 10);
    streams.publishNotice("alpha", "early");
    const { sent, publisher } = recorder();
    streams.attach(publisher);
    streams.publishNotice("alpha", '{"type":"lease"}');
    expect(sent).toEqual([["drone:alpha", '{"type":"lease"}'], ["fleet", '{"type":"lease"}']]);
  });
});

describe("ClusterMirror", () => {
  test("frames of vehicles owned here are ignored; a frame that is not JSON is dropped before any viewer sees it", async () => {
    const { ClusterMirror } = await import("../../../src/runtime/cluster/mirror.ts");
    const streams = new TelemetryStreams(["alpha", "bravo"], 10);
    const { sent, publisher } = recorder();
    streams.attach(publisher);
    const mirror = new ClusterMirror(streams, (drone) => drone === "bravo");
    mirror.ingestTick(0, [
      { drone: "alpha", seq: 0, dataJson: '{"drone":"alpha","seq":0,"pilot":null}' },
      { drone: "alpha", seq: 1, dataJson: '{"drone":"alpha","seq":1' },
      { drone: "bravo", seq: 0, dataJson: '{"drone":"bravo","seq":0}' },
    ]);
    expect(sent.map(([topic]) => topic)).toEqual(["drone:alpha"]);
    expect(mirror.frameOf("alpha")).toEqual({ drone: "alpha", seq: 0, pilot: null } as never);
    expect(mirror.frameOf("bravo")).toBeUndefined();
  });
});
