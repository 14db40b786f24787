/**
 * The Vehicle seam, proven with a second kind of vehicle: a scripted one that
 * reports the states the test feeds it, flown over a real `/drone` socket
 * with no change to the fleet, telemetry, sessions, endpoints or cluster.
 * Lease, failsafe, answers now and later, done/failed and resume all work on
 * it. The clock is the test's (`advance`), never real time.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { ScriptedVehicle } from "../support/scripted-vehicle.ts";
import { startSimServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

let server: ReturnType<typeof startSimServer>;
let quick: ScriptedVehicle;
let slow: ScriptedVehicle;

beforeEach(() => {
  quick = new ScriptedVehicle("quick");
  slow = new ScriptedVehicle("slow", { answer: "later", answerSeconds: 3 });
  server = startSimServer({ failsafeSeconds: 5 }, { vehicles: [quick, slow] });
});
afterEach(async () => {
  await server.stop();
});

const connect = (path = "/drone") => DroneTestClient.connect(server.ws(path));

/** Claims `drone` and takes off, reporting the climb the way an autopilot would. */
async function airborne(pilot: DroneTestClient, vehicle: ScriptedVehicle): Promise<void> {
  expect((await pilot.request("claim", { drone: vehicle.id }, "claim")).type).toBe("ack");
  expect((await pilot.request("command", { drone: vehicle.id, name: "takeoff" }, "takeoff")).type).toBe("ack");
  vehicle.report({ state: "taking_off", position: { z: 1 } });
  vehicle.report({ state: "hovering", position: { z: 2 } });
  server.advance(0.1);
  expect((await pilot.done("takeoff")).data).toEqual({ drone: vehicle.id, command: "takeoff", status: "completed" });
}

describe("a scripted vehicle over /drone", () => {
  test("is listed and streamed like a simulated drone: its telemetry is what it reports", async () => {
    const viewer = await connect();
    expect(viewer.welcome.data.drones).toEqual([
      { id: "quick", state: "landed", pilot: null, seq: null, epoch: server.flight.epoch("quick") },
      { id: "slow", state: "landed", pilot: null, seq: null, epoch: server.flight.epoch("slow") },
    ]);
    quick.report({ state: "hovering", position: { x: 3, y: -4, z: 7.5 }, heading: 90, battery: 88.8 });
    server.advance(0.1);
    await viewer.waitTelemetry((frames) => frames.some((f) => f.drone === "quick"));
    const frame = viewer.telemetry.find((f) => f.drone === "quick");
    expect(frame).toMatchObject({ drone: "quick", seq: 0, state: "hovering", position: { x: 3, y: -4, z: 7.5 }, heading: 90, battery: 88.8, pilot: null });
    expect(frame.flags).toEqual({ lowBattery: false, criticalBattery: false, emergencyStopped: false, failsafe: false });
  });

  test("lease: one pilot; another session is refused and cannot command it", async () => {
    const pilot = await connect();
    const other = await connect();
    expect((await pilot.request("claim", { drone: "quick" })).data).toEqual({ drone: "quick", role: "pilot", pilot: pilot.welcome.data.session, resume: expect.any(String) });
    const taken = await other.request("claim", { drone: "quick" });
    expect(taken.data).toMatchObject({ code: "lease_taken", field: "data.drone" });
    const refused = await other.request("command", { drone: "quick", name: "takeoff" });
    expect(refused.data.code).toBe("not_pilot");
    expect(quick.commands()).toEqual([]);
  });

  test("answered at once: the ack carries the plan; done comes when the reported state arrives, failed when it is superseded", async () => {
    const pilot = await connect();
    await airborne(pilot, quick);
    const ack = await pilot.request("command", { drone: "quick", name: "goto", args: [10, 0, 2] }, "goto");
    expect(ack.data).toEqual({ drone: "quick", command: "goto 10 0 2", target: { x: 10, y: 0, z: 2, heading: 0, speedLimit: 5 } });
    quick.report({ state: "moving", position: { x: 5 } });
    await pilot.request("command", { drone: "quick", name: "up", args: [3] }, "up");
    expect((await pilot.done("goto")).data).toEqual({ drone: "quick", command: "goto 10 0 2", status: "failed", reason: "superseded by up" });
    quick.report({ state: "hovering", position: { z: 4.6 } }); // within a metre of the plan: arrived
    server.advance(0.1);
    expect((await pilot.done("up")).data).toMatchObject({ command: "up 3", status: "completed" });
    expect(quick.commands().map((command) => command.name)).toEqual(["takeoff", "goto", "up"]);
  });

  test("answered later: the ack waits for the vehicle; a refusal and a silence are refusals with codes", async () => {
    const pilot = await connect();
    await pilot.request("claim", { drone: "slow" }, "claim");
    pilot.send({ type: "command", id: "t1", data: { drone: "slow", name: "takeoff" } });
    await waitUntil(() => slow.commands().length === 1, 2000, "the vehicle received takeoff");
    server.advance(0.5);
    expect(pilot.messages.some((m) => m.id === "t1")).toBe(false);
    slow.acknowledge();
    server.advance(0.1);
    expect((await pilot.take((m) => m.id === "t1" && m.type === "ack")).data).toMatchObject({ drone: "slow", command: "takeoff", target: { z: 2 } });

    pilot.send({ type: "command", id: "t2", data: { drone: "slow", name: "forward", args: [400] } });
    await waitUntil(() => slow.commands().length === 2, 2000, "the vehicle received forward");
    slow.reject({ code: "geofence", message: "the fence is 300 m here", about: { argument: "distance" } });
    server.advance(0.1);
    expect((await pilot.take((m) => m.id === "t2")).data).toEqual({ code: "geofence", message: "the fence is 300 m here", field: "data.args[0]" });

    pilot.send({ type: "command", id: "t3", data: { drone: "slow", name: "land" } });
    await waitUntil(() => slow.commands().length === 3, 2000, "the vehicle received land");
    server.advance(3.1);
    const silence = await pilot.take((m) => m.id === "t3");
    expect(silence).toMatchObject({ type: "error", data: { code: "drone_unavailable" } });
    expect(silence.data.message).toContain("did not answer land within 3 s");
  });

  test("failsafe: the pilot leaves, the vehicle is told to hold, then to return; landing at home clears it", async () => {
    const viewer = await connect();
    const pilot = await connect();
    await airborne(pilot, quick);
    quick.report({ position: { x: 30, y: 40 } });
    pilot.close();
    await viewer.take((m) => m.type === "lease" && m.data.drone === "quick" && m.data.pilot === null);
    const hold = await viewer.take((m) => m.type === "event" && m.data.kind === "failsafe" && m.data.drone === "quick");
    expect(hold.data).toMatchObject({ action: "hover", returnInSeconds: 5 });
    expect(quick.received.at(-1)?.kind).toBe("hold");
    server.advance(1);
    await viewer.waitTelemetry((frames) => frames.some((f) => f.drone === "quick" && f.flags.failsafe));

    server.advance(4.1);
    const home = await viewer.take((m) => m.type === "event" && m.data.kind === "failsafe" && m.data.drone === "quick");
    expect(home.data).toMatchObject({ action: "rth" });
    expect(quick.commands().at(-1)).toEqual({ name: "rth" });

    quick.report({ state: "landed", position: { x: 0, y: 0, z: 0 } });
    server.advance(0.1);
    await viewer.take((m) => m.type === "event" && m.data.kind === "landed" && m.data.drone === "quick");
    const latest = viewer.telemetry.filter((f) => f.drone === "quick").at(-1);
    expect(latest).toMatchObject({ state: "landed", flags: { failsafe: false } });
  });

  test("a lost link is announced, refuses commands, fails the one in progress; its return is announced", async () => {
    const viewer = await connect();
    const pilot = await connect();
    await airborne(pilot, quick);
    await pilot.request("command", { drone: "quick", name: "forward", args: [10] }, "fwd");
    quick.setLink(false, "no heartbeat for 2 s");
    server.advance(0.1);
    expect((await viewer.take((m) => m.type === "event" && m.data.kind === "link_lost")).data.message).toBe("lost the link to quick: no heartbeat for 2 s");
    expect((await pilot.done("fwd")).data).toMatchObject({ status: "failed", reason: "lost the link to the vehicle: no heartbeat for 2 s" });
    expect((await pilot.request("command", { drone: "quick", name: "land" })).data).toMatchObject({ code: "drone_unavailable" });
    quick.setLink(true);
    server.advance(0.1);
    await viewer.take((m) => m.type === "event" && m.data.kind === "link_regained");
  });

  test("resume: a viewer that reconnects with since gets exactly the frames it missed", async () => {
    const viewer = await connect("/drone?drone=quick");
    server.advance(0.5);
    await viewer.waitTelemetry((frames) => frames.length >= 5);
    const lastSeen = viewer.telemetry.at(-1).seq;
    viewer.close();
    for (let z = 1; z <= 8; z++) {
      quick.report({ state: "hovering", position: { z } });
      server.advance(0.1);
    }
    const back = await connect("/drone?drone=quick");
    const ack = await back.request("subscribe", { drone: "quick", since: lastSeen });
    expect(ack.data).toMatchObject({ replayed: 8, lost: 0 });
    await back.waitTelemetry((frames) => frames.length >= 8);
    expect(back.telemetry.slice(0, 8).map((f) => f.seq)).toEqual(Array.from({ length: 8 }, (_, i) => lastSeen + 1 + i));
    expect(back.telemetry.slice(0, 8).map((f) => f.position.z)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
