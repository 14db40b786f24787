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

  test("a restricted view of `*` (issue 14): its topic gets a batch of its drones only, and only their notices", () => {
    const streams = new TelemetryStreams(["alpha", "bravo", "charlie"], 10);
    const sent: Array<[string, string]> = [];
    streams.attach({ publish: (topic, text) => sent.push([topic, text]), subscriberCount: (topic) => (topic === "fleet" ? 0 : 1) });
    const view = streams.fleetView(["charlie", "alpha"]);
    expect(view).toBe("fleet:alpha,charlie");
    expect(streams.fleetView(["alpha", "charlie"])).toBe(view);
    streams.publishOwn(1000, [entry("alpha", 0), entry("bravo", 0), entry("charlie", 0)]);
    expect(sent.filter(([topic]) => topic.startsWith("fleet"))).toEqual([
      [view, '{"type":"telemetry_batch","data":{"time":1000,"frames":[{"drone":"alpha","seq":0},{"drone":"charlie","seq":0}]}}'],
    ]);
    sent.length = 0;
    streams.publishNotice("bravo", "bravo's lease");
    streams.publishNotice("alpha", "alpha's lease");
    expect(sent).toEqual([
      ["drone:bravo", "bravo's lease"],
      ["fleet", "bravo's lease"],
      ["drone:alpha", "alpha's lease"],
      ["fleet", "alpha's lease"],
      [view, "alpha's lease"],
    ]);
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

  test("resume after a restart: same epoch, seq on after the reserved one; a since up to it is a loss, beyond it a reset", () => {
    const streams = new TelemetryStreams(["alpha"], 10, () => "fresh");
    streams.resume("alpha", "kept", 40);
    expect(streams.epoch("alpha")).toBe("kept");
    expect(streams.nextSeq("alpha")).toBe(41);
    expect(streams.replay("alpha", 33, "kept")).toEqual({ frames: [], lost: 7, reset: false });
    expect(streams.replay("alpha", 41, "kept").reset).toBe(true);
    streams.publishOwn(0, [{ ...entry("alpha", 41), epoch: "kept" }]);
    expect(streams.replay("alpha", 33, "kept")).toEqual({ frames: ['{"type":"telemetry","data":{"drone":"alpha","seq":41}}'], lost: 7, reset: false });
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

describe("stream epochs and gaps (issue 19 #7, #8)", () => {
  const epochs = () => {
    let n = 0;
    return () => `E${++n}`;
  };
  const framed = (drone: string, seq: number, epoch?: string) => ({ ...entry(drone, seq), ...(epoch === undefined ? {} : { epoch }) });
  /** A node's mirrored stream of alpha whose viewers got up to seq 47 of epoch Ea; nothing recorded yet. */
  const viewersAt47 = () => {
    const streams = new TelemetryStreams(["alpha"], 100, epochs());
    const { sent, publisher } = recorder();
    streams.attach(publisher);
    streams.publishMirrored(0, [framed("alpha", 47, "Ea")]);
    sent.length = 0;
    return { streams, sent };
  };
  const events = (sent: Array<[string, string]>) => sent.filter(([topic, text]) => topic.startsWith("drone:") && text.includes('"type":"event"')).map(([, text]) => JSON.parse(text).data);

  test("each stream starts in a fresh epoch; a resume naming another epoch is a reset even within the stream's seqs", () => {
    const streams = new TelemetryStreams(["alpha", "bravo"], 10, epochs());
    expect([streams.epoch("alpha"), streams.epoch("bravo")]).toEqual(["E1", "E2"]);
    streams.publishOwn(0, [framed("alpha", 0, "E1")]);
    streams.publishOwn(0, [framed("alpha", 1, "E1")]);
    expect(streams.replay("alpha", 0, "E1")).toEqual({ frames: ['{"type":"telemetry","data":{"drone":"alpha","seq":1}}'], lost: 0, reset: false });
    expect(streams.replay("alpha", 0, "Eold")).toEqual({ frames: [], lost: 0, reset: true });
    expect(streams.replay("alpha", 0).reset).toBe(false); // no epoch: the seq rule alone, as before
  });

  test("mirrored frames of another epoch start the stream again, and live viewers are told before its first frame", () => {
    const streams = new TelemetryStreams(["alpha"], 10, epochs());
    const { sent, publisher } = recorder();
    streams.attach(publisher);
    streams.publishMirrored(0, [framed("alpha", 40, "Ea"), framed("alpha", 41, "Ea")]);
    expect(streams.epoch("alpha")).toBe("Ea");
    sent.length = 0;
    expect(streams.publishMirrored(0, [framed("alpha", 0, "Eb")]).map((e) => e.seq)).toEqual([0]);
    expect(sent.map(([topic, text]) => [topic, JSON.parse(text).type])).toEqual([
      ["drone:alpha", "event"],
      ["fleet", "event"],
      ["drone:alpha", "telemetry"],
    ]);
    expect(events(sent)).toEqual([
      {
        drone: "alpha",
        kind: "stream_reset",
        message: "alpha's telemetry stream changed from epoch Ea to Eb (the node flying it started a new stream): count seq afresh from the frames that follow",
        latestSeq: 41,
        epoch: "Eb",
      },
    ]);
    expect([streams.epoch("alpha"), streams.latestSeq("alpha")]).toEqual(["Eb", 0]);
    expect(streams.replay("alpha", 41, "Ea").reset).toBe(true);
    expect(streams.replay("alpha", -1, "Eb").frames.length).toBe(1);
  });

  test("a mirrored gap is announced to live viewers with its range, before the frame after it (issue 19 #8)", () => {
    const { streams, sent } = viewersAt47();
    streams.publishMirrored(0, [framed("alpha", 108, "Ea")]);
    expect(sent.map(([topic, text]) => `${topic} ${JSON.parse(text).type}`)).toEqual(["drone:alpha event", "fleet event", "drone:alpha telemetry"]);
    expect(events(sent)).toEqual([{ drone: "alpha", kind: "frames_lost", message: "60 frames of alpha (seq 48 to 107) never reached this node: they are lost", lost: 60, from: 48, to: 107 }]);
    // Duplicates and the next frame announce nothing.
    sent.length = 0;
    streams.publishMirrored(0, [framed("alpha", 108, "Ea"), framed("alpha", 109, "Ea")]);
    expect(events(sent)).toEqual([]);
  });

  test("backfill: a history of another epoch is the stream now; of the same epoch, it fills older frames as before", () => {
    const streams = new TelemetryStreams(["alpha"], 10, epochs());
    const { sent, publisher } = recorder();
    streams.attach(publisher);
    streams.backfill("alpha", [framed("alpha", 3, "Eold"), framed("alpha", 7, "Enew"), framed("alpha", 8, "Enew")]);
    expect([streams.epoch("alpha"), streams.latestSeq("alpha")]).toEqual(["Enew", 8]);
    expect(streams.replay("alpha", 6, "Enew").frames.length).toBe(2);
    expect(events(sent).map((e) => e.kind)).toEqual(["stream_reset"]);
    sent.length = 0;
    streams.backfill("alpha", [framed("alpha", 5, "Enew"), framed("alpha", 6, "Enew")]);
    expect(streams.replay("alpha", 4, "Enew").frames.length).toBe(4);
    expect(events(sent)).toEqual([]);
  });

  test("backfill: stored frames newer than what viewers here got are published to them in order, after frames_lost for what is missing", () => {
    const { streams, sent } = viewersAt47();
    // Redis kept 50..52 (48 and 49 were never stored): viewers get the gap announced, then 50..52 on both topics.
    streams.backfill("alpha", [framed("alpha", 46, "Ea"), framed("alpha", 47, "Ea"), framed("alpha", 50, "Ea"), framed("alpha", 51, "Ea"), framed("alpha", 52, "Ea")]);
    expect(sent.map(([topic, text]) => `${topic} ${JSON.parse(text).type} ${JSON.parse(text).data.seq ?? JSON.parse(text).data.kind}`)).toEqual([
      "drone:alpha event frames_lost",
      "fleet event frames_lost",
      "drone:alpha telemetry 50",
      "fleet telemetry 50",
      "drone:alpha telemetry 51",
      "fleet telemetry 51",
      "drone:alpha telemetry 52",
      "fleet telemetry 52",
    ]);
    expect(events(sent)).toMatchObject([{ kind: "frames_lost", from: 48, to: 49, lost: 2 }]);
    expect(streams.latestSeq("alpha")).toBe(52);
    expect(streams.replay("alpha", 49, "Ea").frames.length).toBe(3);
    // Read back again (a second catch-up): nothing new, nothing sent.
    sent.length = 0;
    streams.backfill("alpha", [framed("alpha", 51, "Ea"), framed("alpha", 52, "Ea")]);
    expect(sent).toEqual([]);
  });

  test("a takeover that continues past what viewers here got announces the frames they never got", () => {
    const { streams, sent } = viewersAt47();
    streams.continueFrom("alpha", 60);
    expect(events(sent)).toMatchObject([{ kind: "frames_lost", from: 48, to: 60, lost: 13 }]);
    expect(streams.nextSeq("alpha")).toBe(61);
    sent.length = 0;
    streams.continueFrom("alpha", 60);
    expect(sent).toEqual([]);
  });

  test("fork: a fresh epoch, seq goes on, the buffer starts empty, and live viewers are told", () => {
    const streams = new TelemetryStreams(["alpha"], 10, epochs());
    const { sent, publisher } = recorder();
    streams.attach(publisher);
    streams.publishOwn(0, [framed("alpha", 0, "E1")]);
    streams.publishOwn(0, [framed("alpha", 1, "E1")]);
    sent.length = 0;
    streams.fork("alpha", "its claim lapsed");
    expect(streams.epoch("alpha")).toBe("E2");
    expect(streams.nextSeq("alpha")).toBe(2);
    expect(events(sent)).toMatchObject([{ kind: "stream_reset", drone: "alpha", epoch: "E2", latestSeq: 1 }]);
    expect(events(sent)[0].message).toContain("its claim lapsed");
    // The old epoch's frames are not this stream's: a resume in it is a reset, in the new one it replays what follows.
    expect(streams.replay("alpha", 1, "E1").reset).toBe(true);
    streams.publishOwn(0, [framed("alpha", 2, "E2")]);
    expect(streams.replay("alpha", 1, "E2")).toEqual({ frames: ['{"type":"telemetry","data":{"drone":"alpha","seq":2}}'], lost: 0, reset: false });
  });

  test("a takeover prefers this node's newer copy only within the same epoch", async () => {
    const { ClusterMirror } = await import("../../../src/runtime/cluster/mirror.ts");
    const streams = new TelemetryStreams(["alpha"], 10, epochs());
    streams.attach(recorder().publisher);
    const mirror = new ClusterMirror(streams, () => false);
    mirror.ingestTick(0, [{ drone: "alpha", seq: 90, epoch: "Ea", dataJson: '{"drone":"alpha","seq":90}' }]);
    expect(mirror.takeOver("alpha", { seq: 50 } as never)?.seq).toBe(90);
    mirror.ingestTick(0, [{ drone: "alpha", seq: 91, epoch: "Ea", dataJson: '{"drone":"alpha","seq":91}' }]);
    streams.backfill("alpha", [{ drone: "alpha", seq: 50, epoch: "Eb", dataJson: '{"drone":"alpha","seq":50}' }]);
    expect(mirror.takeOver("alpha", { seq: 50 } as never)?.seq).toBe(50);
  });
});
