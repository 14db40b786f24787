/**
 * The MAVLink vocabulary the pure MAVLink vehicle speaks: the few messages it
 * reads and writes, as plain data, and the protocol numbers it uses.
 *
 * Owns only types and constants (numbers from the MAVLink `common` and
 * `ardupilotmega` dialects; tests/unit/vehicle/mavlink-codec.test.ts checks
 * each against the `mavlink-mappings` package). It must not encode or decode
 * bytes: the runtime codec (`src/runtime/mavlink/codec.ts`, node-mavlink)
 * turns packets into these and these into packets, so the core stays free of
 * packages.
 */

/** What the vehicle reads, already decoded, each with the sender's system and component ids. */
export type MavInbound =
  | { type: "heartbeat"; sysid: number; compid: number; mavType: number; autopilot: number; baseMode: number; customMode: number; systemStatus: number }
  /** lat/lon in degE7; alt (MSL) and relativeAlt in mm; vx (north) vy (east) vz (down) in cm/s; hdg in cdeg, 65535 unknown. */
  | { type: "global_position_int"; sysid: number; compid: number; lat: number; lon: number; alt: number; relativeAlt: number; vx: number; vy: number; vz: number; hdg: number }
  /** latitude/longitude in degE7, altitude (MSL) in mm. */
  | { type: "home_position"; sysid: number; compid: number; latitude: number; longitude: number; altitude: number }
  /** batteryRemaining in percent, -1 unknown; voltageBattery in mV. */
  | { type: "sys_status"; sysid: number; compid: number; batteryRemaining: number; voltageBattery: number }
  | { type: "battery_status"; sysid: number; compid: number; batteryRemaining: number }
  /** fixType a GPS_FIX_TYPE; satellitesVisible 255 when unknown. */
  | { type: "gps_raw_int"; sysid: number; compid: number; fixType: number; satellitesVisible: number }
  /** severity a MAV_SEVERITY; text up to 50 characters; id non-zero when the text comes in chunks, chunkSeq numbering them. */
  | { type: "statustext"; sysid: number; compid: number; severity: number; text: string; id: number; chunkSeq: number }
  /** One parameter's value, as the autopilot answers PARAM_REQUEST_READ. */
  | { type: "param_value"; sysid: number; compid: number; paramId: string; paramValue: number }
  | { type: "extended_sys_state"; sysid: number; compid: number; landedState: number }
  /** targetSystem 0 when the sender did not fill it. */
  | { type: "command_ack"; sysid: number; compid: number; command: number; result: number; targetSystem: number }
  /** The vehicle asks for mission item `seq` during an upload (MISSION_REQUEST_INT, or the older MISSION_REQUEST: both read alike). */
  | { type: "mission_request"; sysid: number; compid: number; seq: number; missionType: number }
  /** The end of a transfer: `result` a MAV_MISSION_RESULT (0 accepted). */
  | { type: "mission_ack"; sysid: number; compid: number; result: number; missionType: number }
  /** How many items the vehicle holds, answering MISSION_REQUEST_LIST. */
  | { type: "mission_count"; sysid: number; compid: number; count: number; missionType: number }
  /** One item of a download. */
  | ({ type: "mission_item"; sysid: number; compid: number; missionType: number } & MavMissionItem)
  /** The item the vehicle is flying now (MISSION_CURRENT). */
  | { type: "mission_current"; sysid: number; compid: number; seq: number }
  /** The vehicle reached item `seq` (MISSION_ITEM_REACHED). */
  | { type: "mission_item_reached"; sysid: number; compid: number; seq: number };

/** A mission item as MAVLink carries it (MISSION_ITEM_INT): x/y latitude and longitude in degE7, z metres in `frame`. */
export interface MavMissionItem {
  seq: number;
  frame: number;
  command: number;
  /** 1 for the item the vehicle flies first (ArduPilot ignores it on upload). */
  current: number;
  autocontinue: number;
  params: [number, number, number, number];
  x: number;
  y: number;
  z: number;
}

/** What the vehicle asks the link to send, addressed to the vehicle's system and component. */
export type MavOutbound =
  | {
      type: "command_long";
      targetSystem: number;
      targetComponent: number;
      command: number;
      /** 0 the first time, +1 on each resend of the same command. */
      confirmation: number;
      params: [number, number, number, number, number, number, number];
    }
  | {
      /** SET_POSITION_TARGET_GLOBAL_INT in MAV_FRAME_GLOBAL_RELATIVE_ALT_INT: a position and a yaw. */
      type: "position_target_global";
      targetSystem: number;
      targetComponent: number;
      /** degE7 */
      latInt: number;
      lonInt: number;
      /** Metres above home. */
      relativeAltMetres: number;
      /** Radians, 0 = north, clockwise. */
      yawRadians: number;
    }
  /** COMMAND_INT: a command whose position travels as degE7 integers (x = lat, y = lon), z in the frame's metres. */
  | {
      type: "command_int";
      targetSystem: number;
      targetComponent: number;
      frame: number;
      command: number;
      params: [number, number, number, number];
      latInt: number;
      lonInt: number;
      z: number;
    }
  /** PARAM_REQUEST_READ by name (param_index -1). */
  | { type: "param_request_read"; targetSystem: number; targetComponent: number; paramId: string }
  /** REQUEST_DATA_STREAM: the streams of old firmware that predates SET_MESSAGE_INTERVAL; rate in Hz. */
  | { type: "request_data_stream"; targetSystem: number; targetComponent: number; streamId: number; rateHz: number }
  /** MISSION_COUNT: an upload of `count` items starts. Every mission message's `missionType` is MAV_MISSION_TYPE (absent: 0, the mission; 1 the fence). */
  | { type: "mission_count"; targetSystem: number; targetComponent: number; count: number; missionType?: number }
  /** MISSION_ITEM_INT: one item of an upload, as the vehicle asked for it. */
  | ({ type: "mission_item"; targetSystem: number; targetComponent: number; missionType?: number } & MavMissionItem)
  /** MISSION_REQUEST_LIST: a download starts. */
  | { type: "mission_request_list"; targetSystem: number; targetComponent: number; missionType?: number }
  /** MISSION_CLEAR_ALL: the autopilot forgets its mission (answered with a MISSION_ACK). */
  | { type: "mission_clear_all"; targetSystem: number; targetComponent: number; missionType?: number }
  /** MISSION_REQUEST_INT: the item `seq` of a download, please. */
  | { type: "mission_request"; targetSystem: number; targetComponent: number; seq: number; missionType?: number }
  /** MISSION_ACK: a download is complete (`result` 0), or a transfer is cancelled (MAV_MISSION_OPERATION_CANCELLED). */
  | { type: "mission_ack"; targetSystem: number; targetComponent: number; result: number; missionType?: number };

/** MAV_DATA_STREAM groups (common.xml, deprecated but what old firmware streams by), with the rate asked for each. */
export const legacyStreams: ReadonlyArray<{ streamId: number; rateHz: number; why: string }> = [
  { streamId: 2, rateHz: 2, why: "EXTENDED_STATUS: SYS_STATUS, GPS_RAW_INT" },
  { streamId: 6, rateHz: 10, why: "POSITION: GLOBAL_POSITION_INT" },
  { streamId: 10, rateHz: 2, why: "EXTRA1: ATTITUDE (and EXTENDED_SYS_STATE on ArduPilot)" },
];

/** The ArduPilot parameter that says what the autopilot does when the ground station's heartbeat stops: 0 nothing. */
export const gcsFailsafeParameter = "FS_GCS_ENABLE";

/** GPS_FIX_TYPE (common.xml) by number, as the telemetry frame names it. */
export const gpsFixNames: Readonly<Record<number, "no_gps" | "no_fix" | "2d" | "3d" | "dgps" | "rtk_float" | "rtk_fixed" | "static" | "ppp">> = {
  0: "no_gps",
  1: "no_fix",
  2: "2d",
  3: "3d",
  4: "dgps",
  5: "rtk_float",
  6: "rtk_fixed",
  7: "static",
  8: "ppp",
};

/** MAV_SEVERITY (common.xml) by number, lowercased, as `autopilot` events name it. */
export const mavSeverityNames = ["emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"] as const;

/** MAV_SEVERITY_WARNING: this severity and the more severe ones (lower numbers) explain refusals. */
export const MavSeverityWarning = 4;

/** SYS_STATUS.voltage_battery when the autopilot does not know it, mV. */
export const unknownVoltage = 65535;

/** GPS_RAW_INT.satellites_visible when unknown. */
export const unknownSatellites = 255;

/** MAV_CMD numbers used (common.xml). */
export const MavCmd = {
  NAV_WAYPOINT: 16,
  NAV_RETURN_TO_LAUNCH: 20,
  NAV_LAND: 21,
  NAV_TAKEOFF: 22,
  MISSION_START: 300,
  CONDITION_YAW: 115,
  DO_SET_MODE: 176,
  DO_CHANGE_SPEED: 178,
  DO_REPOSITION: 192,
  COMPONENT_ARM_DISARM: 400,
  SET_MESSAGE_INTERVAL: 511,
} as const;

/** MAV_RESULT (common.xml). */
export const MavResult = {
  ACCEPTED: 0,
  TEMPORARILY_REJECTED: 1,
  DENIED: 2,
  UNSUPPORTED: 3,
  FAILED: 4,
  IN_PROGRESS: 5,
  CANCELLED: 6,
} as const;

/** MAV_RESULT names for refusals, by number. */
export const mavResultNames: Readonly<Record<number, string>> = {
  0: "ACCEPTED",
  1: "TEMPORARILY_REJECTED",
  2: "DENIED",
  3: "UNSUPPORTED",
  4: "FAILED",
  5: "IN_PROGRESS",
  6: "CANCELLED",
};

/** MAV_MISSION_RESULT (common.xml) names, by number, for refusals. */
export const mavMissionResultNames: Readonly<Record<number, string>> = {
  0: "MAV_MISSION_ACCEPTED",
  1: "MAV_MISSION_ERROR",
  2: "MAV_MISSION_UNSUPPORTED_FRAME",
  3: "MAV_MISSION_UNSUPPORTED",
  4: "MAV_MISSION_NO_SPACE",
  5: "MAV_MISSION_INVALID",
  6: "MAV_MISSION_INVALID_PARAM1",
  7: "MAV_MISSION_INVALID_PARAM2",
  8: "MAV_MISSION_INVALID_PARAM3",
  9: "MAV_MISSION_INVALID_PARAM4",
  10: "MAV_MISSION_INVALID_PARAM5_X",
  11: "MAV_MISSION_INVALID_PARAM6_Y",
  12: "MAV_MISSION_INVALID_PARAM7",
  13: "MAV_MISSION_INVALID_SEQUENCE",
  14: "MAV_MISSION_DENIED",
  15: "MAV_MISSION_OPERATION_CANCELLED",
};

/** MAV_MISSION_RESULT values skyport sends or reads. */
export const MavMissionResult = { ACCEPTED: 0, ERROR: 1, OPERATION_CANCELLED: 15 } as const;

/** MAV_FRAME values of mission items: positions above mean sea level, and above home. */
/** MAV_MISSION_TYPE (common.xml): which list a mission-protocol message is about. */
export const MavMissionType = { MISSION: 0, FENCE: 1 } as const;

export const MavFrame = { GLOBAL: 0, MISSION: 2, GLOBAL_RELATIVE_ALT: 3, GLOBAL_INT: 5, GLOBAL_RELATIVE_ALT_INT: 6 } as const;

/** MAV_LANDED_STATE (common.xml). */
export const MavLandedState = { UNDEFINED: 0, ON_GROUND: 1, IN_AIR: 2, TAKEOFF: 3, LANDING: 4 } as const;

/** MAV_MODE_FLAG bits of HEARTBEAT.base_mode. */
export const MavModeFlag = { CUSTOM_MODE_ENABLED: 1, SAFETY_ARMED: 128 } as const;

/** MAV_TYPE values that are not a vehicle (their heartbeats say nothing of the aircraft). */
export const MavTypeGcs = 6;
/** MAV_AUTOPILOT_INVALID: the sender is not a flight controller (a camera, a gimbal, a GCS). */
export const MavAutopilotInvalid = 8;

/** COMPONENT_ARM_DISARM param2 that disarms even in flight (ArduPilot and PX4): the motors stop. */
export const forceDisarmMagic = 21196;

/** ArduCopter flight modes (ardupilotmega.xml COPTER_MODE): every one, so `mode NAME` can reach each and telemetry names each. */
export const CopterMode = {
  STABILIZE: 0,
  ACRO: 1,
  ALT_HOLD: 2,
  AUTO: 3,
  GUIDED: 4,
  LOITER: 5,
  RTL: 6,
  CIRCLE: 7,
  LAND: 9,
  DRIFT: 11,
  SPORT: 13,
  FLIP: 14,
  AUTOTUNE: 15,
  POSHOLD: 16,
  BRAKE: 17,
  THROW: 18,
  AVOID_ADSB: 19,
  GUIDED_NOGPS: 20,
  SMART_RTL: 21,
  FLOWHOLD: 22,
  FOLLOW: 23,
  ZIGZAG: 24,
  SYSTEMID: 25,
  AUTOROTATE: 26,
  AUTO_RTL: 27,
  TURTLE: 28,
} as const;

/** PX4's main modes (px4_custom_mode.h), bits 16-23 of custom_mode. */
export const Px4MainMode = { MANUAL: 1, ALTCTL: 2, POSCTL: 3, AUTO: 4, ACRO: 5, OFFBOARD: 6, STABILIZED: 7 } as const;

/** PX4's sub modes of AUTO (px4_custom_mode.h), bits 24-31 of custom_mode. */
export const Px4AutoSubMode = { READY: 1, TAKEOFF: 2, LOITER: 3, MISSION: 4, RTL: 5, LAND: 6, FOLLOW_TARGET: 8, PRECLAND: 9 } as const;

/** MAVLink message ids whose streams the vehicle requests (common.xml). */
export const MavMessageId = {
  SYS_STATUS: 1,
  GPS_RAW_INT: 24,
  GLOBAL_POSITION_INT: 33,
  BATTERY_STATUS: 147,
  HOME_POSITION: 242,
  EXTENDED_SYS_STATE: 245,
} as const;
