/**
 * MAVLink bytes to the core's messages and back, with the `node-mavlink`
 * codec (its packet splitter, parser and the `mavlink-mappings` definitions).
 *
 * Owns framing, CRC checks, decoding the few messages the MAVLink vehicle
 * reads (`src/core/vehicle/mavlink/messages.ts`), encoding what it sends as
 * MAVLink v2 from skyport's ground-station ids, and counting what it cannot
 * use. Never throws on input: garbage, CRC-broken and unknown packets are
 * counted and skipped. Owns no socket and no timer.
 */
import { common, MavLinkPacketParser, MavLinkPacketSplitter, MavLinkProtocolV2, minimal, type MavLinkData, type MavLinkPacket } from "node-mavlink";
import type { MavInbound, MavOutbound } from "../../core/vehicle/mavlink/messages.ts";

/** MAV_COMP_ID_MISSIONPLANNER: the component id ground stations send from. */
export const gcsComponentId = 190;
/** MAV_FRAME_GLOBAL_RELATIVE_ALT_INT: lat/lon degE7, altitude above home. */
const frameGlobalRelativeAltInt = 6;
/** POSITION_TARGET_TYPEMASK: use x/y/z and yaw; ignore velocity, acceleration and yaw rate. */
const positionAndYawTypeMask = 0b1001_1111_1000;
/** HEARTBEAT.mavlink_version as the spec fixes it. */
const heartbeatMavlinkVersion = 3;

/** What the codec could not use, since it started. */
export interface CodecCounters {
  /** Packets with a valid CRC. */
  packets: number;
  /** Packets that failed their CRC (a broken packet or a false start in garbage). */
  crcErrors: number;
  /** Packets with a message id the definitions do not know. */
  unknownIds: number;
  /** MAVLink v1 frames (read all the same: a v1 autopilot still flies). */
  v1Frames: number;
  /** Known packets the vehicle does not read (ATTITUDE, VFR_HUD, ...). */
  ignored: number;
  /** Packets whose payload could not be decoded. */
  decodeErrors: number;
}

type Decoder = (packet: MavLinkPacket) => MavInbound;

/** The messages the vehicle reads, by MAVLink message id. */
const decoders = new Map<number, Decoder>([
  [
    minimal.Heartbeat.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, minimal.Heartbeat);
      const { sysid, compid } = packet.header;
      return { type: "heartbeat", sysid, compid, mavType: m.type, autopilot: m.autopilot, baseMode: m.baseMode, customMode: m.customMode, systemStatus: m.systemStatus };
    },
  ],
  [
    common.GlobalPositionInt.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.GlobalPositionInt);
      const { sysid, compid } = packet.header;
      return { type: "global_position_int", sysid, compid, lat: m.lat, lon: m.lon, alt: m.alt, relativeAlt: m.relativeAlt, vx: m.vx, vy: m.vy, vz: m.vz, hdg: m.hdg };
    },
  ],
  [
    common.HomePosition.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.HomePosition);
      const { sysid, compid } = packet.header;
      return { type: "home_position", sysid, compid, latitude: m.latitude, longitude: m.longitude, altitude: m.altitude };
    },
  ],
  [
    common.SysStatus.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.SysStatus);
      const { sysid, compid } = packet.header;
      return { type: "sys_status", sysid, compid, batteryRemaining: m.batteryRemaining, voltageBattery: m.voltageBattery };
    },
  ],
  [
    common.BatteryStatus.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.BatteryStatus);
      const { sysid, compid } = packet.header;
      return { type: "battery_status", sysid, compid, batteryRemaining: m.batteryRemaining };
    },
  ],
  [
    common.GpsRawInt.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.GpsRawInt);
      const { sysid, compid } = packet.header;
      return { type: "gps_raw_int", sysid, compid, fixType: m.fixType, satellitesVisible: m.satellitesVisible };
    },
  ],
  [
    common.StatusText.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.StatusText);
      const { sysid, compid } = packet.header;
      return { type: "statustext", sysid, compid, severity: m.severity, text: m.text ?? "", id: m.id ?? 0, chunkSeq: m.chunkSeq ?? 0 };
    },
  ],
  [
    common.ParamValue.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.ParamValue);
      const { sysid, compid } = packet.header;
      return { type: "param_value", sysid, compid, paramId: m.paramId.replace(/\0.*$/s, ""), paramValue: m.paramValue };
    },
  ],
  [
    common.ExtendedSysState.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.ExtendedSysState);
      const { sysid, compid } = packet.header;
      return { type: "extended_sys_state", sysid, compid, landedState: m.landedState };
    },
  ],
  [
    common.CommandAck.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.CommandAck);
      const { sysid, compid } = packet.header;
      return { type: "command_ack", sysid, compid, command: m.command, result: m.result, targetSystem: m.targetSystem ?? 0 };
    },
  ],
  [
    common.MissionRequestInt.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.MissionRequestInt);
      return { type: "mission_request", ...ids(packet), seq: m.seq, missionType: m.missionType ?? 0 };
    },
  ],
  [
    common.MissionRequest.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.MissionRequest);
      return { type: "mission_request", ...ids(packet), seq: m.seq, missionType: m.missionType ?? 0 };
    },
  ],
  [
    common.MissionAck.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.MissionAck);
      return { type: "mission_ack", ...ids(packet), result: m.type, missionType: m.missionType ?? 0 };
    },
  ],
  [
    common.MissionCount.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.MissionCount);
      return { type: "mission_count", ...ids(packet), count: m.count, missionType: m.missionType ?? 0 };
    },
  ],
  [
    common.MissionItemInt.MSG_ID,
    (packet) => {
      const m = packet.protocol.data(packet.payload, common.MissionItemInt);
      const params: [number, number, number, number] = [m.param1, m.param2, m.param3, m.param4];
      return { type: "mission_item", ...ids(packet), missionType: m.missionType ?? 0, seq: m.seq, frame: m.frame, command: m.command, current: m.current, autocontinue: m.autocontinue, params, x: m.x, y: m.y, z: m.z };
    },
  ],
  [
    common.MissionCurrent.MSG_ID,
    (packet) => ({ type: "mission_current", ...ids(packet), seq: packet.protocol.data(packet.payload, common.MissionCurrent).seq }),
  ],
  [
    common.MissionItemReached.MSG_ID,
    (packet) => ({ type: "mission_item_reached", ...ids(packet), seq: packet.protocol.data(packet.payload, common.MissionItemReached).seq }),
  ],
]);

/** The sender's system and component ids. */
function ids(packet: MavLinkPacket): { sysid: number; compid: number } {
  return { sysid: packet.header.sysid, compid: packet.header.compid };
}

/** Splits a byte stream into packets and decodes the ones the vehicle reads, synchronously on `feed`. */
export class MavlinkDecoder {
  private readonly splitter: MavLinkPacketSplitter;
  private readonly parser = new MavLinkPacketParser();
  private readonly own = { packets: 0, v1Frames: 0, ignored: 0, decodeErrors: 0 };

  /** @param onPacket every packet with a valid CRC, as its raw bytes (the flight recorder's `.tlog`). */
  constructor(onMessage: (message: MavInbound) => void, onPacket?: (bytes: Uint8Array) => void) {
    this.splitter = new MavLinkPacketSplitter();
    this.splitter.pipe(this.parser);
    this.parser.on("data", (packet: MavLinkPacket) => {
      this.own.packets += 1;
      onPacket?.(packet.buffer);
      if (packet.header.magic !== MavLinkProtocolV2.START_BYTE) this.own.v1Frames += 1;
      const decode = decoders.get(packet.header.msgid);
      if (decode === undefined) {
        this.own.ignored += 1;
        return;
      }
      let message: MavInbound;
      try {
        message = decode(packet);
      } catch {
        this.own.decodeErrors += 1;
        return;
      }
      onMessage(message);
    });
  }

  /** Bytes from the link, in any chunking. */
  feed(chunk: Uint8Array): void {
    this.splitter.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  counters(): CodecCounters {
    return {
      packets: this.own.packets,
      crcErrors: this.splitter.invalidPackages,
      unknownIds: this.splitter.unknownPackagesCount,
      v1Frames: this.own.v1Frames,
      ignored: this.own.ignored,
      decodeErrors: this.own.decodeErrors,
    };
  }

  /** Releases the stream pair. */
  close(): void {
    this.splitter.unpipe(this.parser);
    this.splitter.destroy();
    this.parser.destroy();
  }
}

/** Encodes MAVLink v2 packets from one ground station's system id, numbering them. */
export class MavlinkEncoder {
  private readonly protocol: MavLinkProtocolV2;
  private seq = 0;

  constructor(readonly systemId: number) {
    this.protocol = new MavLinkProtocolV2(systemId, gcsComponentId);
  }

  /** skyport's own HEARTBEAT as a ground station. */
  heartbeat(): Buffer {
    const m = new minimal.Heartbeat();
    m.type = minimal.MavType.GCS;
    m.autopilot = minimal.MavAutopilot.INVALID;
    m.baseMode = 0 as minimal.MavModeFlag;
    m.customMode = 0;
    m.systemStatus = minimal.MavState.ACTIVE;
    m.mavlinkVersion = heartbeatMavlinkVersion;
    return this.serialize(m);
  }

  encode(message: MavOutbound): Buffer {
    switch (message.type) {
      case "command_long": {
        const m = new common.CommandLong();
        m.targetSystem = message.targetSystem;
        m.targetComponent = message.targetComponent;
        m.command = message.command;
        m.confirmation = message.confirmation;
        [m._param1, m._param2, m._param3, m._param4, m._param5, m._param6, m._param7] = message.params;
        return this.serialize(m);
      }
      case "position_target_global": {
        const m = new common.SetPositionTargetGlobalInt();
        m.timeBootMs = 0;
        m.targetSystem = message.targetSystem;
        m.targetComponent = message.targetComponent;
        m.coordinateFrame = frameGlobalRelativeAltInt;
        m.typeMask = positionAndYawTypeMask as common.PositionTargetTypemask;
        m.latInt = message.latInt;
        m.lonInt = message.lonInt;
        m.alt = message.relativeAltMetres;
        m.vx = m.vy = m.vz = m.afx = m.afy = m.afz = 0;
        m.yaw = message.yawRadians;
        m.yawRate = 0;
        return this.serialize(m);
      }
      case "command_int": {
        const m = new common.CommandInt();
        m.targetSystem = message.targetSystem;
        m.targetComponent = message.targetComponent;
        m.frame = message.frame;
        m.command = message.command;
        m.current = 0;
        m.autocontinue = 0;
        [m._param1, m._param2, m._param3, m._param4] = message.params;
        m._param5 = message.latInt;
        m._param6 = message.lonInt;
        m._param7 = message.z;
        return this.serialize(m);
      }
      case "param_request_read": {
        const m = new common.ParamRequestRead();
        m.targetSystem = message.targetSystem;
        m.targetComponent = message.targetComponent;
        m.paramId = message.paramId;
        m.paramIndex = -1;
        return this.serialize(m);
      }
      case "request_data_stream": {
        const m = new common.RequestDataStream();
        m.targetSystem = message.targetSystem;
        m.targetComponent = message.targetComponent;
        m.reqStreamId = message.streamId;
        m.reqMessageRate = message.rateHz;
        m.startStop = 1;
        return this.serialize(m);
      }
      case "mission_count": {
        const m = new common.MissionCount();
        m.targetSystem = message.targetSystem;
        m.targetComponent = message.targetComponent;
        m.count = message.count;
        m.missionType = message.missionType ?? common.MavMissionType.MISSION;
        m.opaqueId = 0;
        return this.serialize(m);
      }
      case "mission_item": {
        const m = new common.MissionItemInt();
        m.targetSystem = message.targetSystem;
        m.targetComponent = message.targetComponent;
        m.seq = message.seq;
        m.frame = message.frame;
        m.command = message.command;
        m.current = message.current;
        m.autocontinue = message.autocontinue;
        [m.param1, m.param2, m.param3, m.param4] = message.params;
        m.x = message.x;
        m.y = message.y;
        m.z = message.z;
        m.missionType = message.missionType ?? common.MavMissionType.MISSION;
        return this.serialize(m);
      }
      case "mission_request_list": {
        const m = new common.MissionRequestList();
        m.targetSystem = message.targetSystem;
        m.targetComponent = message.targetComponent;
        m.missionType = message.missionType ?? common.MavMissionType.MISSION;
        return this.serialize(m);
      }
      case "mission_clear_all": {
        const m = new common.MissionClearAll();
        m.targetSystem = message.targetSystem;
        m.targetComponent = message.targetComponent;
        m.missionType = message.missionType ?? common.MavMissionType.MISSION;
        return this.serialize(m);
      }
      case "mission_request": {
        const m = new common.MissionRequestInt();
        m.targetSystem = message.targetSystem;
        m.targetComponent = message.targetComponent;
        m.seq = message.seq;
        m.missionType = message.missionType ?? common.MavMissionType.MISSION;
        return this.serialize(m);
      }
      case "mission_ack": {
        const m = new common.MissionAck();
        m.targetSystem = message.targetSystem;
        m.targetComponent = message.targetComponent;
        m.type = message.result;
        m.missionType = message.missionType ?? common.MavMissionType.MISSION;
        m.opaqueId = 0;
        return this.serialize(m);
      }
    }
  }

  private serialize(message: MavLinkData): Buffer {
    const buffer = this.protocol.serialize(message, this.seq);
    this.seq = (this.seq + 1) % 256;
    return buffer;
  }
}
