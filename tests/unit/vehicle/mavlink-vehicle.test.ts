/**
 * The pure MAVLink vehicle, fed real encoded packets (node-mavlink, through
 * the runtime decoder) from a fake ArduCopter, with time as arguments: state
 * from the reports, link liveness, every command's MAVLink steps, acks,
 * resends with `confirmation`, refusals with the autopilot's result, and
 * completion judged from the reported state. No socket, no SITL.
 */
import { describe, expect, test } from "bun:test";
import { CopterMode, forceDisarmMagic, MavCmd, MavLandedState, MavMessageId, MavModeFlag, MavResult, Px4AutoSubMode, Px4MainMode, type MavOutbound } from "../../../src/core/vehicle/mavlink/messages.ts";
import { defaultMavlinkVehicleOptions, flightStateOf, MavlinkVehicle, type MavlinkVehicleOptions } from "../../../src/core/vehicle/mavlink/vehicle.ts";
import { px4CustomMode } from "../../../src/core/vehicle/mavlink/autopilots.ts";
import { pointFromHome } from "../../../src/core/vehicle/geodesy.ts";
import { MavlinkDecoder } from "../../../src/runtime/mavlink/codec.ts";
import { copterHome, FakeAutopilot } from "../../support/mavlink-autopilot.ts";

/** A vehicle, the autopilot that talks to it, and a clock the test moves. */
function rig(options: Partial<MavlinkVehicleOptions> = {}) {
  const vehicle = new MavlinkVehicle("copter", options);
  const autopilot = new FakeAutopilot(1, 1);
  let now = 100;
  const decoder = new MavlinkDecoder((message) => vehicle.receive(message, now));
  const hear = (...packets: Buffer[]) => packets.forEach((p) => decoder.feed(p));
  const at = (seconds: number) => {
    now = seconds;
    vehicle.advance(0.1, now);
  };
  /** The COMMAND_LONGs sent since the last call (stream requests left out unless asked). */
  const sent = (withStreams = false): MavOutbound[] =>
    vehicle.takeOutgoing().filter((m) => withStreams || m.type !== "command_long" || m.command !== MavCmd.SET_MESSAGE_INTERVAL);
  return { vehicle, autopilot, hear, at, sent, now: () => now, decoder };
}

/** A vehicle on the ground at home, link up, disarmed, in STABILIZE. */
function onGround(options: Partial<MavlinkVehicleOptions> = {}) {
  const r = rig(options);
  r.hear(r.autopilot.heartbeat({ customMode: CopterMode.STABILIZE }), r.autopilot.home(), r.autopilot.position(0, 0, 0), r.autopilot.landedState(MavLandedState.ON_GROUND));
  // It answers the mission download every link-up starts: it holds no mission.
  r.hear(r.autopilot.missionCount(0));
  r.sent(true);
  r.vehicle.takeEvents();
  return r;
}

/** A vehicle hovering at 10 m in GUIDED. */
function hovering(options: Partial<MavlinkVehicleOptions> = {}) {
  const r = onGround(options);
  r.hear(r.autopilot.heartbeat({ armed: true, customMode: CopterMode.GUIDED }), r.autopilot.landedState(MavLandedState.IN_AIR), r.autopilot.position(0, 0, 10));
  r.vehicle.takeEvents();
  return r;
}

function commandsIn(messages: MavOutbound[]) {
  return messages.flatMap((m) => (m.type === "command_long" ? [{ command: m.command, params: m.params, confirmation: m.confirmation, target: m.targetSystem }] : []));
}

describe("link", () => {
  test("down until the autopilot's first HEARTBEAT; then link_regained and the streams requested from system 1", () => {
    const r = rig();
    expect(r.vehicle.linkUp).toBe(false);
    expect(r.vehicle.command({ name: "takeoff" }, 1, 100)).toMatchObject({ status: "refused", refusal: { code: "drone_unavailable" } });
    r.hear(r.autopilot.heartbeat());
    expect(r.vehicle.linkUp).toBe(true);
    expect(r.vehicle.takeEvents()).toEqual([{ type: "link_regained" }]);
    const requests = commandsIn(r.sent(true));
    expect(requests.every((c) => c.command === MavCmd.SET_MESSAGE_INTERVAL && c.target === 1)).toBe(true);
    expect(requests.map((c) => c.params[0]).sort((a, b) => a - b)).toEqual(
      [MavMessageId.SYS_STATUS, MavMessageId.GPS_RAW_INT, MavMessageId.GLOBAL_POSITION_INT, MavMessageId.HOME_POSITION, MavMessageId.EXTENDED_SYS_STATE].sort((a, b) => a - b),
    );
  });

  test("lost after 3 s without a HEARTBEAT (position reports do not count), regained with the next one", () => {
    const r = onGround();
    r.at(101);
    r.hear(r.autopilot.position(0, 0, 0));
    r.at(103);
    expect(r.vehicle.linkUp).toBe(true);
    r.at(103.2);
    expect(r.vehicle.linkUp).toBe(false);
    expect(r.vehicle.takeEvents()).toEqual([{ type: "link_lost", reason: "no HEARTBEAT from system 1 for 3 s" }]);
    r.hear(r.autopilot.heartbeat());
    expect(r.vehicle.takeEvents()).toEqual([{ type: "link_regained" }]);
  });

  test("messages from another system id on the same link are counted and change nothing; nothing is sent to it", () => {
    const r = rig();
    const other = new FakeAutopilot(2, 1);
    r.hear(other.heartbeat({ armed: true, customMode: CopterMode.GUIDED }), other.home(), other.position(50, 50, 30));
    expect(r.vehicle.linkUp).toBe(false);
    expect(r.vehicle.state().position).toEqual({ x: 0, y: 0, z: 0 });
    expect(r.vehicle.counters.otherSystem).toBe(3);
    r.hear(r.autopilot.heartbeat(), r.autopilot.home(), r.autopilot.position(0, 0, 0));
    r.vehicle.command({ name: "takeoff" }, 1, 100);
    r.hear(other.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED));
    const out = r.vehicle.takeOutgoing();
    expect(out.length).toBeGreaterThan(0);
    expect(out.every((m) => m.targetSystem === 1)).toBe(true);
    expect(commandsIn(out).filter((c) => c.command !== MavCmd.SET_MESSAGE_INTERVAL).map((c) => c.command)).toEqual([MavCmd.DO_SET_MODE]);
  });

  test("heartbeats from a non-autopilot component (another GCS) do not keep the link up", () => {
    const r = onGround();
    const gcs = new FakeAutopilot(1, 190);
    // A GCS heartbeat: MAV_TYPE_GCS, MAV_AUTOPILOT_INVALID.
    r.decoder.feed(gcs.heartbeat());
    expect(r.vehicle.counters.nonAutopilotHeartbeats).toBe(0);
  });
});

describe("state from reports", () => {
  test("x/y metres from home in a tangent plane, z above home, velocities, heading, battery", () => {
    const r = onGround();
    r.hear(r.autopilot.position(30, -40, 12.5, { heading: 271.5, velocity: { x: 1, y: 2, z: -0.5 } }), r.autopilot.battery(64));
    const state = r.vehicle.state();
    expect(state.position.x).toBeCloseTo(30, 1);
    expect(state.position.y).toBeCloseTo(-40, 1);
    expect(state.position.z).toBeCloseTo(12.5, 3);
    expect(state.velocity).toEqual({ x: 1, y: 2, z: -0.5 });
    expect(state.heading).toBeCloseTo(271.5, 2);
    expect(state.battery).toBe(64);
  });

  test("flight state from armed, landed state and mode", () => {
    const facts = { armed: true, landedState: MavLandedState.IN_AIR, mode: "other" as const, emergencyStopped: false, takeoffCommanded: false, speed: 0 };
    expect(flightStateOf({ ...facts, armed: false })).toBe("landed");
    expect(flightStateOf({ ...facts, landedState: MavLandedState.ON_GROUND })).toBe("landed");
    expect(flightStateOf({ ...facts, landedState: MavLandedState.TAKEOFF })).toBe("taking_off");
    // Armed on the ground right after NAV_TAKEOFF's ack: taking off, not landed.
    expect(flightStateOf({ ...facts, landedState: MavLandedState.ON_GROUND, takeoffCommanded: true })).toBe("taking_off");
    expect(flightStateOf({ ...facts, armed: false, landedState: MavLandedState.ON_GROUND, takeoffCommanded: true })).toBe("landed");
    expect(flightStateOf(facts)).toBe("hovering");
    expect(flightStateOf({ ...facts, speed: 3 })).toBe("moving");
    expect(flightStateOf({ ...facts, mode: "returning", landedState: MavLandedState.LANDING })).toBe("returning");
    expect(flightStateOf({ ...facts, mode: "landing" })).toBe("landing");
    expect(flightStateOf({ ...facts, armed: false, emergencyStopped: true })).toBe("emergency");
  });

  test("mode name and armed state from the HEARTBEAT", () => {
    const r = onGround();
    expect(r.vehicle.modeName).toBe("STABILIZE");
    r.hear(r.autopilot.heartbeat({ armed: true, customMode: CopterMode.RTL }));
    expect(r.vehicle.modeName).toBe("RTL");
    expect(r.vehicle.isArmed).toBe(true);
    expect([r.vehicle.state().mode, r.vehicle.state().armed]).toEqual(["RTL", true]);
  });

  test("where it is on Earth, GPS, voltage and when it was last heard", () => {
    const r = rig();
    expect(r.vehicle.state()).toMatchObject({ geo: null, gps: { fix: "no_fix", satellites: null }, voltage: null, link: { up: false, heardAt: null } });
    r.hear(r.autopilot.heartbeat({ customMode: CopterMode.STABILIZE }));
    r.at(101);
    r.hear(r.autopilot.position(0, 10, 5), r.autopilot.gps(3, 14), r.autopilot.battery(80));
    const state = r.vehicle.state();
    expect(state.geo!.lat).toBeCloseTo(pointFromHome(copterHome, 0, 10).lat, 7);
    expect(state.geo!.lon).toBeCloseTo(copterHome.lon, 7);
    expect(state.geo!.altitudeMsl).toBeCloseTo(copterHome.altitudeMetres + 5, 3);
    expect(state.gps).toEqual({ fix: "3d", satellites: 14 });
    expect(state.voltage).toBe(12.6);
    // Heard at its HEARTBEAT (100), not at other messages; lost after 3 s without one, keeping when it was last heard.
    expect(state.link).toEqual({ up: true, heardAt: 100 });
    r.at(103.5);
    expect(r.vehicle.state().link).toEqual({ up: false, heardAt: 100 });
    r.hear(r.autopilot.gps(255 as number, 255));
    expect(r.vehicle.state().gps).toEqual({ fix: "no_fix", satellites: null });
    r.hear(r.autopilot.gps(6, 255));
    expect(r.vehicle.state().gps).toEqual({ fix: "rtk_fixed", satellites: null });
  });

  test("before its first position estimate (latitude and longitude exactly 0) it is nowhere on Earth yet, and keeps the last position it had", () => {
    const r = rig();
    r.hear(r.autopilot.heartbeat({ customMode: CopterMode.STABILIZE }), r.autopilot.positionWithoutFix(0), r.autopilot.gps(1, 0));
    expect(r.vehicle.state()).toMatchObject({ geo: null, gps: { fix: "no_fix", satellites: 0 }, heading: 90 });
    expect(r.vehicle.state().position).toMatchObject({ x: 0, y: 0, z: 0 });
    r.hear(r.autopilot.home(), r.autopilot.position(3, 4, 0));
    const known = r.vehicle.state();
    expect(known.geo!.lat).toBeCloseTo(pointFromHome(copterHome, 0, 4).lat, 7);
    expect(known.position.x).toBeCloseTo(3, 1);
    r.hear(r.autopilot.positionWithoutFix(2));
    const after = r.vehicle.state();
    expect(after.geo).toEqual(known.geo);
    expect(after.position.x).toBeCloseTo(3, 1);
    expect(after.position.z).toBe(2);
  });

  test("STATUSTEXT reaches viewers as autopilot events with their severity; chunked texts are joined", () => {
    const r = onGround();
    r.hear(r.autopilot.statusText(6, "EKF3 IMU0 is using GPS"), r.autopilot.statusText(4, "PreArm: Battery below minimum arming voltage"));
    const long = "Mission: 1 WP ".padEnd(50, "x");
    r.hear(r.autopilot.statusText(5, long, { id: 9, chunkSeq: 0 }));
    expect(r.vehicle.takeEvents()).toEqual([
      { type: "autopilot", severity: "info", text: "EKF3 IMU0 is using GPS" },
      { type: "autopilot", severity: "warning", text: "PreArm: Battery below minimum arming voltage" },
    ]);
    r.hear(r.autopilot.statusText(5, "done", { id: 9, chunkSeq: 1 }));
    expect(r.vehicle.takeEvents()).toEqual([{ type: "autopilot", severity: "notice", text: `${long}done` }]);
    // Another system's text is not this vehicle's.
    const other = new FakeAutopilot(2, 1);
    r.hear(other.statusText(0, "Crash: Disarming"));
    expect(r.vehicle.takeEvents()).toEqual([]);
  });
});

describe("takeoff", () => {
  test("GUIDED, arm, NAV_TAKEOFF to 10 m, each after the previous ack; accepted, then done at altitude", () => {
    const r = onGround();
    expect(r.vehicle.command({ name: "takeoff" }, 7, 100)).toEqual({ status: "pending" });
    expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.DO_SET_MODE, params: [MavModeFlag.CUSTOM_MODE_ENABLED, CopterMode.GUIDED, 0, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
    r.hear(r.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED));
    expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.COMPONENT_ARM_DISARM, params: [1, 0, 0, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
    r.hear(r.autopilot.ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.ACCEPTED));
    expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.NAV_TAKEOFF, params: [0, 0, 0, 0, 0, 0, 10], confirmation: 0, target: 1 }]);
    expect(r.vehicle.takeEvents()).toEqual([]);
    r.hear(r.autopilot.ack(MavCmd.NAV_TAKEOFF, MavResult.ACCEPTED));
    expect(r.vehicle.takeEvents()).toMatchObject([{ type: "command_accepted", token: 7, plan: { z: 10 } }]);
    r.hear(r.autopilot.heartbeat({ armed: true, customMode: CopterMode.GUIDED }), r.autopilot.landedState(MavLandedState.TAKEOFF), r.autopilot.position(0, 0, 9.5));
    expect(r.vehicle.state().state).toBe("taking_off");
    expect(r.vehicle.takeEvents()).toEqual([]);
    r.hear(r.autopilot.landedState(MavLandedState.IN_AIR), r.autopilot.position(0, 0, 9.9));
    expect(r.vehicle.takeEvents()).toEqual([{ type: "command_done", token: 7 }]);
  });

  test("an unanswered step is resent every second with confirmation + 1, then refused after 5 s", () => {
    const r = onGround();
    r.vehicle.command({ name: "takeoff" }, 7, 100);
    r.sent();
    r.at(100.5);
    expect(r.sent()).toEqual([]);
    r.at(101);
    expect(commandsIn(r.sent())).toMatchObject([{ command: MavCmd.DO_SET_MODE, confirmation: 1 }]);
    r.hear(r.autopilot.heartbeat());
    r.at(102);
    expect(commandsIn(r.sent())).toMatchObject([{ command: MavCmd.DO_SET_MODE, confirmation: 2 }]);
    r.hear(r.autopilot.heartbeat());
    r.at(104.9);
    r.sent();
    r.hear(r.autopilot.heartbeat());
    expect(r.vehicle.takeEvents()).toEqual([]);
    r.at(105);
    expect(r.vehicle.takeEvents()).toEqual([
      { type: "command_refused", token: 7, refusal: { code: "drone_unavailable", message: "the autopilot did not answer takeoff within 5 s" } },
    ]);
  });

  test("arming refused by the autopilot: refused with its MAV_RESULT once no reason came within 0.5 s, nothing more sent", () => {
    const r = onGround();
    r.vehicle.command({ name: "takeoff" }, 7, 100);
    r.hear(r.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED));
    r.sent();
    r.hear(r.autopilot.ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.FAILED));
    expect(r.vehicle.takeEvents()).toEqual([]);
    r.at(100.4);
    expect(r.vehicle.takeEvents()).toEqual([]);
    r.at(100.5);
    expect(r.vehicle.takeEvents()).toEqual([
      { type: "command_refused", token: 7, refusal: { code: "drone_unavailable", message: "the autopilot refused MAV_CMD_COMPONENT_ARM_DISARM for takeoff: MAV_RESULT_FAILED" } },
    ]);
    r.at(102);
    expect(r.sent()).toEqual([]);
  });

  test("a refusal carries the autopilot's own reason: its STATUSTEXT after the ack, or one just before", () => {
    const after = onGround();
    after.vehicle.command({ name: "takeoff" }, 7, 100);
    after.hear(after.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), after.autopilot.ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.FAILED));
    after.hear(after.autopilot.statusText(3, "Arm: Need Position Estimate"));
    expect(after.vehicle.takeEvents()).toEqual([
      { type: "autopilot", severity: "error", text: "Arm: Need Position Estimate" },
      {
        type: "command_refused",
        token: 7,
        refusal: { code: "drone_unavailable", message: "the autopilot refused MAV_CMD_COMPONENT_ARM_DISARM for takeoff: MAV_RESULT_FAILED (Arm: Need Position Estimate)" },
      },
    ]);

    const before = onGround();
    before.hear(before.autopilot.statusText(2, "PreArm: Gyros inconsistent"));
    before.vehicle.takeEvents();
    before.vehicle.command({ name: "takeoff" }, 8, 100.5);
    before.hear(before.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), before.autopilot.ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.FAILED));
    expect(before.vehicle.takeEvents()).toEqual([
      {
        type: "command_refused",
        token: 8,
        refusal: { code: "drone_unavailable", message: "the autopilot refused MAV_CMD_COMPONENT_ARM_DISARM for takeoff: MAV_RESULT_FAILED (PreArm: Gyros inconsistent)" },
      },
    ]);
  });

  test("an ack addressed to another ground station does not answer ours", () => {
    const r = onGround();
    r.vehicle.command({ name: "takeoff" }, 7, 100);
    r.hear(r.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED, 254));
    expect(commandsIn(r.sent())).toMatchObject([{ command: MavCmd.DO_SET_MODE }]);
    expect(r.vehicle.counters.strayAcks).toBe(1);
  });

  test("refused while flying, and other commands refused on the ground", () => {
    expect(hovering().vehicle.command({ name: "takeoff" }, 1, 100)).toMatchObject({ status: "refused", refusal: { code: "already_flying" } });
    expect(onGround().vehicle.command({ name: "forward", distance: 5 }, 1, 100)).toMatchObject({ status: "refused", refusal: { code: "not_flying" } });
  });
});

describe("commands in flight", () => {
  test("land, rth and hover are mode changes (LAND, RTL, BRAKE)", () => {
    for (const [name, mode] of [["land", CopterMode.LAND], ["rth", CopterMode.RTL], ["hover", CopterMode.BRAKE]] as const) {
      const r = hovering();
      r.vehicle.command({ name }, 3, 100);
      expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.DO_SET_MODE, params: [1, mode, 0, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
    }
  });

  test("rth: accepted on the ack, done when landed at home and disarmed", () => {
    const r = hovering();
    r.vehicle.command({ name: "rth" }, 4, 100);
    r.hear(r.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED));
    expect(r.vehicle.takeEvents()).toMatchObject([{ type: "command_accepted", token: 4 }]);
    r.hear(r.autopilot.heartbeat({ armed: true, customMode: CopterMode.RTL }), r.autopilot.position(0.3, 0.2, 3));
    expect(r.vehicle.state().state).toBe("returning");
    r.hear(r.autopilot.landedState(MavLandedState.ON_GROUND), r.autopilot.heartbeat({ armed: false, customMode: CopterMode.RTL }));
    expect(r.vehicle.takeEvents()).toEqual([{ type: "landed" }, { type: "command_done", token: 4 }]);
  });

  test("forward 10 in GUIDED: a position target 10 m ahead relative to home, accepted at once, done on arrival", () => {
    const r = hovering();
    r.hear(r.autopilot.position(0, 0, 10, { heading: 90 }));
    expect(r.vehicle.command({ name: "forward", distance: 10 }, 5, 100)).toEqual({ status: "pending" });
    const [target] = r.sent();
    const expected = pointFromHome(copterHome, 10, 0);
    expect(target).toMatchObject({ type: "position_target_global", targetSystem: 1, relativeAltMetres: 10, latInt: Math.round(expected.lat * 1e7), lonInt: Math.round(expected.lon * 1e7) });
    expect((target as { yawRadians: number }).yawRadians).toBeCloseTo(Math.PI / 2, 6);
    expect(r.vehicle.takeEvents()).toMatchObject([{ type: "command_accepted", token: 5, plan: { x: 10, y: 0, z: 10 } }]);
    r.hear(r.autopilot.position(9.2, 0, 10, { heading: 90 }));
    expect(r.vehicle.takeEvents()).toEqual([{ type: "command_done", token: 5 }]);
  });

  test("a move out of GUIDED (after hover's BRAKE) sets GUIDED first, then the target", () => {
    const r = hovering();
    r.hear(r.autopilot.heartbeat({ armed: true, customMode: CopterMode.BRAKE }));
    r.vehicle.command({ name: "up", distance: 5 }, 6, 100);
    expect(commandsIn(r.sent())).toMatchObject([{ command: MavCmd.DO_SET_MODE, params: [1, CopterMode.GUIDED, 0, 0, 0, 0, 0] }]);
    r.hear(r.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED));
    expect(r.sent()).toMatchObject([{ type: "position_target_global", relativeAltMetres: 15 }]);
  });

  test("cw 90 is CONDITION_YAW relative, clockwise; ccw counter-clockwise; speed is DO_CHANGE_SPEED", () => {
    const r = hovering();
    r.vehicle.command({ name: "cw", degrees: 90 }, 8, 100);
    expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.CONDITION_YAW, params: [90, 0, 1, 1, 0, 0, 0], confirmation: 0, target: 1 }]);
    r.vehicle.command({ name: "ccw", degrees: 45 }, 9, 100);
    expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.CONDITION_YAW, params: [45, 0, -1, 1, 0, 0, 0], confirmation: 0, target: 1 }]);
    expect(r.vehicle.takeEvents()).toMatchObject([{ type: "command_refused", token: 8, refusal: { code: "busy" } }]);
    r.vehicle.command({ name: "speed", metresPerSecond: 3 }, 10, 100);
    expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.DO_CHANGE_SPEED, params: [1, 3, -1, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
  });

  test("emergency is a forced disarm (param2 21196): the motors stop in flight", () => {
    const r = hovering();
    r.vehicle.command({ name: "emergency" }, 11, 100);
    expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.COMPONENT_ARM_DISARM, params: [0, forceDisarmMagic, 0, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
    r.hear(r.autopilot.ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.ACCEPTED));
    expect(r.vehicle.takeEvents()).toEqual([{ type: "command_accepted", token: 11, plan: expect.anything() }, { type: "command_done", token: 11 }]);
    r.hear(r.autopilot.heartbeat({ armed: false, customMode: CopterMode.GUIDED }));
    expect(r.vehicle.state().state).toBe("emergency");
  });

  test("the failsafe's hold is BRAKE, its return RTL, answered to nobody", () => {
    const r = hovering();
    r.vehicle.holdPosition(100);
    expect(commandsIn(r.sent())).toMatchObject([{ command: MavCmd.DO_SET_MODE, params: [1, CopterMode.BRAKE, 0, 0, 0, 0, 0] }]);
    r.hear(r.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED));
    r.vehicle.command({ name: "rth" }, 0, 101);
    expect(commandsIn(r.sent())).toMatchObject([{ command: MavCmd.DO_SET_MODE, params: [1, CopterMode.RTL, 0, 0, 0, 0, 0] }]);
    r.hear(r.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED));
    expect(r.vehicle.takeEvents()).toEqual([]);
  });

  test("link lost while a command awaits its ack: refused, and the command in flight fails", () => {
    const r = hovering();
    r.vehicle.command({ name: "goto", x: 20, y: 0, z: 10 }, 12, 100);
    r.vehicle.takeEvents();
    r.vehicle.command({ name: "cw", degrees: 90 }, 13, 100);
    r.at(104);
    const reason = "lost the link to the vehicle: no HEARTBEAT from system 1 for 3 s";
    expect(r.vehicle.takeEvents()).toEqual([
      { type: "link_lost", reason: "no HEARTBEAT from system 1 for 3 s" },
      { type: "command_refused", token: 13, refusal: { code: "drone_unavailable", message: reason } },
      { type: "command_failed", token: 12, reason },
    ]);
    expect(r.vehicle.command({ name: "hover" }, 14, 104)).toMatchObject({ status: "refused", refusal: { code: "drone_unavailable" } });
  });

  test("a goto beyond the geofence is refused without sending anything", () => {
    const r = hovering();
    expect(r.vehicle.command({ name: "goto", x: 600, y: 0, z: 10 }, 14, 100)).toMatchObject({ status: "refused", refusal: { code: "geofence" } });
    expect(r.sent()).toEqual([]);
  });

  test("with a geofence polygon: a target outside it is refused without sending anything, one inside is flown", () => {
    const polygon = [[-50, -50], [50, -50], [50, 50], [-50, 50]].map(([x, y]) => pointFromHome(copterHome, x!, y!));
    const r = hovering({ geofence: { ...defaultMavlinkVehicleOptions.geofence, polygon } });
    expect(r.vehicle.geofence.polygon).toEqual(polygon);
    expect(r.vehicle.command({ name: "goto", x: 80, y: 0, z: 10 }, 14, 100)).toEqual({ status: "refused", refusal: { code: "geofence", message: "the target is outside the geofence polygon" } });
    expect(r.sent()).toEqual([]);
    // Inside it, the target goes out (in GUIDED, the position target at once).
    expect(r.vehicle.command({ name: "forward", distance: 10 }, 15, 100).status).not.toBe("refused");
    expect(r.sent().length).toBeGreaterThan(0);
  });
});

describe("arm, disarm and mode", () => {
  test("arm and disarm on the ground: COMPONENT_ARM_DISARM 1 and 0, done on the ack; arming in flight is refused here", () => {
    const r = onGround();
    r.vehicle.command({ name: "arm" }, 11, 100);
    expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.COMPONENT_ARM_DISARM, params: [1, 0, 0, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
    r.hear(r.autopilot.ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.ACCEPTED));
    expect(r.vehicle.takeEvents()).toMatchObject([{ type: "command_accepted", token: 11 }, { type: "command_done", token: 11 }]);
    r.hear(r.autopilot.heartbeat({ armed: true, customMode: CopterMode.STABILIZE }));
    expect([r.vehicle.state().armed, r.vehicle.state().state]).toEqual([true, "landed"]);

    r.vehicle.command({ name: "disarm" }, 12, 101);
    expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.COMPONENT_ARM_DISARM, params: [0, 0, 0, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
    r.hear(r.autopilot.ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.ACCEPTED));
    expect(r.vehicle.takeEvents()).toMatchObject([{ type: "command_accepted", token: 12 }, { type: "command_done", token: 12 }]);

    expect(hovering().vehicle.command({ name: "arm" }, 13, 100)).toEqual({ status: "refused", refusal: { code: "already_flying", message: "copter is already flying" } });
  });

  test("a disarm in flight goes to the autopilot, which refuses it with its reason (emergency is the forced one)", () => {
    const r = hovering();
    r.vehicle.command({ name: "disarm" }, 14, 100);
    expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.COMPONENT_ARM_DISARM, params: [0, 0, 0, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
    r.hear(r.autopilot.ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.FAILED), r.autopilot.statusText(4, "Disarm: vehicle is flying"));
    expect(r.vehicle.takeEvents()).toEqual([
      { type: "autopilot", severity: "warning", text: "Disarm: vehicle is flying" },
      {
        type: "command_refused",
        token: 14,
        refusal: { code: "drone_unavailable", message: "the autopilot refused MAV_CMD_COMPONENT_ARM_DISARM for disarm: MAV_RESULT_FAILED (Disarm: vehicle is flying)" },
      },
    ]);
  });

  test("mode NAME: DO_SET_MODE to the ArduCopter custom mode; an unknown name is refused before anything is sent", () => {
    const r = hovering();
    r.vehicle.command({ name: "mode", mode: "LOITER" }, 15, 100);
    expect(commandsIn(r.sent())).toEqual([{ command: MavCmd.DO_SET_MODE, params: [1, CopterMode.LOITER, 0, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
    r.hear(r.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED));
    expect(r.vehicle.takeEvents()).toMatchObject([{ type: "command_accepted", token: 15 }, { type: "command_done", token: 15 }]);
    r.hear(r.autopilot.heartbeat({ armed: true, customMode: CopterMode.LOITER }));
    expect(r.vehicle.state().mode).toBe("LOITER");

    const refused = r.vehicle.command({ name: "mode", mode: "OFFBOARD" }, 16, 101);
    expect(refused).toMatchObject({ status: "refused", refusal: { code: "out_of_range", about: { argument: "mode" } } });
    expect((refused as { refusal: { message: string } }).refusal.message).toStartWith("ArduCopter has no mode OFFBOARD: one of STABILIZE, ACRO, ALT_HOLD, AUTO, GUIDED, LOITER");
    expect(r.sent()).toEqual([]);
  });
});

describe("what skyport asks of the autopilot on its own", () => {
  test("FS_GCS_ENABLE is read when the link comes up, asked again every 5 s (5 times at most); 0 warns every viewer once", () => {
    const r = rig();
    r.hear(r.autopilot.heartbeat());
    const asked = () => r.vehicle.takeOutgoing().filter((m) => m.type === "param_request_read");
    expect(asked()).toEqual([{ type: "param_request_read", targetSystem: 1, targetComponent: 1, paramId: "FS_GCS_ENABLE" }]);
    r.at(102);
    expect(asked()).toEqual([]);
    let again = 0;
    for (let t = 103; t <= 140; t += 1) {
      r.hear(r.autopilot.heartbeat());
      r.at(t);
      again += asked().length;
    }
    // Asked at 100, then at 105, 110, 115 and 120: five in all, then never again on this link-up.
    expect(again).toBe(4);
    expect(r.vehicle.gcsFailsafe).toEqual({ state: "unknown", value: null });

    const fresh = rig();
    fresh.hear(fresh.autopilot.heartbeat());
    fresh.vehicle.takeEvents();
    fresh.hear(fresh.autopilot.paramValue("FS_GCS_ENABLE", 0));
    expect(fresh.vehicle.gcsFailsafe).toEqual({ state: "disabled", value: 0 });
    const [warning] = fresh.vehicle.takeEvents();
    expect(warning).toEqual({
      type: "vehicle_warning",
      text: "copter's GCS failsafe is off (FS_GCS_ENABLE=0): if skyport or its link to copter dies, the autopilot will not act on its own; set FS_GCS_ENABLE to 1 (RTL) or 5 (Land)",
    });
    fresh.hear(fresh.autopilot.paramValue("FS_GCS_ENABLE", 0));
    expect(fresh.vehicle.takeEvents()).toEqual([]);
    fresh.hear(fresh.autopilot.paramValue("FS_GCS_ENABLE", 1));
    expect(fresh.vehicle.gcsFailsafe).toEqual({ state: "enabled", value: 1 });
  });

  test("old firmware: SET_MESSAGE_INTERVAL unsupported, or no position 3 s after the link came up, asks REQUEST_DATA_STREAM once", () => {
    const legacy = (r: ReturnType<typeof rig>) => r.vehicle.takeOutgoing().filter((m) => m.type === "request_data_stream");
    const refused = rig();
    refused.hear(refused.autopilot.heartbeat());
    legacy(refused);
    refused.hear(refused.autopilot.ack(MavCmd.SET_MESSAGE_INTERVAL, MavResult.UNSUPPORTED), refused.autopilot.ack(MavCmd.SET_MESSAGE_INTERVAL, MavResult.UNSUPPORTED));
    expect(legacy(refused).map((m) => (m as { streamId: number }).streamId)).toEqual([2, 6, 10]);
    expect(refused.vehicle.counters.strayAcks).toBe(0);

    const silent = rig();
    silent.hear(silent.autopilot.heartbeat());
    silent.at(102.9);
    expect(legacy(silent)).toEqual([]);
    silent.at(103);
    expect(legacy(silent)).toMatchObject([{ streamId: 2, rateHz: 2 }, { streamId: 6, rateHz: 10 }, { streamId: 10, rateHz: 2 }]);
    silent.at(110);
    expect(legacy(silent)).toEqual([]);

    const streaming = rig();
    streaming.hear(streaming.autopilot.heartbeat(), streaming.autopilot.position(0, 0, 0));
    streaming.at(105);
    expect(legacy(streaming)).toEqual([]);
  });
});

describe("PX4", () => {
  /** A PX4 vehicle on the ground at home, in AUTO.LOITER, link up. */
  function px4OnGround() {
    const vehicle = new MavlinkVehicle("quad");
    const autopilot = new FakeAutopilot(1, 1, "px4");
    let now = 100;
    const decoder = new MavlinkDecoder((message) => vehicle.receive(message, now));
    const hear = (...packets: Buffer[]) => packets.forEach((p) => decoder.feed(p));
    hear(autopilot.heartbeat({ customMode: px4CustomMode(Px4MainMode.AUTO, Px4AutoSubMode.LOITER) }), autopilot.home(), autopilot.position(0, 0, 0), autopilot.landedState(MavLandedState.ON_GROUND));
    vehicle.takeOutgoing();
    vehicle.takeEvents();
    return { vehicle, autopilot, hear, at: (t: number) => ((now = t), vehicle.advance(0.1, t)) };
  }

  test("modes by PX4's own numbering (main mode bits 16-23, sub mode 24-31) and names", () => {
    const r = px4OnGround();
    expect(r.vehicle.autopilotName).toBe("PX4");
    expect(r.vehicle.state().mode).toBe("AUTO.LOITER");
    for (const [main, sub, name] of [[Px4MainMode.POSCTL, 0, "POSCTL"], [Px4MainMode.AUTO, Px4AutoSubMode.MISSION, "AUTO.MISSION"], [Px4MainMode.OFFBOARD, 0, "OFFBOARD"], [Px4MainMode.AUTO, Px4AutoSubMode.RTL, "AUTO.RTL"]] as const) {
      r.hear(r.autopilot.heartbeat({ armed: true, customMode: px4CustomMode(main, sub) }));
      expect(r.vehicle.state().mode).toBe(name);
    }
    // AUTO.RTL in the air is returning; AUTO.LAND landing.
    r.hear(r.autopilot.landedState(MavLandedState.IN_AIR));
    expect(r.vehicle.state().state).toBe("returning");
    r.hear(r.autopilot.heartbeat({ armed: true, customMode: px4CustomMode(Px4MainMode.AUTO, Px4AutoSubMode.LAND) }));
    expect(r.vehicle.state().state).toBe("landing");
    expect(px4CustomMode(Px4MainMode.AUTO, Px4AutoSubMode.LOITER)).toBe(0x03040000);
  });

  test("mode NAME sets PX4's main and sub mode; ArduCopter's names are not PX4's", () => {
    const r = px4OnGround();
    r.vehicle.command({ name: "mode", mode: "AUTO.RTL" }, 1, 100);
    expect(commandsIn(r.vehicle.takeOutgoing())).toEqual([{ command: MavCmd.DO_SET_MODE, params: [1, Px4MainMode.AUTO, Px4AutoSubMode.RTL, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
    const refused = r.vehicle.command({ name: "mode", mode: "GUIDED" }, 2, 100);
    expect(refused).toMatchObject({ status: "refused", refusal: { code: "out_of_range", about: { argument: "mode" } } });
    expect((refused as { refusal: { message: string } }).refusal.message).toStartWith("PX4 has no mode GUIDED: one of MANUAL, ALTCTL, POSCTL, ACRO, OFFBOARD, STABILIZED, AUTO.READY");
  });

  test("takeoff: arm, then NAV_TAKEOFF to an altitude above sea level; land, rth and hover are AUTO modes", () => {
    const r = px4OnGround();
    r.vehicle.command({ name: "takeoff" }, 3, 100);
    expect(commandsIn(r.vehicle.takeOutgoing())).toEqual([{ command: MavCmd.COMPONENT_ARM_DISARM, params: [1, 0, 0, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
    r.hear(r.autopilot.ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.ACCEPTED));
    const [takeoff] = commandsIn(r.vehicle.takeOutgoing());
    expect(takeoff!.command).toBe(MavCmd.NAV_TAKEOFF);
    // Yaw and position NaN: keep the heading, here. Altitude: home's 584 m plus 10.
    expect(takeoff!.params[6]).toBeCloseTo(copterHome.altitudeMetres + 10, 3);
    expect([takeoff!.params[3], takeoff!.params[4], takeoff!.params[5]].every(Number.isNaN)).toBe(true);

    for (const [name, sub] of [["land", Px4AutoSubMode.LAND], ["rth", Px4AutoSubMode.RTL], ["hover", Px4AutoSubMode.LOITER]] as const) {
      const flying = px4OnGround();
      flying.hear(flying.autopilot.heartbeat({ armed: true, customMode: px4CustomMode(Px4MainMode.AUTO, Px4AutoSubMode.LOITER) }), flying.autopilot.landedState(MavLandedState.IN_AIR), flying.autopilot.position(0, 0, 10));
      flying.vehicle.takeOutgoing();
      flying.vehicle.command({ name }, 4, 100);
      expect(commandsIn(flying.vehicle.takeOutgoing())).toEqual([{ command: MavCmd.DO_SET_MODE, params: [1, Px4MainMode.AUTO, sub, 0, 0, 0, 0], confirmation: 0, target: 1 }]);
    }
  });

  test("moves and turns are DO_REPOSITION as a COMMAND_INT (degE7 position, altitude above sea level, yaw), done on arrival", () => {
    const r = px4OnGround();
    r.hear(r.autopilot.heartbeat({ armed: true, customMode: px4CustomMode(Px4MainMode.AUTO, Px4AutoSubMode.LOITER) }), r.autopilot.landedState(MavLandedState.IN_AIR), r.autopilot.position(0, 0, 10, { heading: 90 }));
    r.vehicle.takeOutgoing();
    expect(r.vehicle.command({ name: "forward", distance: 10 }, 5, 100)).toEqual({ status: "pending" });
    const [reposition] = r.vehicle.takeOutgoing();
    const expected = pointFromHome(copterHome, 10, 0);
    expect(reposition).toMatchObject({ type: "command_int", command: MavCmd.DO_REPOSITION, frame: 0, targetSystem: 1, latInt: Math.round(expected.lat * 1e7), lonInt: Math.round(expected.lon * 1e7) });
    expect((reposition as { z: number }).z).toBeCloseTo(copterHome.altitudeMetres + 10, 2);
    expect((reposition as { params: number[] }).params).toEqual([-1, 1, 0, 90]);
    r.hear(r.autopilot.ack(MavCmd.DO_REPOSITION, MavResult.ACCEPTED));
    expect(r.vehicle.takeEvents()).toMatchObject([{ type: "command_accepted", token: 5, plan: { x: 10, y: 0, z: 10 } }]);
    r.hear(r.autopilot.position(9.5, 0, 10, { heading: 90 }));
    expect(r.vehicle.takeEvents()).toEqual([{ type: "command_done", token: 5 }]);

    r.vehicle.command({ name: "cw", degrees: 90 }, 6, 101);
    const [turn] = r.vehicle.takeOutgoing();
    expect((turn as { params: number[] }).params).toEqual([-1, 1, 0, 180]);
  });

  test("a PX4 position before home is known is refused, naming why", () => {
    const vehicle = new MavlinkVehicle("quad");
    const autopilot = new FakeAutopilot(1, 1, "px4");
    const decoder = new MavlinkDecoder((message) => vehicle.receive(message, 100));
    decoder.feed(autopilot.heartbeat({ armed: true, customMode: px4CustomMode(Px4MainMode.AUTO, Px4AutoSubMode.LOITER) }));
    decoder.feed(autopilot.landedState(MavLandedState.IN_AIR));
    expect(vehicle.command({ name: "up", distance: 5 }, 7, 100)).toEqual({
      status: "refused",
      refusal: { code: "drone_unavailable", message: "quad has not reported its home position yet: PX4 takes positions above sea level, measured from it" },
    });
  });
});
