/**
 * The MAVLink mission protocol, ground-station side: uploads and downloads
 * against the fake autopilot's encoded packets (decoded by skyport's own
 * codec), with what skyport sends encoded and decoded back; timeouts,
 * resends, cancelling, a busy refusal; and skyport's items as MAVLink items
 * and back.
 */
import { describe, expect, test } from "bun:test";
import { common } from "node-mavlink";
import { fromMavMission, toMavMission } from "../../../src/core/vehicle/mavlink/mission-items.ts";
import { MissionTransfer, transferMaxRetries, transferRetrySeconds, type TransferOutcome } from "../../../src/core/vehicle/mavlink/mission-transfer.ts";
import { MavCmd, MavFrame, MavMissionResult, type MavInbound, type MavOutbound } from "../../../src/core/vehicle/mavlink/messages.ts";
import { MavlinkDecoder, MavlinkEncoder } from "../../../src/runtime/mavlink/codec.ts";
import type { MissionItem } from "../../../src/core/mission/mission.ts";
import { copterHome, decodePackets, FakeAutopilot } from "../../support/mavlink-autopilot.ts";

const route: MissionItem[] = [
  { type: "takeoff", altitude: 10 },
  { type: "waypoint", lat: -35.3631, lon: 149.1654, altitude: 15, speed: 4, holdSeconds: 2 },
  { type: "waypoint", lat: -35.363, lon: 149.165, altitude: 12, heading: 90 },
  { type: "land" },
  { type: "rth" },
];

/** The autopilot's packets as skyport's codec decodes them. */
function heard(bytes: Buffer): MavInbound[] {
  const messages: MavInbound[] = [];
  const decoder = new MavlinkDecoder((message) => messages.push(message));
  decoder.feed(bytes);
  decoder.close();
  return messages;
}

/** What the transfer sends, through skyport's encoder and back from the wire as node-mavlink packets. */
function onTheWire(outgoing: MavOutbound[]) {
  const encoder = new MavlinkEncoder(255);
  return outgoing.flatMap((message) => decodePackets(encoder.encode(message)));
}

function newTransfer() {
  return new MissionTransfer(() => ({ targetSystem: 1, targetComponent: 1 }));
}

/** Feeds one autopilot packet to the transfer. */
function deliver(transfer: MissionTransfer, bytes: Buffer, now: number): TransferOutcome | null {
  let outcome: TransferOutcome | null = null;
  for (const message of heard(bytes)) outcome = transfer.receive(message, now) ?? outcome;
  return outcome;
}

describe("items as MAVLink items", () => {
  test("ArduPilot: home at seq 0, a speed before its waypoint, and the index map", () => {
    const mission = toMavMission(route, true, { lat: copterHome.lat, lon: copterHome.lon });
    expect(mission.items.map((item) => item.command)).toEqual([MavCmd.NAV_WAYPOINT, MavCmd.NAV_TAKEOFF, MavCmd.DO_CHANGE_SPEED, MavCmd.NAV_WAYPOINT, MavCmd.NAV_WAYPOINT, MavCmd.NAV_LAND, MavCmd.NAV_RETURN_TO_LAUNCH]);
    expect(mission.itemOf).toEqual([-1, 0, 1, 1, 2, 3, 4]);
    expect(mission.items.map((item) => item.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(mission.items[3]).toMatchObject({ frame: MavFrame.GLOBAL_RELATIVE_ALT_INT, x: -353631000, y: 1491654000, z: 15, params: [2, 0, 0, Number.NaN] });
    expect(mission.items[2]!.params).toEqual([1, 4, -1, 0]);
  });

  test("round trip: what skyport uploads reads back identically, for ArduPilot and PX4", () => {
    for (const homeItem of [true, false]) {
      const mission = toMavMission(route, homeItem, copterHome);
      const back = fromMavMission(mission.items, homeItem);
      expect(back).toEqual({ ok: true, items: route, itemOf: mission.itemOf });
    }
  });

  test("a mission skyport cannot show says which item and why", () => {
    const mission = toMavMission(route, false, copterHome);
    const loiter = { ...mission.items[1]!, command: 17 };
    expect(fromMavMission([mission.items[0]!, loiter], false)).toEqual({ ok: false, problem: "item 1 is MAV_CMD 17: skyport shows takeoff, waypoint, speed, land and return-to-launch items only" });
    const amsl = { ...mission.items[0]!, frame: MavFrame.GLOBAL_INT };
    expect(fromMavMission([amsl], false)).toMatchObject({ ok: false, problem: expect.stringContaining("MAV_FRAME 5") });
  });
});

describe("upload", () => {
  const mission = toMavMission(route, true, copterHome);
  const autopilot = new FakeAutopilot();

  test("MISSION_COUNT, then each MISSION_ITEM_INT the autopilot asks for, until its MISSION_ACK", () => {
    const transfer = newTransfer();
    expect(transfer.upload(mission.items, 0)).toBe(true);
    const count = onTheWire(transfer.takeOutgoing());
    expect(count).toHaveLength(1);
    expect(count[0]!.header.msgid).toBe(common.MissionCount.MSG_ID);
    expect(count[0]!.protocol.data(count[0]!.payload, common.MissionCount)).toMatchObject({ count: 7, targetSystem: 1, targetComponent: 1 });

    for (let seq = 0; seq < mission.items.length; seq++) {
      expect(deliver(transfer, autopilot.missionRequest(seq, seq === 3), seq * 0.1)).toBeNull();
      const [packet] = onTheWire(transfer.takeOutgoing());
      expect(packet!.header.msgid).toBe(common.MissionItemInt.MSG_ID);
      const item = packet!.protocol.data(packet!.payload, common.MissionItemInt);
      expect(item).toMatchObject({ seq, command: mission.items[seq]!.command, x: mission.items[seq]!.x, y: mission.items[seq]!.y, z: mission.items[seq]!.z });
    }
    expect(deliver(transfer, autopilot.missionAck(MavMissionResult.ACCEPTED), 1)).toEqual({ kind: "uploaded", count: 7 });
    expect(transfer.busy).toBe(false);
  });

  test("a second transfer while one is in progress is refused", () => {
    const transfer = newTransfer();
    transfer.upload(mission.items, 0);
    expect(transfer.upload(mission.items, 0.1)).toBe(false);
    expect(transfer.download(0.1)).toBe(false);
    expect(transfer.inProgress).toBe("upload");
  });

  test("silence: the last message is sent again every 1.5 s, then the upload is cancelled", () => {
    const transfer = newTransfer();
    transfer.upload(mission.items, 0);
    deliver(transfer, autopilot.missionRequest(0), 0.5);
    transfer.takeOutgoing();
    expect(transfer.advance(0.5 + transferRetrySeconds - 0.01)).toBeNull();
    expect(transfer.takeOutgoing()).toEqual([]);
    let outcome: TransferOutcome | null = null;
    let now = 0.5;
    for (let retry = 1; retry <= transferMaxRetries; retry++) {
      now += transferRetrySeconds;
      expect(transfer.advance(now)).toBeNull();
      const resent = transfer.takeOutgoing();
      expect(resent).toMatchObject([{ type: "mission_item", seq: 0 }]);
    }
    now += transferRetrySeconds;
    outcome = transfer.advance(now);
    expect(outcome).toEqual({ kind: "upload_failed", reason: `upload cancelled: the autopilot did not answer with a request after item 0 after ${transferMaxRetries + 1} tries ${transferRetrySeconds} s apart` });
    // The autopilot is told, so it stops waiting for items.
    const [cancel] = onTheWire(transfer.takeOutgoing());
    expect(cancel!.protocol.data(cancel!.payload, common.MissionAck)).toMatchObject({ type: common.MavMissionResult.OPERATION_CANCELLED });
    expect(transfer.busy).toBe(false);
  });

  test("an item request the mission does not have cancels; a refusing MISSION_ACK fails with its name", () => {
    const transfer = newTransfer();
    transfer.upload(mission.items, 0);
    expect(deliver(transfer, autopilot.missionRequest(9), 0.1)).toEqual({ kind: "upload_failed", reason: "upload cancelled: the autopilot asked for item 9 of 7" });
    transfer.takeOutgoing();
    transfer.upload(mission.items, 1);
    deliver(transfer, autopilot.missionRequest(0), 1.1);
    expect(deliver(transfer, autopilot.missionAck(common.MavMissionResult.NO_SPACE), 1.2)).toEqual({ kind: "upload_failed", reason: "the autopilot refused the mission: MAV_MISSION_NO_SPACE" });
  });

  test("a request repeated (our item was lost) is answered again", () => {
    const transfer = newTransfer();
    transfer.upload(mission.items, 0);
    deliver(transfer, autopilot.missionRequest(0), 0.1);
    deliver(transfer, autopilot.missionRequest(1), 0.2);
    transfer.takeOutgoing();
    deliver(transfer, autopilot.missionRequest(1), 0.3);
    expect(transfer.takeOutgoing()).toMatchObject([{ type: "mission_item", seq: 1 }]);
    deliver(transfer, autopilot.missionRequest(0), 0.4);
    expect(transfer.takeOutgoing()).toEqual([]);
  });
});

describe("clear", () => {
  const autopilot = new FakeAutopilot();

  test("MISSION_CLEAR_ALL on the wire, cleared on the autopilot's MISSION_ACK; one transfer at a time", () => {
    const transfer = newTransfer();
    expect(transfer.clear(0)).toBe(true);
    expect(transfer.inProgress).toBe("clear");
    expect(transfer.upload(toMavMission(route, true, copterHome).items, 0)).toBe(false);
    const [clear] = onTheWire(transfer.takeOutgoing());
    expect(clear!.header.msgid).toBe(common.MissionClearAll.MSG_ID);
    expect(clear!.protocol.data(clear!.payload, common.MissionClearAll)).toMatchObject({ targetSystem: 1, targetComponent: 1, missionType: common.MavMissionType.MISSION });
    expect(deliver(transfer, autopilot.missionAck(MavMissionResult.ACCEPTED), 0.1)).toEqual({ kind: "cleared" });
    expect(transfer.busy).toBe(false);
  });

  test("a clear the autopilot refuses or never answers fails saying so, and cancels nothing on the autopilot", () => {
    const transfer = newTransfer();
    transfer.clear(0);
    transfer.takeOutgoing();
    expect(deliver(transfer, autopilot.missionAck(common.MavMissionResult.DENIED), 0.1)).toEqual({ kind: "clear_failed", reason: "the autopilot refused to clear its mission: MAV_MISSION_DENIED" });
    transfer.clear(1);
    expect(transfer.cancel("the link was lost")).toEqual({ kind: "clear_failed", reason: "clear given up: the link was lost" });
    expect(transfer.takeOutgoing()).toEqual([{ type: "mission_clear_all", targetSystem: 1, targetComponent: 1 }]);
  });
});

describe("download", () => {
  const autopilot = new FakeAutopilot();

  test("MISSION_REQUEST_LIST, the count, each item by MISSION_REQUEST_INT, then our MISSION_ACK", () => {
    const onVehicle = toMavMission(route, true, copterHome).items;
    const transfer = newTransfer();
    expect(transfer.download(0)).toBe(true);
    expect(onTheWire(transfer.takeOutgoing())[0]!.header.msgid).toBe(common.MissionRequestList.MSG_ID);
    expect(deliver(transfer, autopilot.missionCount(onVehicle.length), 0.1)).toBeNull();
    let outcome: TransferOutcome | null = null;
    for (const item of onVehicle) {
      const [request] = onTheWire(transfer.takeOutgoing());
      expect(request!.protocol.data(request!.payload, common.MissionRequestInt)).toMatchObject({ seq: item.seq });
      outcome = deliver(transfer, autopilot.missionItem(item), 0.2);
    }
    expect(outcome?.kind).toBe("downloaded");
    const [ack] = onTheWire(transfer.takeOutgoing());
    expect(ack!.protocol.data(ack!.payload, common.MissionAck)).toMatchObject({ type: common.MavMissionResult.ACCEPTED });
    const items = (outcome as Extract<TransferOutcome, { kind: "downloaded" }>).items;
    expect(fromMavMission(items, true)).toMatchObject({ ok: true, items: route });
  });

  test("an empty mission downloads as no items", () => {
    const transfer = newTransfer();
    transfer.download(0);
    expect(deliver(transfer, autopilot.missionCount(0), 0.1)).toEqual({ kind: "downloaded", items: [] });
  });

  test("a lost item is asked for again, and silence cancels the download", () => {
    const transfer = newTransfer();
    transfer.download(0);
    deliver(transfer, autopilot.missionCount(3), 0.1);
    transfer.takeOutgoing();
    transfer.advance(0.1 + transferRetrySeconds);
    expect(transfer.takeOutgoing()).toMatchObject([{ type: "mission_request", seq: 0 }]);
    let outcome: TransferOutcome | null = null;
    for (let t = 0.1 + transferRetrySeconds; outcome === null && t < 60; t += transferRetrySeconds) outcome = transfer.advance(t + transferRetrySeconds);
    expect(outcome).toEqual({ kind: "download_failed", reason: `download cancelled: the autopilot did not answer with item 0 after ${transferMaxRetries + 1} tries ${transferRetrySeconds} s apart` });
  });
});
