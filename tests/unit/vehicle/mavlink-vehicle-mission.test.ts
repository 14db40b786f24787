/**
 * A MAVLink vehicle's missions, fed the fake ArduCopter's encoded packets
 * with time as arguments: the upload through the mission protocol and its
 * `done`, start (arm, MISSION_START), progress from MISSION_CURRENT and
 * MISSION_ITEM_REACHED, pause (BRAKE) and resume (AUTO), a manual command
 * pausing it, a second upload refused, a half-finished upload leaving the
 * previous mission, clear through MISSION_CLEAR_ALL, and the mission
 * already on the vehicle read on link-up.
 */
import { describe, expect, test } from "bun:test";
import type { MissionItem } from "../../../src/core/mission/mission.ts";
import { pointFromHome } from "../../../src/core/vehicle/geodesy.ts";
import { CopterMode, MavCmd, MavLandedState, MavMissionResult, MavResult, type MavOutbound } from "../../../src/core/vehicle/mavlink/messages.ts";
import { toMavMission } from "../../../src/core/vehicle/mavlink/mission-items.ts";
import { transferMaxRetries, transferRetrySeconds } from "../../../src/core/vehicle/mavlink/mission-transfer.ts";
import { MavlinkVehicle } from "../../../src/core/vehicle/mavlink/vehicle.ts";
import type { VehicleEvent } from "../../../src/core/vehicle/vehicle.ts";
import { MavlinkDecoder } from "../../../src/runtime/mavlink/codec.ts";
import { copterHome, FakeAutopilot } from "../../support/mavlink-autopilot.ts";

const waypoint = (x: number, y: number, altitude: number): MissionItem => ({ type: "waypoint", ...pointFromHome({ lat: copterHome.lat, lon: copterHome.lon }, x, y), altitude });
const route: MissionItem[] = [{ type: "takeoff", altitude: 10 }, waypoint(0, 30, 15), waypoint(20, 30, 15), { type: "land" }];

/** A copter on the ground at home, link up, holding no mission, and a clock the test moves. */
function onGround(heldMission: MissionItem[] | null = null) {
  const vehicle = new MavlinkVehicle("copter");
  const autopilot = new FakeAutopilot(1, 1);
  let now = 100;
  const decoder = new MavlinkDecoder((message) => vehicle.receive(message, now));
  const hear = (...packets: Buffer[]) => packets.forEach((packet) => decoder.feed(packet));
  const sent = (): MavOutbound[] => vehicle.takeOutgoing().filter((m) => m.type !== "command_long" || m.command !== MavCmd.SET_MESSAGE_INTERVAL);
  const at = (seconds: number) => {
    now = seconds;
    vehicle.advance(0.1, now);
  };
  hear(autopilot.heartbeat({ customMode: CopterMode.STABILIZE }), autopilot.home(), autopilot.position(0, 0, 0), autopilot.landedState(MavLandedState.ON_GROUND));
  // The download every link-up starts, answered as ArduCopter would.
  const held = heldMission === null ? [] : toMavMission(heldMission, true, copterHome).items;
  hear(autopilot.missionCount(held.length));
  for (const item of held) hear(autopilot.missionItem(item));
  sent();
  if (heldMission === null) vehicle.takeEvents();
  return { vehicle, autopilot, hear, sent, at, now: () => now };
}

type Rig = ReturnType<typeof onGround>;

/** Plays the autopilot's side of an upload to the end; returns the items it was sent. */
function acceptUpload(r: Rig, result: number = MavMissionResult.ACCEPTED): MavOutbound[] {
  const count = r.sent().find((m) => m.type === "mission_count");
  if (count?.type !== "mission_count") throw new Error("no MISSION_COUNT sent");
  const items: MavOutbound[] = [];
  for (let seq = 0; seq < count.count; seq++) {
    r.hear(r.autopilot.missionRequest(seq));
    items.push(...r.sent());
  }
  r.hear(r.autopilot.missionAck(result));
  return items;
}

const progressIn = (events: VehicleEvent[]) => events.flatMap((e) => (e.type === "mission_progress" ? [e.progress] : []));

/** Acknowledges each COMMAND_LONG sent, in order; returns their commands. */
function ackAll(r: Rig): number[] {
  const commands: number[] = [];
  for (let guard = 0; guard < 5; guard++) {
    const long = r.sent().filter((m) => m.type === "command_long");
    if (long.length === 0) break;
    for (const message of long) {
      if (message.type !== "command_long") continue;
      commands.push(message.command);
      r.hear(r.autopilot.ack(message.command, MavResult.ACCEPTED));
    }
  }
  return commands;
}

/** A copter flying `route` in AUTO: uploaded, started, every step acknowledged, its events taken. */
function runningMission(): Rig {
  const r = onGround();
  r.vehicle.missionCommand({ action: "upload", items: route }, 5, 100);
  acceptUpload(r);
  r.vehicle.missionCommand({ action: "start" }, 8, 100);
  ackAll(r);
  r.hear(r.autopilot.heartbeat({ armed: true, customMode: CopterMode.AUTO }));
  r.vehicle.takeEvents();
  return r;
}

describe("a MAVLink vehicle's mission", () => {
  test("upload: accepted once checked, the items through the mission protocol, done on the autopilot's MISSION_ACK", () => {
    const r = onGround();
    expect(r.vehicle.missionCommand({ action: "upload", items: route }, 5, 100)).toEqual({ status: "accepted", items: 4 });
    const items = acceptUpload(r);
    expect(items.map((m) => (m.type === "mission_item" ? m.command : -1))).toEqual([MavCmd.NAV_WAYPOINT, MavCmd.NAV_TAKEOFF, MavCmd.NAV_WAYPOINT, MavCmd.NAV_WAYPOINT, MavCmd.NAV_LAND]);
    expect(r.vehicle.takeEvents()).toEqual([{ type: "mission", items: route }, { type: "command_done", token: 5 }]);
    expect(r.vehicle.mission()).toEqual(route);
  });

  test("an upload while another is in progress is refused; the geofence is checked first", () => {
    const r = onGround();
    r.vehicle.missionCommand({ action: "upload", items: route }, 5, 100);
    expect(r.vehicle.missionCommand({ action: "upload", items: route }, 6, 100)).toMatchObject({ status: "refused", refusal: { code: "busy", message: "copter is in the middle of a mission upload: wait for it to finish" } });
    const far = onGround();
    expect(far.vehicle.missionCommand({ action: "upload", items: [route[0]!, waypoint(0, 600, 10)] }, 1, 100)).toMatchObject({ status: "refused", refusal: { code: "geofence", about: { item: 1, field: "lat" } } });
  });

  test("a half-finished upload is cancelled after the retries and the vehicle keeps its previous mission", () => {
    const previous: MissionItem[] = [{ type: "takeoff", altitude: 5 }, { type: "land" }];
    const r = onGround(previous);
    expect(r.vehicle.mission()).toEqual(previous);
    r.vehicle.takeEvents();
    r.vehicle.missionCommand({ action: "upload", items: route }, 7, 100);
    r.sent();
    r.hear(r.autopilot.missionRequest(0));
    r.hear(r.autopilot.missionRequest(1));
    r.sent();
    // The autopilot falls silent half-way.
    for (let t = 100; t <= 100 + transferRetrySeconds * (transferMaxRetries + 2); t += 0.5) r.hear(r.autopilot.heartbeat({ customMode: CopterMode.STABILIZE })), r.at(t);
    const events = r.vehicle.takeEvents();
    expect(events).toContainEqual({ type: "command_failed", token: 7, reason: expect.stringContaining("upload cancelled: the autopilot did not answer with a request after item 1") });
    expect(events.find((e) => e.type === "mission")).toBeUndefined();
    expect(r.vehicle.mission()).toEqual(previous);
    expect(r.sent()).toContainEqual({ type: "mission_ack", targetSystem: 1, targetComponent: 1, result: MavMissionResult.OPERATION_CANCELLED });
  });

  test("start puts it in GUIDED, arms and sends MISSION_START; progress follows MISSION_CURRENT and MISSION_ITEM_REACHED to completion", () => {
    const r = onGround();
    r.vehicle.missionCommand({ action: "upload", items: route }, 5, 100);
    acceptUpload(r);
    r.vehicle.takeEvents();
    expect(r.vehicle.missionCommand({ action: "start" }, 8, 100)).toEqual({ status: "accepted", items: 4 });
    // ArduCopter refuses to arm in AUTO: GUIDED first.
    expect(ackAll(r)).toEqual([MavCmd.DO_SET_MODE, MavCmd.COMPONENT_ARM_DISARM, MavCmd.MISSION_START]);
    const started = r.vehicle.takeEvents();
    expect(started).toContainEqual({ type: "command_done", token: 8 });
    expect(progressIn(started).at(-1)).toMatchObject({ state: "running", current: 0, reached: [] });
    expect(progressIn(started).at(-1)!.distanceToGo).toBeGreaterThan(60);

    r.hear(r.autopilot.heartbeat({ armed: true, customMode: CopterMode.AUTO }), r.autopilot.landedState(MavLandedState.IN_AIR), r.autopilot.position(0, 0, 10));
    r.hear(r.autopilot.missionItemReached(1), r.autopilot.missionCurrent(2));
    expect(progressIn(r.vehicle.takeEvents()).at(-1)).toMatchObject({ state: "running", current: 1, reached: [0] });
    r.hear(r.autopilot.missionItemReached(2), r.autopilot.missionCurrent(3), r.autopilot.missionItemReached(3), r.autopilot.missionCurrent(4));
    expect(progressIn(r.vehicle.takeEvents()).at(-1)).toMatchObject({ current: 3, reached: [0, 1, 2] });
    r.hear(r.autopilot.heartbeat({ armed: false, customMode: CopterMode.AUTO }), r.autopilot.landedState(MavLandedState.ON_GROUND), r.autopilot.position(20, 30, 0));
    expect(progressIn(r.vehicle.takeEvents()).at(-1)).toMatchObject({ state: "completed", current: 4, reached: [0, 1, 2, 3], distanceToGo: 0 });
  });

  test("pause is BRAKE, resume is AUTO again; a manual command pauses it too", () => {
    const r = runningMission();
    r.hear(r.autopilot.landedState(MavLandedState.IN_AIR), r.autopilot.position(0, 10, 12));
    r.vehicle.takeEvents();

    expect(r.vehicle.missionCommand({ action: "pause" }, 9, 101)).toMatchObject({ status: "accepted" });
    const brake = r.sent().find((m) => m.type === "command_long");
    expect(brake).toMatchObject({ command: MavCmd.DO_SET_MODE, params: [1, CopterMode.BRAKE, 0, 0, 0, 0, 0] });
    r.hear(r.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), r.autopilot.heartbeat({ armed: true, customMode: CopterMode.BRAKE }));
    const paused = r.vehicle.takeEvents();
    expect(paused).toContainEqual({ type: "command_done", token: 9 });
    expect(progressIn(paused)[0]).toMatchObject({ state: "paused", reason: "paused by the pilot" });

    expect(r.vehicle.missionCommand({ action: "resume" }, 10, 102)).toMatchObject({ status: "accepted" });
    expect(r.sent().find((m) => m.type === "command_long")).toMatchObject({ command: MavCmd.DO_SET_MODE, params: [1, CopterMode.AUTO, 0, 0, 0, 0, 0] });
    r.hear(r.autopilot.ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), r.autopilot.heartbeat({ armed: true, customMode: CopterMode.AUTO }));
    expect(progressIn(r.vehicle.takeEvents()).at(-1)).toMatchObject({ state: "running" });

    r.vehicle.command({ name: "forward", distance: 5 }, 11, 103);
    expect(progressIn(r.vehicle.takeEvents()).at(-1)).toMatchObject({ state: "paused", reason: "paused by the pilot's command forward" });
  });

  test("the autopilot leaving AUTO on its own (its RTL failsafe) pauses the mission, saying so", () => {
    const r = runningMission();
    r.hear(r.autopilot.heartbeat({ armed: true, customMode: CopterMode.RTL }));
    expect(progressIn(r.vehicle.takeEvents()).at(-1)).toMatchObject({ state: "paused", reason: "the autopilot left AUTO for RTL" });
  });

  test("disarmed on the ground before its last item (a takeoff the autopilot could not make): aborted, saying where", () => {
    const r = runningMission();
    r.hear(r.autopilot.heartbeat({ armed: false, customMode: CopterMode.AUTO }));
    expect(progressIn(r.vehicle.takeEvents()).at(-1)).toMatchObject({ state: "aborted", current: 0, reason: "the autopilot disarmed on the ground at item 0 of 4" });
    // Started again, it flies from the first item.
    expect(r.vehicle.missionCommand({ action: "start" }, 9, 101).status).toBe("accepted");
  });

  test("start, pause and resume without a mission in that state are refused", () => {
    const r = onGround();
    expect(r.vehicle.missionCommand({ action: "start" }, 1, 100)).toMatchObject({ status: "refused", refusal: { code: "no_mission" } });
    expect(r.vehicle.missionCommand({ action: "pause" }, 1, 100)).toMatchObject({ status: "refused", refusal: { code: "no_mission" } });
    expect(r.vehicle.missionCommand({ action: "resume" }, 1, 100)).toMatchObject({ status: "refused", refusal: { code: "no_mission" } });
  });

  test("clear sends MISSION_CLEAR_ALL: the mission is forgotten and done on the autopilot's MISSION_ACK; a refusal keeps it", () => {
    const held: MissionItem[] = [{ type: "takeoff", altitude: 5 }, { type: "land" }];
    const r = onGround(held);
    r.vehicle.takeEvents();
    expect(r.vehicle.missionCommand({ action: "clear" }, 8, 100)).toEqual({ status: "accepted", items: 0 });
    expect(r.sent()).toEqual([{ type: "mission_clear_all", targetSystem: 1, targetComponent: 1 }]);
    // Nothing is forgotten before the autopilot answers, and a second transfer waits for it.
    expect(r.vehicle.mission()).toEqual(held);
    expect(r.vehicle.takeEvents()).toEqual([]);
    expect(r.vehicle.missionCommand({ action: "upload", items: route }, 9, 100)).toMatchObject({ status: "refused", refusal: { code: "busy", message: "copter is in the middle of a mission clear: wait for it to finish" } });
    r.hear(r.autopilot.missionAck(MavMissionResult.ACCEPTED));
    expect(r.vehicle.takeEvents()).toEqual([{ type: "mission", items: null }, { type: "command_done", token: 8 }]);
    expect(r.vehicle.mission()).toBeNull();

    const refusing = onGround(held);
    refusing.vehicle.takeEvents();
    refusing.vehicle.missionCommand({ action: "clear" }, 3, 100);
    refusing.sent();
    refusing.hear(refusing.autopilot.missionAck(MavMissionResult.ERROR));
    expect(refusing.vehicle.takeEvents()).toEqual([{ type: "command_failed", token: 3, reason: "the autopilot refused to clear its mission: MAV_MISSION_ERROR; the vehicle keeps its mission" }]);
    expect(refusing.vehicle.mission()).toEqual(held);
  });

  test("a clear the autopilot never answers is sent again, then given up: the vehicle keeps its mission", () => {
    const held: MissionItem[] = [{ type: "takeoff", altitude: 5 }, { type: "land" }];
    const r = onGround(held);
    r.vehicle.takeEvents();
    r.vehicle.missionCommand({ action: "clear" }, 4, 100);
    r.sent();
    const resent: MavOutbound[] = [];
    for (let t = 100; t <= 100 + transferRetrySeconds * (transferMaxRetries + 2); t += 0.5) {
      r.hear(r.autopilot.heartbeat({ customMode: CopterMode.STABILIZE }));
      r.at(t);
      resent.push(...r.sent().filter((m) => m.type === "mission_clear_all"));
    }
    expect(resent).toHaveLength(transferMaxRetries);
    expect(r.vehicle.takeEvents()).toContainEqual({ type: "command_failed", token: 4, reason: `clear given up: the autopilot did not answer with a MISSION_ACK to MISSION_CLEAR_ALL after ${transferMaxRetries + 1} tries ${transferRetrySeconds} s apart; the vehicle keeps its mission` });
    expect(r.vehicle.mission()).toEqual(held);
  });

  test("a mission already on the vehicle is read on link-up and shown to viewers", () => {
    const held: MissionItem[] = [{ type: "takeoff", altitude: 12 }, waypoint(10, 10, 12), { type: "rth" }];
    const r = onGround(held);
    expect(r.sent()).toEqual([]);
    expect(r.vehicle.mission()).toEqual([held[0], expect.objectContaining({ type: "waypoint", altitude: 12 }), held[2]]);
    expect(r.vehicle.takeEvents()).toContainEqual({ type: "mission", items: expect.any(Array) });
  });
});
