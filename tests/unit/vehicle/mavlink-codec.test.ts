/**
 * The MAVLink codec under Bun: node-mavlink sends v2 frames from skyport's
 * ground-station ids, decodes what an ArduCopter sends, and counts what it
 * cannot use (garbage, CRC-broken packets, v1 frames, unknown ids) without
 * throwing. Also checks the core's MAVLink numbers against the definitions.
 */
import { describe, expect, test } from "bun:test";
import { ardupilotmega, common, minimal } from "node-mavlink";
import { CopterMode, gpsFixNames, MavCmd, MavFrame, MavMissionResult, mavMissionResultNames, mavSeverityNames, MavLandedState, MavMessageId, MavResult } from "../../../src/core/vehicle/mavlink/messages.ts";
import type { MavInbound } from "../../../src/core/vehicle/mavlink/messages.ts";
import { gcsComponentId, MavlinkDecoder, MavlinkEncoder } from "../../../src/runtime/mavlink/codec.ts";
import { decodePackets, FakeAutopilot } from "../../support/mavlink-autopilot.ts";

function decoder(): { decoder: MavlinkDecoder; heard: MavInbound[] } {
  const heard: MavInbound[] = [];
  return { decoder: new MavlinkDecoder((message) => heard.push(message)), heard };
}

describe("MavlinkEncoder", () => {
  test("sends a HEARTBEAT as a MAVLink v2 frame (0xFD) from the GCS ids, MAV_TYPE_GCS", () => {
    const bytes = new MavlinkEncoder(255).heartbeat();
    expect(bytes[0]).toBe(0xfd);
    const [packet] = decodePackets(bytes);
    expect(packet!.header.sysid).toBe(255);
    expect(packet!.header.compid).toBe(gcsComponentId);
    expect(packet!.header.msgid).toBe(minimal.Heartbeat.MSG_ID);
    const heartbeat = packet!.protocol.data(packet!.payload, minimal.Heartbeat);
    expect(heartbeat.type).toBe(minimal.MavType.GCS);
    expect(heartbeat.autopilot).toBe(minimal.MavAutopilot.INVALID);
  });

  test("a COMMAND_LONG round-trips with its target, confirmation and params, and seq counts up", () => {
    const encoder = new MavlinkEncoder(200);
    const first = encoder.encode({ type: "command_long", targetSystem: 1, targetComponent: 1, command: MavCmd.NAV_TAKEOFF, confirmation: 2, params: [0, 0, 0, 0, 0, 0, 10] });
    const second = encoder.encode({ type: "command_long", targetSystem: 1, targetComponent: 1, command: MavCmd.DO_SET_MODE, confirmation: 0, params: [1, 4, 0, 0, 0, 0, 0] });
    expect(first[0]).toBe(0xfd);
    const packets = decodePackets(Buffer.concat([first, second]));
    expect(packets.map((p) => p.header.seq)).toEqual([0, 1]);
    const command = packets[0]!.protocol.data(packets[0]!.payload, common.CommandLong);
    expect(command).toMatchObject({ targetSystem: 1, targetComponent: 1, command: MavCmd.NAV_TAKEOFF, confirmation: 2, _param7: 10 });
  });

  test("a position target is SET_POSITION_TARGET_GLOBAL_INT relative to home, position and yaw only", () => {
    const bytes = new MavlinkEncoder(255).encode({ type: "position_target_global", targetSystem: 1, targetComponent: 1, latInt: -353632610, lonInt: 1491652300, relativeAltMetres: 12.5, yawRadians: Math.PI / 2 });
    const [packet] = decodePackets(bytes);
    const target = packet!.protocol.data(packet!.payload, common.SetPositionTargetGlobalInt);
    expect(target).toMatchObject({ targetSystem: 1, latInt: -353632610, lonInt: 1491652300, alt: 12.5, coordinateFrame: common.MavFrame.GLOBAL_RELATIVE_ALT_INT });
    expect(target.yaw).toBeCloseTo(Math.PI / 2, 5);
    const ignored = common.PositionTargetTypemask;
    expect(target.typeMask & (ignored.X_IGNORE | ignored.Y_IGNORE | ignored.Z_IGNORE | ignored.YAW_IGNORE)).toBe(0);
    expect(target.typeMask & (ignored.VX_IGNORE | ignored.AX_IGNORE | ignored.YAW_RATE_IGNORE)).toBe(ignored.VX_IGNORE | ignored.AX_IGNORE | ignored.YAW_RATE_IGNORE);
  });

  test("COMMAND_INT carries a position as degE7 integers, exactly (PX4's DO_REPOSITION); PARAM_REQUEST_READ and REQUEST_DATA_STREAM", () => {
    const encoder = new MavlinkEncoder(255);
    const [reposition] = decodePackets(
      encoder.encode({ type: "command_int", targetSystem: 1, targetComponent: 1, frame: 0, command: MavCmd.DO_REPOSITION, params: [-1, 1, 0, 90], latInt: -353632610, lonInt: 1491652300, z: 594 }),
    );
    expect(reposition!.protocol.data(reposition!.payload, common.CommandInt)).toMatchObject({
      targetSystem: 1, frame: common.MavFrame.GLOBAL, command: MavCmd.DO_REPOSITION, _param1: -1, _param2: 1, _param4: 90, _param5: -353632610, _param6: 1491652300, _param7: 594,
    });
    const [read] = decodePackets(encoder.encode({ type: "param_request_read", targetSystem: 1, targetComponent: 1, paramId: "FS_GCS_ENABLE" }));
    expect(read!.protocol.data(read!.payload, common.ParamRequestRead)).toMatchObject({ targetSystem: 1, paramId: "FS_GCS_ENABLE", paramIndex: -1 });
    const [stream] = decodePackets(encoder.encode({ type: "request_data_stream", targetSystem: 1, targetComponent: 1, streamId: 6, rateHz: 10 }));
    expect(stream!.protocol.data(stream!.payload, common.RequestDataStream)).toMatchObject({ targetSystem: 1, reqStreamId: 6, reqMessageRate: 10, startStop: 1 });
  });
});

describe("MavlinkDecoder", () => {
  test("decodes an autopilot's messages, whatever the chunking", () => {
    const autopilot = new FakeAutopilot(1, 1);
    const bytes = Buffer.concat([autopilot.heartbeat({ armed: true, customMode: CopterMode.GUIDED }), autopilot.position(3, 4, 10, { heading: 90 }), autopilot.ack(MavCmd.NAV_TAKEOFF, MavResult.ACCEPTED)]);
    const { decoder: d, heard } = decoder();
    for (let i = 0; i < bytes.length; i += 7) d.feed(bytes.subarray(i, i + 7));
    expect(heard.map((m) => m.type)).toEqual(["heartbeat", "global_position_int", "command_ack"]);
    expect(heard[0]).toMatchObject({ sysid: 1, compid: 1, baseMode: 129, customMode: CopterMode.GUIDED });
    expect(heard[1]).toMatchObject({ relativeAlt: 10_000, hdg: 9000 });
    expect(heard[2]).toMatchObject({ command: MavCmd.NAV_TAKEOFF, result: MavResult.ACCEPTED, targetSystem: 255 });
    expect(d.counters()).toMatchObject({ packets: 3, crcErrors: 0, unknownIds: 0, v1Frames: 0 });
  });

  test("garbage, a CRC-broken packet, an unknown id and a v1 frame are counted, never thrown, and good packets still get through", () => {
    const autopilot = new FakeAutopilot(1, 1);
    const broken = autopilot.heartbeat();
    broken[broken.length - 1] = broken[broken.length - 1]! ^ 0xff;
    const unknown = autopilot.heartbeat();
    // Message id 0 -> 0x3f3f3f (not in any dialect), CRC left as is: the splitter cannot check it and counts it unknown.
    unknown[7] = 0x3f; unknown[8] = 0x3f; unknown[9] = 0x3f;
    const garbage = Buffer.from("not mavlink at all, just noise\n");
    const { decoder: d, heard } = decoder();
    expect(() => {
      d.feed(garbage);
      d.feed(broken);
      d.feed(autopilot.heartbeat({ customMode: CopterMode.LOITER }));
      d.feed(unknown);
      d.feed(autopilot.heartbeat({ v1: true, customMode: CopterMode.RTL }));
      d.feed(autopilot.battery(80));
    }).not.toThrow();
    expect(heard.map((m) => m.type)).toEqual(["heartbeat", "heartbeat", "sys_status"]);
    expect(heard[1]).toMatchObject({ customMode: CopterMode.RTL });
    expect(d.counters()).toMatchObject({ packets: 3, crcErrors: 1, unknownIds: 1, v1Frames: 1 });
  });
});

describe("the core's MAVLink numbers", () => {
  test("match the mavlink-mappings definitions", () => {
    expect({ ...MavCmd } as Record<string, number>).toEqual({
      NAV_WAYPOINT: common.MavCmd.NAV_WAYPOINT,
      NAV_RETURN_TO_LAUNCH: common.MavCmd.NAV_RETURN_TO_LAUNCH,
      NAV_LAND: common.MavCmd.NAV_LAND,
      MISSION_START: common.MavCmd.MISSION_START,
      NAV_TAKEOFF: common.MavCmd.NAV_TAKEOFF,
      CONDITION_YAW: common.MavCmd.CONDITION_YAW,
      DO_SET_MODE: common.MavCmd.DO_SET_MODE,
      DO_CHANGE_SPEED: common.MavCmd.DO_CHANGE_SPEED,
      DO_REPOSITION: common.MavCmd.DO_REPOSITION,
      COMPONENT_ARM_DISARM: common.MavCmd.COMPONENT_ARM_DISARM,
      SET_MESSAGE_INTERVAL: common.MavCmd.SET_MESSAGE_INTERVAL,
    });
    for (const [name, value] of Object.entries(MavResult)) expect(common.MavResult[name as keyof typeof common.MavResult]).toBe(value);
    for (const [value, name] of Object.entries(mavMissionResultNames)) expect(common.MavMissionResult[name.replace("MAV_MISSION_", "") as keyof typeof common.MavMissionResult]).toBe(Number(value));
    for (const [name, value] of Object.entries(MavMissionResult)) expect(common.MavMissionResult[name as keyof typeof common.MavMissionResult]).toBe(value);
    for (const [name, value] of Object.entries(MavFrame)) expect(common.MavFrame[name as keyof typeof common.MavFrame]).toBe(value);
    for (const [name, value] of Object.entries(MavLandedState)) expect(common.MavLandedState[name as keyof typeof common.MavLandedState]).toBe(value);
    mavSeverityNames.forEach((name, value) => expect(common.MavSeverity[name.toUpperCase() as keyof typeof common.MavSeverity]).toBe(value));
    // The package names the 2D and 3D fixes GPS_FIX_TYPE_2D_FIX and GPS_FIX_TYPE_3D_FIX (identifiers cannot start with a digit).
    for (const [value, name] of Object.entries(gpsFixNames)) {
      const key = /^\d/.test(name) ? `GPS_FIX_TYPE_${name.toUpperCase()}_FIX` : name.toUpperCase();
      expect(common.GpsFixType[key as keyof typeof common.GpsFixType]).toBe(Number(value));
    }
    for (const [name, value] of Object.entries(CopterMode)) expect(ardupilotmega.CopterMode[name as keyof typeof ardupilotmega.CopterMode]).toBe(value);
    expect({ ...MavMessageId } as Record<string, number>).toEqual({
      SYS_STATUS: common.SysStatus.MSG_ID,
      GPS_RAW_INT: common.GpsRawInt.MSG_ID,
      GLOBAL_POSITION_INT: common.GlobalPositionInt.MSG_ID,
      BATTERY_STATUS: common.BatteryStatus.MSG_ID,
      HOME_POSITION: common.HomePosition.MSG_ID,
      EXTENDED_SYS_STATE: common.ExtendedSysState.MSG_ID,
    });
  });
});
