/**
 * The autopilot's side of a MAVLink link, for unit tests without SITL:
 * encodes the packets an ArduCopter sends (HEARTBEAT, GLOBAL_POSITION_INT,
 * HOME_POSITION, SYS_STATUS, GPS_RAW_INT, STATUSTEXT, EXTENDED_SYS_STATE,
 * COMMAND_ACK, and the mission protocol's MISSION_REQUEST_INT, MISSION_ACK,
 * MISSION_COUNT, MISSION_ITEM_INT, MISSION_CURRENT, MISSION_ITEM_REACHED) with the same
 * `node-mavlink` codec, from a chosen system id, and decodes what skyport sends.
 */
import { common, MavLinkPacketParser, MavLinkPacketSplitter, MavLinkProtocolV1, MavLinkProtocolV2, minimal, type MavLinkData, type MavLinkPacket } from "node-mavlink";

export const copterHome = { lat: -35.363261, lon: 149.16523, altitudeMetres: 584 };

export class FakeAutopilot {
  private seq = 0;
  /** `flavour` says which autopilot its HEARTBEAT names: ArduPilot (ArduCopter) or PX4. */
  constructor(
    readonly systemId = 1,
    readonly componentId = 1,
    readonly flavour: "ardupilot" | "px4" = "ardupilot",
  ) {}

  private frame(message: MavLinkData, v1 = false): Buffer {
    const protocol = v1 ? new MavLinkProtocolV1(this.systemId, this.componentId) : new MavLinkProtocolV2(this.systemId, this.componentId);
    const buffer = protocol.serialize(message, this.seq);
    this.seq = (this.seq + 1) % 256;
    return buffer;
  }

  heartbeat(options: { armed?: boolean; customMode?: number; v1?: boolean } = {}): Buffer {
    const m = new minimal.Heartbeat();
    m.type = minimal.MavType.QUADROTOR;
    m.autopilot = this.flavour === "px4" ? minimal.MavAutopilot.PX4 : minimal.MavAutopilot.ARDUPILOTMEGA;
    m.baseMode = ((options.armed ? 128 : 0) | 1) as minimal.MavModeFlag;
    m.customMode = options.customMode ?? 0;
    m.systemStatus = minimal.MavState.STANDBY;
    m.mavlinkVersion = 3;
    return this.frame(m, options.v1);
  }

  /** A position `x` m east, `y` m north and `z` m above home, with velocities in m/s (x east, y north, z up) and a heading. */
  position(x: number, y: number, z: number, options: { heading?: number; velocity?: { x: number; y: number; z: number } } = {}): Buffer {
    const m = new common.GlobalPositionInt();
    const metresPerDegree = (6_378_137 * Math.PI) / 180;
    m.timeBootMs = 0;
    m.lat = Math.round((copterHome.lat + y / metresPerDegree) * 1e7);
    m.lon = Math.round((copterHome.lon + x / (metresPerDegree * Math.cos((copterHome.lat * Math.PI) / 180))) * 1e7);
    m.alt = Math.round((copterHome.altitudeMetres + z) * 1000);
    m.relativeAlt = Math.round(z * 1000);
    const v = options.velocity ?? { x: 0, y: 0, z: 0 };
    m.vx = Math.round(v.y * 100);
    m.vy = Math.round(v.x * 100);
    m.vz = Math.round(-v.z * 100);
    m.hdg = Math.round((options.heading ?? 0) * 100);
    return this.frame(m);
  }

  /**
   * GLOBAL_POSITION_INT as ArduPilot sends it before its first position
   * estimate: latitude and longitude exactly 0, the altitudes and heading
   * still meaningful (`z` m above where it booted).
   */
  positionWithoutFix(z = 0): Buffer {
    const m = new common.GlobalPositionInt();
    m.timeBootMs = 0;
    m.lat = 0;
    m.lon = 0;
    m.alt = Math.round(z * 1000);
    m.relativeAlt = Math.round(z * 1000);
    m.vx = m.vy = m.vz = 0;
    m.hdg = 9000;
    return this.frame(m);
  }

  home(): Buffer {
    const m = new common.HomePosition();
    m.latitude = Math.round(copterHome.lat * 1e7);
    m.longitude = Math.round(copterHome.lon * 1e7);
    m.altitude = Math.round(copterHome.altitudeMetres * 1000);
    m.x = m.y = m.z = 0;
    m.q = [1, 0, 0, 0];
    m.approachX = m.approachY = m.approachZ = 0;
    return this.frame(m);
  }

  battery(percent: number): Buffer {
    const m = new common.SysStatus();
    m.batteryRemaining = percent;
    m.voltageBattery = 12600;
    m.currentBattery = -1;
    return this.frame(m);
  }

  /** GPS_RAW_INT with a fix type (GPS_FIX_TYPE) and satellites visible (255 unknown). */
  gps(fixType: number, satellites: number): Buffer {
    const m = new common.GpsRawInt();
    m.timeUsec = 0n;
    m.fixType = fixType;
    m.lat = Math.round(copterHome.lat * 1e7);
    m.lon = Math.round(copterHome.lon * 1e7);
    m.alt = Math.round(copterHome.altitudeMetres * 1000);
    m.eph = m.epv = m.vel = m.cog = 65535;
    m.satellitesVisible = satellites;
    return this.frame(m);
  }

  /** A STATUSTEXT (severity a MAV_SEVERITY); `id` and `chunkSeq` for a text sent in chunks. */
  statusText(severity: number, text: string, chunk: { id: number; chunkSeq: number } = { id: 0, chunkSeq: 0 }): Buffer {
    const m = new common.StatusText();
    m.severity = severity;
    m.text = text;
    m.id = chunk.id;
    m.chunkSeq = chunk.chunkSeq;
    return this.frame(m);
  }

  /** PARAM_VALUE, as the answer to PARAM_REQUEST_READ. */
  paramValue(name: string, value: number): Buffer {
    const m = new common.ParamValue();
    m.paramId = name;
    m.paramValue = value;
    m.paramType = common.MavParamType.INT8;
    m.paramCount = 1;
    m.paramIndex = 0;
    return this.frame(m);
  }

  landedState(state: number): Buffer {
    const m = new common.ExtendedSysState();
    m.vtolState = 0;
    m.landedState = state;
    return this.frame(m);
  }

  ack(command: number, result: number, targetSystem = 255): Buffer {
    const m = new common.CommandAck();
    m.command = command;
    m.result = result;
    m.progress = 0;
    m.resultParam2 = 0;
    m.targetSystem = targetSystem;
    m.targetComponent = 190;
    return this.frame(m);
  }

  // ------------------------------------------------------------ the mission protocol

  /** MISSION_REQUEST_INT for item `seq` (or the older MISSION_REQUEST with `legacy`); of the fence list with `list` FENCE. */
  missionRequest(seq: number, legacy = false, list: common.MavMissionType = common.MavMissionType.MISSION): Buffer {
    return this.missionFrame(legacy ? new common.MissionRequest() : new common.MissionRequestInt(), (m) => (m.seq = seq), list);
  }

  missionAck(result: number, list: common.MavMissionType = common.MavMissionType.MISSION): Buffer {
    return this.missionFrame(new common.MissionAck(), (m) => {
      m.type = result;
      m.opaqueId = 0;
    }, list);
  }

  missionCount(count: number): Buffer {
    return this.missionFrame(new common.MissionCount(), (m) => {
      m.count = count;
      m.opaqueId = 0;
    });
  }

  /** MISSION_ITEM_INT as the autopilot sends it in a download. */
  missionItem(item: { seq: number; frame: number; command: number; params: readonly [number, number, number, number]; x: number; y: number; z: number }): Buffer {
    return this.missionFrame(new common.MissionItemInt(), (m) => {
      m.seq = item.seq;
      m.frame = item.frame;
      m.command = item.command;
      m.current = item.seq === 0 ? 1 : 0;
      m.autocontinue = 1;
      [m.param1, m.param2, m.param3, m.param4] = item.params;
      m.x = item.x;
      m.y = item.y;
      m.z = item.z;
    });
  }

  /** A mission-protocol message about `list` (the mission unless said otherwise), addressed to skyport (system 255, component 190). */
  private missionFrame<M extends MavLinkData & { targetSystem: number; targetComponent: number; missionType: common.MavMissionType }>(m: M, fill: (m: M) => void, list = common.MavMissionType.MISSION): Buffer {
    m.targetSystem = 255;
    m.targetComponent = 190;
    m.missionType = list;
    fill(m);
    return this.frame(m);
  }

  missionCurrent(seq: number): Buffer {
    const m = new common.MissionCurrent();
    m.seq = seq;
    return this.frame(m);
  }

  missionItemReached(seq: number): Buffer {
    const m = new common.MissionItemReached();
    m.seq = seq;
    return this.frame(m);
  }
}

/** Decodes whole buffers of packets synchronously (the splitter emits on write). */
export function decodePackets(bytes: Buffer): MavLinkPacket[] {
  const splitter = new MavLinkPacketSplitter();
  const parser = new MavLinkPacketParser();
  splitter.pipe(parser);
  const packets: MavLinkPacket[] = [];
  parser.on("data", (packet: MavLinkPacket) => packets.push(packet));
  splitter.write(bytes);
  return packets;
}
