/**
 * `subscribe` `maxHz` over real sockets on the fake clock: a throttled
 * viewer gets the latest frame at most that often, its leases and events as
 * they happen, an exact resume with `since` (the newest frame, never the
 * backlog), and full-rate viewers beside it get every frame as before. The
 * SDK reports no gap for the seqs a throttled subscription skips.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { SkyportClient } from "../../client/sdk/index.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { startSimServer } from "../support/server.ts";

let server: ReturnType<typeof startSimServer>;
const cleanups: Array<() => unknown> = [];
beforeEach(() => {
  server = startSimServer({ drones: ["alpha", "bravo"], telemetryHz: 10, replaySeconds: 5 });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server.stop();
});

async function connect(path: string): Promise<DroneTestClient> {
  const client = await DroneTestClient.connect(server.ws(path));
  cleanups.push(() => client.close());
  return client;
}

/** Everything the server sent the client before now has arrived: a ping's pong comes after it. */
async function settled(client: DroneTestClient): Promise<void> {
  const pong = await client.request("ping");
  expect(pong.type).toBe("pong");
}

async function until(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

test("maxHz 2 on a 10 Hz stream: two frames a second, each the latest, while a full-rate viewer gets all ten", async () => {
  const slow = await connect("/drone?drone=alpha");
  const full = await connect("/drone?drone=alpha");
  const ack = await slow.request("subscribe", { drone: "alpha", maxHz: 2 });
  expect(ack.data).toMatchObject({ drone: "alpha", subscribed: true, replayed: 0, latestSeq: null, maxHz: 2 });
  server.advance(3);
  await settled(slow);
  await full.waitTelemetry((frames) => frames.length === 30);
  expect(slow.telemetry.map((frame) => frame.seq)).toEqual([0, 5, 10, 15, 20, 25]);
  // Each is the frame the full-rate viewer got for that seq: the latest state at that tick, not an older one.
  for (const frame of slow.telemetry) expect(frame).toEqual(full.telemetry[frame.seq]);
  expect(full.telemetry.map((frame) => frame.seq)).toEqual([...Array(30).keys()]);
});

test("leases and events reach a throttled viewer at once, not at its frame rate", async () => {
  const slow = await connect("/drone?drone=alpha");
  await slow.request("subscribe", { drone: "alpha", maxHz: 0.5 });
  const pilot = await connect("/drone?drone=bravo");
  await pilot.request("claim", { drone: "alpha" });
  const lease = await slow.take((message) => message?.type === "lease" && message.data.pilot === pilot.session);
  expect(lease.data).toMatchObject({ drone: "alpha", reason: "claimed" });
});

test("a resume with since sends the newest frame after it, not the backlog, and no frames_lost", async () => {
  const slow = await connect("/drone?drone=bravo");
  server.advance(2); // alpha at seq 19, all buffered
  const ack = await slow.request("subscribe", { drone: "alpha", since: 4, epoch: server.flight.epoch("alpha"), maxHz: 1 });
  expect(ack.data).toMatchObject({ drone: "alpha", replayed: 1, lost: 0, latestSeq: 19, maxHz: 1 });
  await settled(slow);
  expect(slow.telemetry.filter((frame) => frame.drone === "alpha").map((frame) => frame.seq)).toEqual([19]);
  expect(slow.messages.filter((message) => message?.type === "event")).toEqual([]);
  // The frame it was just sent counts: the next comes a whole interval later.
  server.advance(1.5);
  await settled(slow);
  expect(slow.telemetry.filter((frame) => frame.drone === "alpha").map((frame) => frame.seq)).toEqual([19, 29]);
});

test("every drone at maxHz 1: one batch a second; the full-rate * viewer gets ten", async () => {
  const slow = await connect("/drone?drone=*");
  const full = await connect("/drone?drone=*");
  await slow.request("subscribe", { drone: "*", maxHz: 1 });
  server.advance(3);
  await full.waitBatches((batches) => batches.length === 30);
  await settled(slow);
  expect(slow.batches.map((batch) => batch.frames.map((frame: any) => frame.seq))).toEqual([[0, 0], [10, 10], [20, 20]]);
});

test("subscribing again without maxHz is the full rate; unsubscribing and closing leave no throttled viewer behind", async () => {
  const slow = await connect("/drone?drone=alpha");
  await slow.request("subscribe", { drone: "alpha", maxHz: 2 });
  expect(server.flight.throttledViewers.count("drone:alpha")).toBe(1);
  await slow.request("subscribe", { drone: "alpha" });
  expect(server.flight.throttledViewers.count("drone:alpha")).toBe(0);
  server.advance(1);
  await slow.waitTelemetry((frames) => frames.length === 10);
  await slow.request("subscribe", { drone: "alpha", maxHz: 2 });
  await slow.request("unsubscribe", { drone: "alpha" });
  expect(server.flight.throttledViewers.any).toBe(false);
  server.advance(1);
  await settled(slow);
  expect(slow.telemetry.length).toBe(10);

  const other = await connect("/drone?drone=alpha");
  await other.request("subscribe", { drone: "*", maxHz: 2 });
  expect(server.flight.throttledViewers.count("fleet")).toBe(1);
  other.close();
  await until("the closed socket's throttle to go", () => !server.flight.throttledViewers.any);
});

test("the SDK at maxHz 2: about two frames a second, no gap fetched for the skipped seqs, and the rate kept", async () => {
  const sent: any[] = [];
  /** A WebSocket that records what the SDK sends. */
  class RecordingSocket extends WebSocket {
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      sent.push(JSON.parse(String(data)));
      super.send(data);
    }
  }
  const sdk = new SkyportClient({ url: server.ws("/drone?drone=alpha"), WebSocketImpl: RecordingSocket });
  cleanups.push(() => sdk.close());
  const seqs: number[] = [];
  const errors: unknown[] = [];
  sdk.on("telemetry", (frame) => seqs.push(frame.seq));
  sdk.on("error", (error) => errors.push(error));
  sdk.connect();
  await until("the welcome", () => sdk.state === "open");
  expect(sdk.watching()).toEqual(["alpha"]);
  expect(sdk.maxHzOf("alpha")).toBeNull();
  const ack = await sdk.subscribe("alpha", undefined, undefined, { maxHz: 2 });
  expect(ack.maxHz).toBe(2);
  expect(sdk.watching()).toEqual(["alpha"]);
  expect(sdk.maxHzOf("alpha")).toBe(2);
  for (let second = 0; second < 4; second++) {
    server.advance(1);
    await sdk.ping();
  }
  await until("eight frames", () => seqs.length === 8);
  expect(seqs).toEqual([0, 5, 10, 15, 20, 25, 30, 35]);
  expect(sent.filter((message) => message.type === "subscribe")).toEqual([{ type: "subscribe", id: expect.anything(), data: { drone: "alpha", maxHz: 2 } }]);
  expect(errors).toEqual([]);
});
