/** The subscribe rules as a pure plan: refuse, defer while backpressured, or go live with the resume first. */
import { describe, expect, test } from "bun:test";
import { planSubscription, type Streams, type Subscriber } from "../../../src/edge/endpoints/subscriptions.ts";
import type { ReplayPlan } from "../../../src/core/telemetry/replay-buffer.ts";

/** Two drones: alpha at seq 10 with frames 6..10 buffered, bravo with no frame yet. */
function streams(plans: Record<string, ReplayPlan> = {}): Streams {
  const latest: Record<string, number | null> = { alpha: 10, bravo: null };
  return {
    ids: ["alpha", "bravo"],
    has: (drone) => drone in latest,
    latestSeq: (drone) => latest[drone] ?? null,
    epoch: (drone) => `E${drone}`,
    // A since of another epoch is a reset, as TelemetryStreams.replay rules.
    replay: (drone, since, epoch) => (epoch !== undefined && epoch !== `E${drone}` ? { frames: [], lost: 0, reset: true } : (plans[`${drone}@${since}`] ?? { frames: [], lost: 0, reset: false })),
  };
}

const fresh: Subscriber = { subscriptions: [], stalled: false, maxSubscriptions: 2, telemetryHz: 10 };

describe("refusals", () => {
  test("an unknown drone, worded once", () => {
    expect(planSubscription({ drone: "zulu" }, streams(), fresh)).toEqual({
      kind: "refuse",
      error: { code: "unknown_drone", message: 'no drone "zulu": this server flies alpha, bravo', field: "data.drone" },
    });
  });

  test("an unknown drone in the all-drones since names that key", () => {
    const plan = planSubscription({ drone: "*", since: new Map([["zulu", 3]]) }, streams(), fresh);
    expect(plan).toMatchObject({ kind: "refuse", error: { code: "unknown_drone", field: "data.since.zulu" } });
  });

  test("past the limit, unless it is a subscription the socket already has", () => {
    const full: Subscriber = { ...fresh, subscriptions: ["alpha", "bravo"] };
    expect(planSubscription({ drone: "*" }, streams(), full)).toMatchObject({ kind: "refuse", error: { code: "too_many_subscriptions" } });
    expect(planSubscription({ drone: "alpha" }, streams(), full).kind).toBe("live");
  });
});

describe("live", () => {
  test("without since: the topic, and an ack with no replay", () => {
    expect(planSubscription({ drone: "alpha" }, streams(), fresh)).toEqual({
      kind: "live",
      subscription: "alpha",
      topic: "drone:alpha",
      resubscribe: false,
      ack: { drone: "alpha", subscribed: true, replayed: 0, latestSeq: 10, epoch: "Ealpha" },
      replay: [],
    });
  });

  test("a resume: events first (reset, lost), then the frames, and the topic dropped first if already held", () => {
    const plan = planSubscription({ drone: "alpha", since: 3 }, streams({ "alpha@3": { frames: ["f6", "f7"], lost: 2, reset: false } }), {
      ...fresh,
      subscriptions: ["alpha"],
    });
    expect(plan).toMatchObject({ kind: "live", resubscribe: true, ack: { drone: "alpha", subscribed: true, replayed: 2, lost: 2, latestSeq: 10, epoch: "Ealpha" } });
    if (plan.kind !== "live") throw new Error("expected live");
    expect(Object.keys(plan.ack)).toEqual(["drone", "subscribed", "replayed", "lost", "latestSeq", "epoch"]); // the ack's bytes are the wire's
    expect(plan.replay).toEqual([
      { event: { drone: "alpha", kind: "frames_lost", message: "2 frames after seq 3 are no longer buffered", lost: 2, from: 4, to: 5 } },
      { frame: "f6" },
      { frame: "f7" },
    ]);
  });

  test("a since ahead of the stream: stream_reset with the latest seq", () => {
    const plan = planSubscription({ drone: "alpha", since: 99 }, streams({ "alpha@99": { frames: [], lost: 0, reset: true } }), fresh);
    if (plan.kind !== "live") throw new Error("expected live");
    expect(plan.replay).toEqual([
      { event: { drone: "alpha", kind: "stream_reset", message: "seq 99 is ahead of this server's stream (it restarted): continuing live", latestSeq: 10, epoch: "Ealpha" } },
    ]);
  });

  test("every drone: the fleet topic, a latest seq per drone, replays drone by drone for those in since", () => {
    const plan = planSubscription({ drone: "*", since: new Map([["alpha", 8]]) }, streams({ "alpha@8": { frames: ["f9", "f10"], lost: 0, reset: false } }), fresh);
    expect(plan).toEqual({
      kind: "live",
      subscription: "*",
      topic: "fleet",
      resubscribe: false,
      ack: { drone: "*", subscribed: true, replayed: 2, lost: 0, latestSeq: { alpha: 10, bravo: null }, epoch: { alpha: "Ealpha", bravo: "Ebravo" } },
      replay: [{ frame: "f9" }, { frame: "f10" }],
    });
  });
});

describe("stream epochs (issue 19 #7)", () => {
  test("a since of another epoch is a stream_reset naming both epochs, even when its seq is within the stream: never a splice", () => {
    const plan = planSubscription({ drone: "alpha", since: 3, epoch: "Eold" }, streams({ "alpha@3": { frames: ["f4", "f5"], lost: 0, reset: false } }), fresh);
    if (plan.kind !== "live") throw new Error("expected live");
    expect(plan.ack).toEqual({ drone: "alpha", subscribed: true, replayed: 0, lost: 0, latestSeq: 10, epoch: "Ealpha" });
    expect(plan.replay).toEqual([
      {
        event: {
          drone: "alpha",
          kind: "stream_reset",
          message: "seq 3 is of stream epoch Eold, and this stream is epoch Ealpha (the server restarted or lost the stream): continuing live",
          latestSeq: 10,
          epoch: "Ealpha",
        },
      },
    ]);
  });

  test("a since of the stream's epoch replays as before", () => {
    const plan = planSubscription({ drone: "alpha", since: 3, epoch: "Ealpha" }, streams({ "alpha@3": { frames: ["f4"], lost: 0, reset: false } }), fresh);
    expect(plan).toMatchObject({ kind: "live", ack: { replayed: 1, epoch: "Ealpha" }, replay: [{ frame: "f4" }] });
  });

  test("every drone: each drone's epoch is checked on its own", () => {
    const since = new Map([["alpha", 3], ["bravo", 0]]);
    const plan = planSubscription({ drone: "*", since, epoch: new Map([["alpha", "Ealpha"], ["bravo", "Eold"]]) }, streams({ "alpha@3": { frames: ["f4"], lost: 0, reset: false } }), fresh);
    if (plan.kind !== "live") throw new Error("expected live");
    expect(plan.replay.map((item) => ("frame" in item ? item.frame : `${item.event.drone}:${item.event.kind}`))).toEqual(["f4", "bravo:stream_reset"]);
  });

  test("backpressured: a since of another epoch is not kept for the drain (the stream stands at its latest seq)", () => {
    const stalled: Subscriber = { ...fresh, stalled: true };
    expect(planSubscription({ drone: "alpha", since: 4, epoch: "Eold" }, streams(), stalled)).toMatchObject({ kind: "defer", sinceByDrone: new Map([["alpha", 10]]) });
    expect(planSubscription({ drone: "alpha", since: 4, epoch: "Ealpha" }, streams(), stalled)).toMatchObject({ kind: "defer", sinceByDrone: new Map([["alpha", 4]]) });
  });
});

describe("while backpressured: deferred until the socket drains", () => {
  const stalled: Subscriber = { ...fresh, stalled: true };
  const note = "socket is backpressured: telemetry resumes when it drains";

  test("one drone: where its stream stands for this socket is the client's since, else the latest seq", () => {
    expect(planSubscription({ drone: "alpha", since: 4 }, streams(), stalled)).toEqual({
      kind: "defer",
      subscription: "alpha",
      sinceByDrone: new Map([["alpha", 4]]),
      ack: { drone: "alpha", subscribed: true, replayed: 0, latestSeq: 10, epoch: "Ealpha", note },
    });
    expect(planSubscription({ drone: "bravo" }, streams(), stalled)).toMatchObject({ sinceByDrone: new Map([["bravo", null]]) });
  });

  test("every drone: each drone's since or latest seq", () => {
    expect(planSubscription({ drone: "*", since: new Map([["bravo", 0]]) }, streams(), stalled)).toEqual({
      kind: "defer",
      subscription: "*",
      sinceByDrone: new Map([["alpha", 10], ["bravo", 0]]),
      ack: { drone: "*", subscribed: true, replayed: 0, latestSeq: { alpha: 10, bravo: null }, epoch: { alpha: "Ealpha", bravo: "Ebravo" }, note },
    });
  });
});

describe("throttled (maxHz): the notice topic, the rate in the ack, and a resume that sends the latest frame, not the backlog", () => {
  const viewer: Subscriber = { subscriptions: [], stalled: false, maxSubscriptions: 4, telemetryHz: 10 };

  test("below the telemetry rate: the notice topic, and the ack says the rate", () => {
    expect(planSubscription({ drone: "alpha", maxHz: 2 }, streams(), viewer)).toEqual({
      kind: "live",
      subscription: "alpha",
      topic: "notices:drone:alpha",
      resubscribe: false,
      ack: { drone: "alpha", subscribed: true, replayed: 0, latestSeq: 10, epoch: "Ealpha", maxHz: 2 },
      replay: [],
      maxHz: 2,
    });
    expect(planSubscription({ drone: "*", maxHz: 1 }, streams(), { ...viewer, fleetTopic: "fleet:alpha" })).toMatchObject({ topic: "notices:fleet:alpha", maxHz: 1, ack: { maxHz: 1 } });
  });

  test("at or above the telemetry rate: the full-rate path, with no throttle", () => {
    for (const maxHz of [10, 50]) {
      const plan = planSubscription({ drone: "alpha", maxHz }, streams(), viewer);
      expect(plan).toMatchObject({ kind: "live", topic: "drone:alpha" });
      expect("maxHz" in plan).toBe(false);
      expect(plan.kind === "live" && "maxHz" in plan.ack).toBe(false);
    }
  });

  test("a throttled resume sends the newest frame after since, and no frames_lost for what it skips", () => {
    const plan = planSubscription({ drone: "alpha", since: 3, maxHz: 1 }, streams({ "alpha@3": { frames: ["f6", "f7", "f8"], lost: 2, reset: false } }), viewer);
    expect(plan).toMatchObject({ kind: "live", ack: { replayed: 1, lost: 0, latestSeq: 10, maxHz: 1 } });
    expect(plan.kind === "live" && plan.replay).toEqual([{ frame: "f8" }]);
  });

  test("a throttled resume of another stream still says stream_reset", () => {
    const plan = planSubscription({ drone: "alpha", since: 3, epoch: "Eold", maxHz: 1 }, streams(), viewer);
    expect(plan.kind === "live" && plan.replay).toEqual([
      { event: { drone: "alpha", kind: "stream_reset", message: "seq 3 is of stream epoch Eold, and this stream is epoch Ealpha (the server restarted or lost the stream): continuing live", latestSeq: 10, epoch: "Ealpha" } },
    ]);
  });

  test("a throttled resume of every drone: the newest frame of each", () => {
    const plan = planSubscription(
      { drone: "*", since: new Map([["alpha", 5], ["bravo", 1]]), maxHz: 0.5 },
      streams({ "alpha@5": { frames: ["a6", "a7"], lost: 0, reset: false }, "bravo@1": { frames: ["b2", "b3", "b4"], lost: 0, reset: false } }),
      viewer,
    );
    expect(plan).toMatchObject({ kind: "live", topic: "notices:fleet", ack: { replayed: 2, lost: 0, maxHz: 0.5 } });
    expect(plan.kind === "live" && plan.replay).toEqual([{ frame: "a7" }, { frame: "b4" }]);
  });

  test("backpressured: deferred with the rate kept for when it drains", () => {
    expect(planSubscription({ drone: "alpha", maxHz: 2 }, streams(), { ...viewer, stalled: true })).toMatchObject({ kind: "defer", maxHz: 2, ack: { maxHz: 2 } });
  });
});
