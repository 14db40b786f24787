/** /drone over real sockets, with the simulation on a fake clock: both forms, acks, errors, limits. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { rawConnect } from "../support/raw.ts";
import { simulatedModel, startSimServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

let server: ReturnType<typeof startSimServer>;
beforeEach(() => {
  server = startSimServer({ drones: ["alpha", "bravo"] });
});
afterEach(async () => {
  await server.stop();
});

const connect = (path = "/drone") => DroneTestClient.connect(server.ws(path));

describe("welcome", () => {
  test("says who you are, what flies, what you watch and the limits", async () => {
    const client = await connect();
    expect(client.welcome).toMatchObject({
      type: "welcome",
      data: {
        role: "observer",
        protocolVersion: 2,
        subscribed: ["alpha", "bravo"],
        drones: [
          { id: "alpha", state: "landed", pilot: null },
          { id: "bravo", state: "landed", pilot: null },
        ],
        limits: {
          maxMessageBytes: 65536,
          commandsPerSecond: 50,
          telemetryHz: 10,
          replayBufferFrames: 600,
          failsafeSeconds: 10,
          maxSubscriptions: 1000,
          maxAltitudeMetres: 120,
          maxRadiusMetres: 500,
        },
      },
    });
    expect(client.session).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe("JSON envelope", () => {
  test("claim, takeoff, forward: one ack each, then done when complete", async () => {
    const pilot = await connect();
    expect(await pilot.request("claim", { drone: "alpha" }, "c1")).toEqual({
      type: "ack",
      id: "c1",
      data: { drone: "alpha", role: "pilot", pilot: pilot.session, resume: expect.any(String) },
    });
    const ack = await pilot.request("command", { drone: "alpha", name: "takeoff" }, 1);
    expect(ack).toEqual({ type: "ack", id: 1, data: { drone: "alpha", command: "takeoff", target: { x: 0, y: 0, z: 2, heading: 0, speedLimit: 5 } } });
    server.advance(1);
    expect(await pilot.done(1)).toEqual({ type: "done", id: 1, data: { drone: "alpha", command: "takeoff", status: "completed" } });

    expect((await pilot.request("command", { drone: "alpha", name: "forward", args: [20] }, 2)).data.target).toMatchObject({ x: 0, y: 20, z: 2 });
    server.advance(2);
    await pilot.waitTelemetry((frames) => frames.some((f) => f.drone === "alpha" && f.state === "moving" && f.position.y > 5));
    expect(pilot.messages.some((m) => m.type === "done" && m.id === 2)).toBe(false); // 20 m at 5 m/s takes 4 s
    server.advance(2.1);
    expect((await pilot.done(2)).data.status).toBe("completed");
  });

  test("status answers with a telemetry snapshot and completes at once", async () => {
    const client = await connect();
    const ack = await client.request("command", { drone: "bravo", name: "status" }, "s");
    expect(ack.data).toMatchObject({ drone: "bravo", command: "status", status: { drone: "bravo", state: "landed", battery: 100 } });
    expect((await client.done("s")).data.status).toBe("completed");
  });

  test("observers get not_pilot; a second claimant gets lease_taken", async () => {
    const pilot = await connect();
    const observer = await connect();
    await pilot.request("claim", { drone: "alpha" });
    expect((await observer.request("command", { drone: "alpha", name: "takeoff" }, 9)).data).toMatchObject({ code: "not_pilot" });
    expect((await observer.request("claim", { drone: "alpha" }, 10)).data).toMatchObject({ code: "lease_taken", field: "data.drone" });
    server.advance(0.5);
    expect(server.flight.fleet.state("alpha").state).toBe("landed");
  });

  test("lease changes reach every subscriber", async () => {
    const pilot = await connect();
    const viewer = await connect();
    await pilot.request("claim", { drone: "alpha" });
    expect(await viewer.take((m) => m.type === "lease")).toEqual({ type: "lease", data: { drone: "alpha", pilot: pilot.session, reason: "claimed" } });
    await pilot.request("release", { drone: "alpha" });
    expect(await viewer.take((m) => m.type === "lease")).toEqual({ type: "lease", data: { drone: "alpha", pilot: null, reason: "released" } });
  });

  test("a refused command from the model carries its code, and geofence is announced", async () => {
    const pilot = await connect();
    const viewer = await connect();
    await pilot.request("claim", { drone: "alpha" });
    expect((await pilot.request("command", { drone: "alpha", name: "forward", args: [5] })).data.code).toBe("not_flying");
    await pilot.request("command", { drone: "alpha", name: "takeoff" });
    server.advance(1);
    const tooFast = await pilot.request("command", { drone: "alpha", name: "speed", args: [20] });
    expect(tooFast.data).toMatchObject({ code: "out_of_range", field: "data.args[0]" });
    expect(tooFast.data.message).toContain("at most 15 m/s");
    const belowFloor = await pilot.request("command", { drone: "alpha", name: "down", args: [5] });
    expect(belowFloor.data).toMatchObject({ code: "out_of_range", field: "data.args[0]" });
    const refused = await pilot.request("command", { drone: "alpha", name: "goto", args: [0, 0, 130] });
    expect(refused.data).toMatchObject({ code: "geofence" });
    expect(refused.data.message).toContain("120 m");
    expect((await viewer.take((m) => m.type === "event")).data).toMatchObject({ drone: "alpha", kind: "geofence" });
  });

  test("ping answers pong with the same id", async () => {
    const client = await connect();
    const pong = await client.request("ping", {}, 42);
    expect(pong.type).toBe("pong");
    expect(typeof pong.data.time).toBe("number");
  });

  test("pong's time is the flight service's wall clock, the one telemetry is stamped with", async () => {
    const client = await connect();
    server.advance(1.5); // 15 ticks: seqs 0 to 14
    await client.waitTelemetry((frames) => frames.some((frame) => frame.seq === 14));
    const latest = client.telemetry.find((frame) => frame.seq === 14);
    const pong = await client.request("ping", {}, "t");
    expect(pong.data.time).toBe(latest.time);
  });
});

describe("text commands", () => {
  test("a free drone is claimed by the first text command; replies are one line", async () => {
    const client = await connect();
    client.send("takeoff");
    expect(await client.take((m) => typeof m === "string")).toBe("ok takeoff");
    expect(server.flight.fleet.pilotOf("alpha")).toBe(client.session);
    server.advance(1);
    client.send("UP 3");
    expect(await client.take((m) => typeof m === "string")).toBe("ok up 3");
    client.send("status");
    expect(await client.take((m) => typeof m === "string")).toMatch(/^ok status alpha (moving|hovering) x=0\.00 y=0\.00 z=\d+\.\d\d heading=0 speed=0\.00 battery=\d+\.\d% pilot=you$/);
  });

  test("errors are `error <code>: <message>`", async () => {
    const pilot = await connect();
    await pilot.request("claim", { drone: "alpha" });
    const other = await connect();
    other.send("takeoff");
    expect(await other.take((m) => typeof m === "string")).toMatch(/^error not_pilot: alpha is flown by session [A-Za-z0-9_-]{22}: you are an observer$/);
    other.send("barrel roll");
    expect(await other.take((m) => typeof m === "string")).toMatch(/^error unknown_command: unknown command "barrel"/);
    other.send("up 5 metres");
    expect(await other.take((m) => typeof m === "string")).toBe("error invalid_args: up takes distance (m): received 2 arguments");
  });

  test("?drone= picks the drone text commands fly and what the socket watches", async () => {
    const client = await DroneTestClient.connect(server.ws("/drone?drone=bravo"));
    expect(client.welcome.data.subscribed).toEqual(["bravo"]);
    client.send("takeoff");
    expect(await client.take((m) => typeof m === "string")).toBe("ok takeoff");
    expect(server.flight.fleet.pilotOf("bravo")).toBe(client.session);
    expect(server.flight.fleet.pilotOf("alpha")).toBeNull();
  });
});

describe("bad input: a clear error, the socket stays up, nothing else changes", () => {
  const cases: Array<[string, string, string | undefined]> = [
    ["hello there", "unknown_command", "command"],
    ["{nope", "invalid_json", undefined],
    [JSON.stringify({ type: "teleport" }), "unknown_type", "type"],
    [JSON.stringify({ type: "command", data: { name: "spin" } }), "unknown_command", "data.name"],
    [JSON.stringify({ type: "command", data: { name: "up" } }), "invalid_args", "data.args"],
    [JSON.stringify({ type: "command", data: { name: "up", args: [1, 2] } }), "invalid_args", "data.args"],
    [JSON.stringify({ type: "command", data: { name: "up", args: ["5"] } }), "invalid_args", "data.args[0]"],
    [JSON.stringify({ type: "command", data: { name: "up", args: [-5] } }), "out_of_range", "data.args[0]"],
    [JSON.stringify({ type: "command", data: { name: "cw", args: [1e9] } }), "out_of_range", "data.args[0]"],
    ['{"type":"command","data":{"name":"up","args":[NaN]}}', "invalid_json", undefined],
    [JSON.stringify({ type: "command", data: { drone: "zulu", name: "takeoff" } }), "unknown_drone", "data.drone"],
    [JSON.stringify({ type: "ping", id: "i".repeat(1000) }), "invalid_id", "id"],
    [JSON.stringify({ type: "subscribe", data: { drone: "alpha", since: "12" } }), "invalid_args", "data.since"],
  ];
  test.each(cases)("%s → %s", async (input, code, field) => {
    const client = await connect();
    await client.request("claim", { drone: "alpha" });
    const before = structuredClone(simulatedModel(server, "alpha"));
    client.send(input);
    const reply = await client.take((m) => typeof m === "string" || m.type === "error");
    if (typeof reply === "string") expect(reply).toStartWith(`error ${code}: `);
    else {
      expect(reply.data.code).toBe(code);
      expect(reply.data.field).toBe(field as never);
      expect(reply.data.message.length).toBeGreaterThan(10);
    }
    expect((await client.request("ping", {}, "alive")).type).toBe("pong");
    expect(simulatedModel(server, "alpha")).toEqual(before);
  });

  test("binary frames close with 1003", async () => {
    const client = await connect();
    client.ws.send(new Uint8Array([1, 2, 3]));
    expect((await client.waitClose()).code).toBe(1003);
  });

  test("messages over 64 KiB close with 1009; 64 KiB exactly is answered", async () => {
    const client = await connect();
    const prefix = '{"type":"ping","id":"big","data":{},"x":"';
    const exactly64KiB = `${prefix}${"a".repeat(65536 - prefix.length - 2)}"}`;
    expect(Buffer.byteLength(exactly64KiB)).toBe(65536);
    client.send(exactly64KiB);
    expect((await client.take((m) => m.type === "error")).data.code).toBe("invalid_message");
    client.send("x".repeat(65537));
    expect((await client.waitClose()).code).toBe(1009);
  });

  test("more than 50 messages a second are rate_limited; 10 s of it closes with 1008", async () => {
    const client = await connect();
    for (let i = 0; i < 60; i++) client.send({ type: "ping", id: i });
    // At most one rate_limited answer a second (issue 19 #10): the 51st is answered, the rest dropped unread.
    const replies = await Promise.all(Array.from({ length: 51 }, (_, i) => client.take((m) => m.id === i)));
    expect(replies.filter((m) => m.type === "pong").length).toBe(50);
    expect(replies.filter((m) => m.type === "error").every((m) => m.data.code === "rate_limited")).toBe(true);
    expect(replies[50]).toMatchObject({ type: "error", id: 50, data: { code: "rate_limited" } });
    // Limited messages past the first of a second get no answer: the server's message count says when a burst was read.
    const [socket] = server.connections.sockets("drone");
    let sent = 60;
    await waitUntil(() => socket!.data.messagesIn >= sent, 2000, "the 60 pings to be read");
    for (let second = 0; second < 21 && !client.closed; second++) {
      server.advance(0.5);
      // The probe goes first, on the refilled bucket; the burst after it is over the rate.
      await client.request("ping", {}, `probe-${second}`).catch(() => undefined);
      for (let i = 0; i < 40; i++) client.send("status");
      sent += 41;
      await waitUntil(() => client.closed !== null || socket!.data.messagesIn >= sent, 2000, "the burst to be read");
    }
    const closed = await client.waitClose();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain("rate limit");
  });
});

describe("upgrade", () => {
  test("an unknown ?drone= is refused with 404 before upgrading", async () => {
    const conn = await rawConnect(server.port, { path: "/drone?drone=zulu" });
    expect(conn.status).toBe(404);
    expect(conn.body).toContain("no drone \"zulu\"");
    conn.close();
  });

  test("skyport.v1.json is negotiated; only-unknown subprotocols are refused; none is fine", async () => {
    const negotiated = await rawConnect(server.port, { path: "/drone", headers: { "Sec-WebSocket-Protocol": "chat, skyport.v1.json" } });
    expect(negotiated.status).toBe(101);
    expect(negotiated.headers["sec-websocket-protocol"]).toBe("skyport.v1.json");
    negotiated.close();
    const refused = await rawConnect(server.port, { path: "/drone", headers: { "Sec-WebSocket-Protocol": "chat" } });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain("skyport.v1.json");
    refused.close();
    const client = await DroneTestClient.connect(server.ws("/drone"), "skyport.v1.json");
    expect(client.ws.protocol).toBe("skyport.v1.json");
  });
});
