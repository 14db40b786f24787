/** Telemetry fan-out with Bun pub/sub, resume with `since`, and the failsafe seen by viewers. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { startSimServer } from "../support/server.ts";

let server: ReturnType<typeof startSimServer>;
beforeEach(() => {
  server = startSimServer({ drones: ["alpha", "bravo"], telemetryHz: 10, replaySeconds: 2, failsafeSeconds: 3 });
});
afterEach(async () => {
  await server.stop();
});

const connect = (path = "/drone") => DroneTestClient.connect(server.ws(path));
const seqs = (client: DroneTestClient, drone = "alpha") => client.telemetry.filter((f) => f.drone === drone).map((f) => f.seq);

describe("fan-out", () => {
  test("three subscribers see identical, strictly increasing seq streams", async () => {
    const clients = await Promise.all([connect(), connect(), connect()]);
    server.advance(3);
    for (const client of clients) await client.waitTelemetry((frames) => frames.filter((f) => f.drone === "alpha").length === 30);
    const reference = seqs(clients[0]!);
    expect(reference).toEqual(Array.from({ length: 30 }, (_, i) => i));
    for (const client of clients) {
      expect(seqs(client)).toEqual(reference);
      expect(client.telemetry.filter((f) => f.drone === "alpha")).toEqual(clients[0]!.telemetry.filter((f) => f.drone === "alpha"));
    }
  });

  test("a frame carries the documented fields", async () => {
    const client = await connect();
    server.advance(0.1);
    await client.waitTelemetry((frames) => frames.length >= 2);
    const frame = client.telemetry.find((f) => f.drone === "alpha");
    expect(Object.keys(frame).sort()).toEqual(
      ["altitudeMsl", "armed", "battery", "drone", "flags", "gps", "heading", "lat", "link", "lon", "mode", "pilot", "position", "seq", "speed", "state", "target", "time", "velocity", "voltage"].sort(),
    );
  });

  test("a socket watching only bravo sees no alpha; unsubscribe stops the stream", async () => {
    const bravoOnly = await connect("/drone?drone=bravo");
    const both = await connect();
    server.advance(1);
    await both.waitTelemetry((frames) => frames.length === 20);
    await bravoOnly.waitTelemetry((frames) => frames.length === 10);
    expect(bravoOnly.telemetry.every((f) => f.drone === "bravo")).toBe(true);

    expect((await both.request("unsubscribe", { drone: "alpha" })).data).toEqual({ drone: "alpha", subscribed: false });
    server.advance(1);
    await both.waitTelemetry((frames) => frames.filter((f) => f.drone === "bravo").length === 20);
    expect(seqs(both).length).toBe(10);

    expect((await bravoOnly.request("subscribe", { drone: "alpha" })).data).toMatchObject({ drone: "alpha", subscribed: true, replayed: 0 });
    server.advance(0.5);
    await bravoOnly.waitTelemetry((frames) => frames.filter((f) => f.drone === "alpha").length === 5);
    expect(seqs(bravoOnly)).toEqual([20, 21, 22, 23, 24]);
  });
});

describe("resume with since", () => {
  test("replays exactly the missed frames, then goes live with no gap and no duplicate", async () => {
    const first = await connect("/drone?drone=alpha");
    server.advance(1);
    await first.waitTelemetry((frames) => frames.length === 10);
    const lastSeen = first.telemetry.at(-1).seq;
    first.close();
    server.advance(0.7); // seqs 10..16 published while away

    const second = await connect("/drone?drone=bravo");
    const ack = await second.request("subscribe", { drone: "alpha", since: lastSeen });
    expect(ack.data).toMatchObject({ drone: "alpha", subscribed: true, replayed: 7, lost: 0, latestSeq: 16 });
    server.advance(0.3);
    await second.waitTelemetry((frames) => frames.filter((f) => f.drone === "alpha").length === 10);
    expect(seqs(second)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  test("a since older than the buffer says how many frames were lost", async () => {
    const client = await connect("/drone?drone=bravo");
    server.advance(3); // 30 frames; the buffer holds 2 s = 20
    const ack = await client.request("subscribe", { drone: "alpha", since: 4 });
    expect(ack.data).toMatchObject({ replayed: 20, lost: 5 });
    expect((await client.take((m) => m.type === "event")).data).toMatchObject({ drone: "alpha", kind: "frames_lost", lost: 5 });
    await client.waitTelemetry((frames) => frames.filter((f) => f.drone === "alpha").length === 20);
    expect(seqs(client)[0]).toBe(10);
  });

  test("a since ahead of the stream (the server restarted) is a stream_reset, then live", async () => {
    const client = await connect("/drone?drone=bravo");
    server.advance(0.5);
    const ack = await client.request("subscribe", { drone: "alpha", since: 999 });
    expect(ack.data).toMatchObject({ replayed: 0 });
    expect((await client.take((m) => m.type === "event")).data).toMatchObject({ kind: "stream_reset", latestSeq: 4 });
    server.advance(0.1);
    await client.waitTelemetry((frames) => frames.some((f) => f.drone === "alpha"));
    expect(seqs(client)).toEqual([5]);
  });
});

describe("failsafe end to end", () => {
  test("the pilot's socket drops mid-flight: viewers see the lease go, hover, then return home", async () => {
    const pilot = await connect();
    const viewer = await connect();
    await pilot.request("claim", { drone: "alpha" });
    await pilot.request("command", { drone: "alpha", name: "takeoff" });
    server.advance(1);
    await pilot.request("command", { drone: "alpha", name: "forward", args: [30] });
    server.advance(2);
    pilot.ws.close();
    expect(await viewer.take((m) => m.type === "lease" && m.data.pilot === null)).toMatchObject({ data: { reason: "pilot disconnected" } });
    const hover = await viewer.take((m) => m.type === "event" && m.data.kind === "failsafe");
    expect(hover.data).toMatchObject({ drone: "alpha", action: "hover", returnInSeconds: 3 });
    server.advance(1);
    await viewer.waitTelemetry((frames) => frames.at(-1)?.drone === "bravo" && frames.some((f) => f.drone === "alpha" && f.flags.failsafe && f.state === "hovering"));

    server.advance(2.1);
    expect((await viewer.take((m) => m.type === "event" && m.data.kind === "failsafe")).data).toMatchObject({ action: "rth" });
    server.advance(40);
    await viewer.take((m) => m.type === "event" && m.data.kind === "landed");
    const alpha = server.flight.fleet.state("alpha");
    expect(alpha.state).toBe("landed");
    expect(Math.hypot(alpha.position.x, alpha.position.y)).toBeLessThan(0.01);
  });
});
