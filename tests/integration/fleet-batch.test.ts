/**
 * The all-drones subscription (`drone: "*"`): one `telemetry_batch` per tick
 * carrying every drone's frame, resume with a seq per drone, leases and
 * events on the same stream, and the errors for malformed requests.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { startSimServer } from "../support/server.ts";

let server: ReturnType<typeof startSimServer>;
beforeEach(() => {
  server = startSimServer({ drones: ["alpha", "bravo", "charlie"], telemetryHz: 10, replaySeconds: 2, failsafeSeconds: 3 });
});
afterEach(async () => {
  await server.stop();
});

const connect = (path = "/drone?drone=*") => DroneTestClient.connect(server.ws(path));
/** Every drone's stream epoch on the server, as the subscribe ack states it. */
const epochsOf = (running: typeof server) => Object.fromEntries(running.flight.fleet.ids.map((id) => [id, running.flight.epoch(id)]));
/** Every frame a client saw for one drone, replayed singles and batched, in arrival order. */
const seqsOf = (client: DroneTestClient, drone: string) => [
  ...client.telemetry.filter((frame) => frame.drone === drone).map((frame) => frame.seq),
  ...client.batches.flatMap((batch) => batch.frames).filter((frame: any) => frame.drone === drone).map((frame: any) => frame.seq),
];

describe("telemetry_batch", () => {
  test("?drone=* gets one batch per tick with every drone's frame, and no single frames", async () => {
    const client = await connect();
    expect(client.welcome.data.subscribed).toEqual(["*"]);
    server.advance(1);
    await client.waitBatches((batches) => batches.length === 10);
    expect(client.telemetry).toEqual([]);
    client.batches.forEach((batch, tick) => {
      expect(batch.frames.map((frame: any) => frame.drone)).toEqual(["alpha", "bravo", "charlie"]);
      expect(batch.frames.map((frame: any) => frame.seq)).toEqual([tick, tick, tick]);
      for (const frame of batch.frames) expect(frame.time).toBe(batch.time);
    });
  });

  test("a batch's frames are exactly the frames per-drone subscribers get", async () => {
    const batched = await connect();
    const single = await connect("/drone");
    server.advance(0.5);
    await batched.waitBatches((batches) => batches.length === 5);
    await single.waitTelemetry((frames) => frames.length === 15);
    expect(batched.batches.flatMap((batch) => batch.frames)).toEqual(single.telemetry);
  });

  test("subscribe and unsubscribe * by message", async () => {
    const client = await connect("/drone?drone=bravo");
    server.advance(0.2);
    const ack = await client.request("subscribe", { drone: "*" });
    expect(ack.data).toEqual({ drone: "*", subscribed: true, replayed: 0, lost: 0, latestSeq: { alpha: 1, bravo: 1, charlie: 1 }, epoch: epochsOf(server) });
    server.advance(0.3);
    await client.waitBatches((batches) => batches.length === 3);
    expect(client.batches.map((batch) => batch.frames[0].seq)).toEqual([2, 3, 4]);

    expect((await client.request("unsubscribe", { drone: "*" })).data).toEqual({ drone: "*", subscribed: false });
    server.advance(0.3);
    await client.waitTelemetry((frames) => frames.length === 8); // bravo's own subscription throughout: 0..7
    expect(client.batches.length).toBe(3);
    expect(client.telemetry.map((frame) => frame.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test("a batch is only built while someone watches it", async () => {
    const single = await connect("/drone");
    server.advance(0.5);
    await single.waitTelemetry((frames) => frames.length === 15);
    const batched = await connect();
    server.advance(0.1);
    await batched.waitBatches((batches) => batches.length === 1);
    expect(batched.batches[0].frames.map((frame: any) => frame.seq)).toEqual([5, 5, 5]);
  });
});

describe("resume with a seq per drone", () => {
  test("replays each drone's missed frames, then batches continue with no gap and no duplicate", async () => {
    const first = await connect();
    server.advance(0.5);
    await first.waitBatches((batches) => batches.length === 5);
    const since = { alpha: 4, bravo: 2 }; // pretend bravo's last frames were not processed; charlie is not resumed
    first.close();
    server.advance(0.4); // seqs 5..8 published while away

    const second = await connect("/drone?drone=charlie");
    const ack = await second.request("subscribe", { drone: "*", since });
    expect(ack.data).toEqual({ drone: "*", subscribed: true, replayed: 4 + 6, lost: 0, latestSeq: { alpha: 8, bravo: 8, charlie: 8 }, epoch: epochsOf(server) });
    server.advance(0.2);
    await second.waitBatches((batches) => batches.length === 2);
    expect(seqsOf(second, "alpha")).toEqual([5, 6, 7, 8, 9, 10]);
    expect(seqsOf(second, "bravo")).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test("frames older than the buffer are reported lost per drone, and a future seq is a stream reset", async () => {
    const client = await connect("/drone?drone=alpha");
    server.advance(3); // 30 frames; the buffer holds 20 (seqs 10..29)
    await client.waitTelemetry((frames) => frames.length === 30);
    const ack = await client.request("subscribe", { drone: "*", since: { bravo: 4, charlie: 500 } });
    expect(ack.data).toMatchObject({ replayed: 20, lost: 5 });
    const lost = await client.take((m) => m.type === "event" && m.data.kind === "frames_lost");
    expect(lost.data).toMatchObject({ drone: "bravo", lost: 5 });
    const reset = await client.take((m) => m.type === "event" && m.data.kind === "stream_reset");
    expect(reset.data).toMatchObject({ drone: "charlie", latestSeq: 29 });
  });
});

describe("leases and events", () => {
  test("reach * watchers for every drone", async () => {
    const watcher = await connect();
    const pilot = await connect("/drone?drone=bravo");
    await pilot.request("claim", { drone: "charlie" });
    const lease = await watcher.take((m) => m.type === "lease");
    expect(lease.data).toMatchObject({ drone: "charlie", pilot: pilot.session });
    await pilot.request("command", { drone: "charlie", name: "takeoff" });
    pilot.close();
    server.advance(0.5);
    const failsafe = await watcher.take((m) => m.type === "event" && m.data.kind === "failsafe");
    expect(failsafe.data.drone).toBe("charlie");
  });
});

describe("bad requests", () => {
  test("since for * must be an object of seqs, naming the bad field", async () => {
    const client = await connect("/drone?drone=alpha");
    const asNumber = await client.request("subscribe", { drone: "*", since: 4 });
    expect(asNumber.type).toBe("error");
    expect(asNumber.data).toMatchObject({ code: "invalid_args", field: "data.since" });
    expect(asNumber.data.message).toContain('{"alpha": 41}');
    const badSeq = await client.request("subscribe", { drone: "*", since: { alpha: -1 } });
    expect(badSeq.data).toMatchObject({ code: "invalid_args", field: "data.since.alpha" });
    const unknown = await client.request("subscribe", { drone: "*", since: { zulu: 3 } });
    expect(unknown.data).toMatchObject({ code: "unknown_drone", field: "data.since.zulu" });
    expect(unknown.data.message).toContain("alpha, bravo, charlie");
    // Nothing was subscribed by the refused requests.
    server.advance(0.2);
    await client.waitTelemetry((frames) => frames.length === 2);
    expect(client.batches).toEqual([]);
  });

  test("a seq map for a single drone is refused", async () => {
    const client = await connect("/drone?drone=alpha");
    const reply = await client.request("subscribe", { drone: "bravo", since: { bravo: 1 } });
    expect(reply.data).toMatchObject({ code: "invalid_args", field: "data.since" });
  });

  test("* is not a drone to fly", async () => {
    const client = await connect();
    const reply = await client.request("claim", { drone: "*" });
    expect(reply.data).toMatchObject({ code: "unknown_drone", field: "data.drone" });
    // A command without data.drone on a ?drone=* socket addresses the fleet's first drone.
    const command = await client.request("command", { name: "status" });
    expect(command.data.drone).toBe("alpha");
  });
});
