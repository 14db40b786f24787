/**
 * Replays of recorded flights over real /drone sockets, real signatures and
 * a real SQLite store, on the fake clock: a flight flown and recorded is
 * played back as `replay:<flight-id>` whose frames are the recorded ones in
 * order and timing; pause, seek and stop; every refusal (bad ids and speeds,
 * flying a replay, a viewer without rights); the end of an unwatched replay;
 * the SDK's replay methods and events.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { replayIdleSeconds } from "../../../src/runtime/replay/replays.ts";
import { openSqliteStore } from "../../../src/runtime/recorder/sqlite-store.ts";
import type { FrameRow } from "../../../src/runtime/recorder/store.ts";
import { SkyportClient } from "../../../client/sdk/index.ts";
import { DroneTestClient } from "../../support/drone-client.ts";
import { seconds, signHs256, testSecret, type TestClaims } from "../../support/jwt.ts";
import { tempDataDir } from "../../support/recorder.ts";
import { startSimServer } from "../../support/server.ts";
import { openSocket } from "../../support/sockets.ts";

const dir = tempDataDir();
let server: ReturnType<typeof startSimServer>;
let flightId = "";
let replayId = "";
let recorded: FrameRow[] = [];
const token = (claims: TestClaims) => signHs256({ exp: seconds(server.flight.wallMs()) + 3600, ...claims });

/** A socket signed in with `scope`, welcomed. */
async function signedIn(scope: string, sub = "vic"): Promise<DroneTestClient> {
  const client = DroneTestClient.wrap(await openSocket(server.ws("/drone")));
  client.send({ type: "hello", id: "hi", data: { token: await token({ sub, scope }) } });
  await client.welcomed();
  return client;
}

/** Advances the fake clock a tick at a time, letting the store's reads and the sockets run between ticks, until `condition` holds. */
async function advanceUntil(condition: () => boolean, seconds: number): Promise<void> {
  const tick = 1 / server.config.telemetryHz;
  for (let t = 0; t < seconds && !condition(); t += tick) {
    server.advance(tick);
    await Bun.sleep(1);
  }
  expect(condition()).toBe(true);
}

const framesOf = (client: DroneTestClient, drone: string) => client.telemetry.filter((frame) => frame.drone === drone);

beforeAll(async () => {
  server = startSimServer({ drones: ["alpha", "bravo"], jwtSecret: testSecret }, { recording: { store: openSqliteStore(dir.path), recovery: [] } });
  const pilot = await signedIn("fly:*", "alice");
  expect((await pilot.request("claim", { drone: "alpha" }, "c")).type).toBe("ack");
  expect((await pilot.request("command", { drone: "alpha", name: "takeoff" }, "t")).type).toBe("ack");
  await advanceUntil(() => pilot.messages.some((m) => m?.type === "done" && m.id === "t"), 10);
  expect((await pilot.request("command", { drone: "alpha", name: "forward", args: [10] }, "f")).type).toBe("ack");
  await advanceUntil(() => pilot.messages.some((m) => m?.type === "done" && m.id === "f"), 20);
  expect((await pilot.request("command", { drone: "alpha", name: "land" }, "l")).type).toBe("ack");
  await advanceUntil(() => pilot.messages.some((m) => m?.type === "done" && m.id === "l"), 20);
  server.advance(2);
  await server.recorder!.flush();
  pilot.close();
  const [flight] = await server.recorder!.store.flights({ drone: "alpha", limit: 1 });
  flightId = flight!.id;
  replayId = `replay:${flightId}`;
  recorded = await server.recorder!.store.frames({ flightId, limit: 10_000 });
  expect(recorded.length).toBeGreaterThan(20);
});
afterAll(async () => {
  await server.stop();
  dir.remove();
});

describe("a replay of a recorded flight", () => {
  test("plays the recorded frames in order and timing at 4x, as a vehicle its recorded vehicle's viewers hear of", async () => {
    const alphaViewer = await signedIn("view:alpha");
    expect((await alphaViewer.request("subscribe", { drone: "alpha" }, "s")).type).toBe("ack");
    const watcher = await signedIn("view:alpha");
    const started = await watcher.request("replay_start", { flight: flightId, speed: 4 }, "r");
    expect(started).toMatchObject({ type: "ack", id: "r", data: { drone: replayId, flight: flightId, recordedDrone: "alpha", speed: 4, paused: false, positionMs: 0, ended: false } });
    const flight = (await server.recorder!.store.flight(flightId))!;
    expect(started.data.durationMs).toBe(flight.endedAt! - flight.startedAt);
    expect(started.data.durationMs).toBeGreaterThanOrEqual(recorded.at(-1)!.time - recorded[0]!.time);
    const added = await alphaViewer.take((m) => m?.type === "vehicle");
    expect(added.data).toEqual({ drone: replayId, change: "added", kind: "replay", flight: flightId, recordedDrone: "alpha" });

    const subscribed = await watcher.request("subscribe", { drone: replayId }, "s");
    expect(subscribed.data).toMatchObject({ drone: replayId, subscribed: true });
    expect((await watcher.take((m) => m?.type === "replay")).data).toMatchObject({ drone: replayId, speed: 4 });
    // A viewer that comes now finds it in its welcome.
    const late = await signedIn("view:*");
    expect(late.welcome.data.drones.map((d: any) => d.id)).toEqual(["alpha", "bravo", replayId]);
    expect(late.welcome.data.drones[2]).toMatchObject({ replay: { flight: flightId, recordedDrone: "alpha" }, pilot: null });
    late.close();

    await advanceUntil(() => watcher.messages.some((m) => m?.type === "replay" && m.data.ended), 60);
    const frames = framesOf(watcher, replayId);
    // Every recorded frame, in order, as recorded but for the replay's own drone, seq and time.
    expect(frames.map((f) => f.recorded.seq)).toEqual(recorded.map((row) => row.seq));
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
    for (const [i, frame] of frames.entries()) {
      const original = JSON.parse(recorded[i]!.data);
      expect(frame.recorded.time).toBe(original.time);
      expect({ position: frame.position, state: frame.state, battery: frame.battery, heading: frame.heading, pilot: frame.pilot }).toEqual({ position: original.position, state: original.state, battery: original.battery, heading: original.heading, pilot: null });
    }
    // At 4x: each frame comes a quarter of its recorded time after the first, give or take one tick.
    const tickMs = 1000 / server.config.telemetryHz;
    for (const frame of frames) {
      const expected = (frame.recorded.time - frames[0].recorded.time) / 4;
      expect(Math.abs(frame.time - frames[0].time - expected)).toBeLessThanOrEqual(tickMs);
    }
    alphaViewer.close();
    watcher.close();
  }, 30_000);

  test("pauses, seeks (showing the frame there at once) and stops, and everybody watching hears it end", async () => {
    const watcher = await signedIn("view:alpha");
    const second = await signedIn("view:*");
    // The replay of the first test still plays (ended, held at its end): starting it again joins it.
    const joined = await second.request("replay_start", { flight: flightId, speed: 1 }, "j");
    expect(joined.data).toMatchObject({ drone: replayId, speed: 4, ended: true });
    for (const client of [watcher, second]) expect((await client.request("subscribe", { drone: replayId }, "s")).type).toBe("ack");

    const sought = await watcher.request("replay_control", { drone: replayId, positionMs: 0, paused: true, speed: 2 }, "p");
    expect(sought.data).toMatchObject({ paused: true, positionMs: 0, speed: 2, ended: false });
    await advanceUntil(() => framesOf(second, replayId).length >= 1, 2);
    expect(framesOf(second, replayId)[0].recorded.seq).toBe(recorded[0]!.seq);
    server.advance(3);
    await Bun.sleep(20);
    expect(framesOf(second, replayId)).toHaveLength(1);
    expect((await second.take((m) => m?.type === "replay" && m.data.paused)).data.positionMs).toBe(0);

    const middle = Math.round((recorded[Math.floor(recorded.length / 2)]!.time - recorded[0]!.time));
    expect((await second.request("replay_control", { drone: replayId, positionMs: middle }, "m")).data).toMatchObject({ positionMs: middle, paused: true });
    await advanceUntil(() => framesOf(watcher, replayId).length >= 2, 2);
    expect(framesOf(watcher, replayId)[1].recorded.time).toBeGreaterThanOrEqual(recorded[0]!.time + middle);

    expect((await watcher.request("replay_control", { drone: replayId, paused: false }, "u")).data.paused).toBe(false);
    await advanceUntil(() => framesOf(watcher, replayId).length >= 10, 5);

    const stopped = await second.request("replay_stop", { drone: replayId }, "x");
    expect(stopped.data).toMatchObject({ drone: replayId, ended: true });
    for (const client of [watcher, second]) {
      const removed = await client.take((m) => m?.type === "vehicle" && m.data.change === "removed");
      expect(removed.data).toMatchObject({ drone: replayId, kind: "replay", reason: `stopped by ${second.session}` });
    }
    // Nobody watches the ended replay's topic any more: a later replay of the flight is a new vehicle, watched only by who subscribes.
    expect(server.server.subscriberCount(`drone:${replayId}`)).toBe(0);
    expect((await watcher.request("subscribe", { drone: replayId }, "g")).data.code).toBe("unknown_drone");
    expect((await watcher.request("replay_control", { drone: replayId, speed: 1 }, "g2")).data.code).toBe("unknown_drone");
    watcher.close();
    second.close();
  }, 30_000);

  test("refuses bad ids and speeds, flying it, and a viewer who may not see the recorded vehicle", async () => {
    const viewer = await signedIn("fly:*", "alice");
    const refusals: Array<[string, object, string, string]> = [
      ["replay_start", { flight: "../etc" }, "invalid_args", "data.flight"],
      ["replay_start", { flight: "alpha-1" }, "unknown_flight", "data.flight"],
      ["replay_start", { flight: flightId, speed: 20 }, "invalid_args", "data.speed"],
      ["replay_start", { flight: flightId, speed: 0.25 }, "invalid_args", "data.speed"],
      ["replay_start", { flight: flightId, positionMs: -1 }, "invalid_args", "data.positionMs"],
      ["replay_start", { flight: flightId, extra: 1 }, "invalid_message", "data.extra"],
      ["replay_control", { drone: "alpha", speed: 2 }, "invalid_args", "data.drone"],
      ["replay_control", { drone: replayId }, "invalid_args", "data"],
      ["replay_control", { drone: replayId, paused: "yes" }, "invalid_args", "data.paused"],
    ];
    for (const [type, data, code, field] of refusals) {
      const answer = await viewer.request(type, data, "bad");
      expect({ type, data, answer: answer.data.code, field: answer.data.field }).toEqual({ type, data, answer: code, field });
    }
    expect((await viewer.request("replay_start", { flight: flightId, speed: 0.5 }, "ok")).data.speed).toBe(0.5);
    for (const [type, data] of [
      ["claim", { drone: replayId }],
      ["release", { drone: replayId }],
      ["command", { drone: replayId, name: "takeoff" }],
      ["mission_start", { drone: replayId }],
    ] as const) {
      const answer = await viewer.request(type, data, "fly");
      expect(answer.data).toMatchObject({ code: "read_only", field: "data.drone" });
      expect(answer.data.message).toContain(`${replayId} is a replay of a recorded flight: it is read-only`);
    }
    // Asking where it is is not flying it: status answers with the replay's last frame, once it has shown one.
    await advanceUntil(() => server.flight.replaySnapshot(replayId) !== null, 5);
    const status = await viewer.request("command", { drone: replayId, name: "status" }, "st");
    expect(status.type).toBe("ack");
    expect(status.data.status).toEqual(server.flight.replaySnapshot(replayId));
    expect(status.data.status).toMatchObject({ drone: replayId, pilot: null, recorded: { seq: expect.any(Number) } });

    const bravoOnly = await signedIn("view:bravo");
    expect(bravoOnly.welcome.data.drones.map((d: any) => d.id)).toEqual(["bravo"]);
    expect((await bravoOnly.request("replay_start", { flight: flightId }, "n")).data).toMatchObject({ code: "unknown_flight", field: "data.flight" });
    expect((await bravoOnly.request("subscribe", { drone: replayId }, "n")).data.code).toBe("unknown_drone");
    expect((await bravoOnly.request("replay_stop", { drone: replayId }, "n")).data.code).toBe("unknown_drone");
    expect((await viewer.request("replay_stop", { drone: replayId }, "x")).type).toBe("ack");
    viewer.close();
    bravoOnly.close();
  }, 30_000);

  test(`ends one nobody watches after ${replayIdleSeconds} s, telling the recorded vehicle's viewers`, async () => {
    const alphaViewer = await signedIn("view:alpha");
    expect((await alphaViewer.request("subscribe", { drone: "alpha" }, "s")).type).toBe("ack");
    expect((await alphaViewer.request("replay_start", { flight: flightId }, "r")).type).toBe("ack");
    await alphaViewer.take((m) => m?.type === "vehicle" && m.data.change === "added");
    server.advance(replayIdleSeconds - 1);
    await Bun.sleep(20);
    expect(alphaViewer.messages.some((m) => m?.type === "vehicle" && m.data.change === "removed")).toBe(false);
    server.advance(2);
    const removed = await alphaViewer.take((m) => m?.type === "vehicle" && m.data.change === "removed");
    expect(removed.data).toMatchObject({ drone: replayId, reason: `nobody watched it for ${replayIdleSeconds} s` });
    expect(server.flight.replayIds()).toEqual([]);
    alphaViewer.close();
  }, 30_000);
});

test("the SDK watches a replay like a vehicle, and a later replay of the same flight as a new stream", async () => {
  const sdk = new SkyportClient({ url: server.ws("/drone"), token: await token({ sub: "sdk", scope: "view:alpha" }) });
  const frames: Array<{ drone: string; seq: number }> = [];
  const changes: string[] = [];
  sdk.on("telemetry", (frame) => frames.push({ drone: frame.drone, seq: frame.seq }));
  sdk.on("vehicle", (change) => changes.push(`${change.change} ${change.drone}`));
  const states: boolean[] = [];
  sdk.on("replay", (state) => states.push(state.paused));
  const welcomed = new Promise((resolve) => sdk.on("welcome", resolve));
  sdk.connect();
  await welcomed;
  try {
    const replayed = () => frames.filter((frame) => frame.drone === replayId);
    for (const round of [1, 2]) {
      const state = await sdk.replayStart(flightId, { speed: 16 });
      expect(state).toMatchObject({ drone: replayId, speed: 16, ended: false });
      await sdk.subscribe(replayId);
      const seen = replayed().length;
      await advanceUntil(() => replayed().length >= seen + 5, 5);
      // Each replay's stream counts from 0: the SDK delivers the second's frames, not dropped as seen before.
      expect(replayed()[seen]!.seq).toBe(0);
      expect((await sdk.replayControl(replayId, { paused: true })).paused).toBe(true);
      expect((await sdk.replayStop(replayId)).ended).toBe(true);
      await advanceUntil(() => changes.filter((change) => change === `removed ${replayId}`).length >= round, 1);
    }
    // Heard once per topic the socket watches (the replay's and alpha's, as leases are), in order: added, removed, added, removed.
    expect(changes.filter((change, i) => change !== changes[i - 1])).toEqual([`added ${replayId}`, `removed ${replayId}`, `added ${replayId}`, `removed ${replayId}`]);
    expect(states).toContain(true);
    await expect(sdk.replayControl(replayId, { speed: 1 })).rejects.toMatchObject({ code: "unknown_drone" });
  } finally {
    await sdk.close();
  }
}, 30_000);
