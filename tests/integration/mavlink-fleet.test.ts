/**
 * A MAVLink vehicle in the fleet, over a real `/drone` socket, on the test's
 * clock: fed encoded packets from a fake ArduCopter (no SITL), it is claimed,
 * takes off (ack only once the autopilot acknowledged every step, done once
 * the reports reach the altitude), streams its reported state, and when its
 * pilot leaves the fleet's failsafe holds it (BRAKE) and then returns it (RTL).
 * A gotogeo reaches it as the latitude and longitude sent (issue 15).
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { CopterMode, MavCmd, MavLandedState, MavResult, type MavOutbound } from "../../src/core/vehicle/mavlink/messages.ts";
import { MavlinkVehicle } from "../../src/core/vehicle/mavlink/vehicle.ts";
import { pointFromHome } from "../../src/core/vehicle/geodesy.ts";
import { MavlinkDecoder } from "../../src/runtime/mavlink/codec.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { copterHome, FakeAutopilot } from "../support/mavlink-autopilot.ts";
import { startSimServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

let server: ReturnType<typeof startSimServer>;
let copter: MavlinkVehicle;
let autopilot: FakeAutopilot;
let decoder: MavlinkDecoder;
let sent: MavOutbound[];

beforeEach(() => {
  copter = new MavlinkVehicle("copter");
  autopilot = new FakeAutopilot(1, 1);
  server = startSimServer({ failsafeSeconds: 5 }, { vehicles: [copter] });
  decoder = new MavlinkDecoder((message) => copter.receive(message, server.flight.nowSeconds()));
  sent = [];
  copter.onQueued = () => sent.push(...copter.takeOutgoing());
});
afterEach(async () => {
  decoder.close();
  await server.stop();
});

/** The autopilot says something; time passes by one telemetry step so the fleet sees it. */
function hear(...packets: Buffer[]): void {
  for (const packet of packets) decoder.feed(packet);
  server.advance(0.1);
}

function modesSent(): number[] {
  return sent.flatMap((m) => (m.type === "command_long" && m.command === MavCmd.DO_SET_MODE ? [m.params[1]] : []));
}

test("claimed, taken off with every step acknowledged, streamed, then held and returned by the failsafe when its pilot leaves", async () => {
  hear(autopilot.heartbeat({ customMode: CopterMode.STABILIZE }), autopilot.home(), autopilot.position(0, 0, 0), autopilot.landedState(MavLandedState.ON_GROUND));
  const viewer = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  expect((await pilot.request("claim", { drone: "copter" })).type).toBe("ack");

  pilot.send({ type: "command", id: "up", data: { drone: "copter", name: "takeoff" } });
  await waitUntil(() => modesSent().includes(CopterMode.GUIDED), 3_000, "GUIDED requested");
  hear(autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED));
  hear(autopilot.ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.ACCEPTED));
  expect(pilot.messages.some((m) => m?.id === "up")).toBe(false);
  hear(autopilot.ack(MavCmd.NAV_TAKEOFF, MavResult.ACCEPTED));
  const ack = await pilot.take((m) => m?.type === "ack" && m.id === "up");
  expect(ack.data.target).toMatchObject({ x: 0, y: 0, z: 10 });

  hear(autopilot.heartbeat({ armed: true, customMode: CopterMode.GUIDED }), autopilot.landedState(MavLandedState.TAKEOFF), autopilot.position(0, 0, 5, { velocity: { x: 0, y: 0, z: 2 } }));
  await viewer.waitTelemetry((frames) => frames.some((f) => f.state === "taking_off" && f.position.z === 5));
  hear(autopilot.landedState(MavLandedState.IN_AIR), autopilot.position(0, 0, 9.8));
  expect((await pilot.done("up")).data).toEqual({ drone: "copter", command: "takeoff", status: "completed" });

  // The pilot leaves mid-air 40 m from home: hold at once (BRAKE), then RTL after --failsafe-seconds.
  hear(autopilot.position(0, 40, 10));
  sent.length = 0;
  pilot.close();
  await waitUntil(() => modesSent().includes(CopterMode.BRAKE), 3_000, "BRAKE on pilot loss");
  expect(modesSent()).not.toContain(CopterMode.RTL);
  hear(autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), autopilot.heartbeat({ armed: true, customMode: CopterMode.BRAKE }));
  // 5 s of failsafe at 10 steps a second, with the autopilot's heartbeat every second; bounded at 8 s.
  for (let i = 0; i < 80 && !modesSent().includes(CopterMode.RTL); i++) {
    if (i % 10 === 0) decoder.feed(autopilot.heartbeat({ armed: true, customMode: CopterMode.BRAKE }));
    server.advance(0.1);
  }
  expect(modesSent()).toEqual([CopterMode.BRAKE, CopterMode.RTL]);
  const returning = await viewer.take((m) => m?.type === "event" && m.data.kind === "failsafe" && m.data.action === "rth");
  expect(returning.data.drone).toBe("copter");
  viewer.close();
});

test("over the wire: mode and arm reach the autopilot, its words reach every viewer, its mode and position reach every frame", async () => {
  hear(autopilot.heartbeat({ customMode: CopterMode.STABILIZE }), autopilot.home(), autopilot.position(0, 0, 0), autopilot.gps(3, 12), autopilot.landedState(MavLandedState.ON_GROUND));
  const viewer = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  expect((await pilot.request("claim", { drone: "copter" })).type).toBe("ack");

  pilot.send({ type: "command", id: "m", data: { drone: "copter", name: "mode", args: ["loiter"] } });
  await waitUntil(() => modesSent().includes(CopterMode.LOITER), 3_000, "LOITER requested");
  hear(autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), autopilot.heartbeat({ customMode: CopterMode.LOITER }));
  expect((await pilot.take((m) => m?.type === "ack" && m.id === "m")).data).toMatchObject({ drone: "copter", command: "mode LOITER" });
  expect((await pilot.done("m")).data).toEqual({ drone: "copter", command: "mode LOITER", status: "completed" });
  const frame = await viewer.waitTelemetry((frames) => frames.some((f) => f.mode === "LOITER")).then(() => viewer.telemetry.at(-1)!);
  expect(frame).toMatchObject({ mode: "LOITER", armed: false, gps: { fix: "3d", satellites: 12 }, lat: -35.363261, lon: 149.16523, altitudeMsl: 584, link: { status: "up" } });

  pilot.send({ type: "command", id: "a", data: { drone: "copter", name: "arm" } });
  await waitUntil(() => sent.some((m) => m.type === "command_long" && m.command === MavCmd.COMPONENT_ARM_DISARM), 3_000, "arm sent");
  hear(autopilot.ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.FAILED), autopilot.statusText(2, "PreArm: Throttle below failsafe"));
  const refused = await pilot.take((m) => m?.type === "error" && m.id === "a");
  expect(refused.data).toEqual({ code: "drone_unavailable", message: "the autopilot refused MAV_CMD_COMPONENT_ARM_DISARM for arm: MAV_RESULT_FAILED (PreArm: Throttle below failsafe)" });
  const said = await viewer.take((m) => m?.type === "event" && m.data.kind === "autopilot");
  expect(said.data).toEqual({ drone: "copter", kind: "autopilot", message: "PreArm: Throttle below failsafe", severity: "critical" });

  pilot.send({ type: "command", id: "bad", data: { drone: "copter", name: "mode", args: ["warp"] } });
  const unknown = await pilot.take((m) => m?.type === "error" && m.id === "bad");
  expect(unknown.data).toMatchObject({ code: "out_of_range", field: "data.args[0]" });
  viewer.close();
  pilot.close();
});

// gotogeo (issue 15): the point is measured from the home the autopilot reported, so the setpoint is the point the pilot clicked.
test("a gotogeo reaches the autopilot as the latitude and longitude sent, measured from the home it reported", async () => {
  // Airborne at 10 m, 15 m north of home, in GUIDED.
  hear(autopilot.heartbeat({ armed: true, customMode: CopterMode.GUIDED }), autopilot.home(), autopilot.position(0, 15, 10), autopilot.landedState(MavLandedState.IN_AIR));
  const pilot = await DroneTestClient.connect(server.ws("/drone"));
  expect((await pilot.request("claim", { drone: "copter" })).type).toBe("ack");
  const target = pointFromHome(copterHome, 30, -20);
  pilot.send({ type: "command", id: "g", data: { drone: "copter", name: "gotogeo", args: [target.lat, target.lon, 15] } });
  await waitUntil(() => sent.some((m) => m.type === "position_target_global"), 3_000, "a position target sent");
  const setpoint = sent.find((m) => m.type === "position_target_global") as Extract<MavOutbound, { type: "position_target_global" }>;
  // degE7: 1e-7 degrees is about a centimetre.
  expect(Math.abs(setpoint.latInt - Math.round(target.lat * 1e7))).toBeLessThanOrEqual(1);
  expect(Math.abs(setpoint.lonInt - Math.round(target.lon * 1e7))).toBeLessThanOrEqual(1);
  expect(setpoint.relativeAltMetres).toBeCloseTo(15, 3);
  // Already in GUIDED: the setpoint is all it takes, no mode change.
  expect(sent.some((m) => m.type === "command_long" && m.command === MavCmd.DO_SET_MODE)).toBe(false);
  const ack = await pilot.take((m) => m?.type === "ack" && m.id === "g");
  expect(ack.data.command).toBe(`gotogeo ${target.lat} ${target.lon} 15`);
  expect(ack.data.target.x).toBeCloseTo(30, 1);
  expect(ack.data.target.y).toBeCloseTo(-20, 1);
  pilot.close();
});
