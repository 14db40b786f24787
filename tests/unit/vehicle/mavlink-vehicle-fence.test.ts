/**
 * The geofence polygon given to the autopilot (`fence=upload`), fed real
 * encoded packets from a fake ArduCopter with time as arguments: uploaded
 * through the fence list after the link-up's mission download, FENCE_ENABLE
 * and FENCE_TYPE read and a warning when the polygon is not enforced, a
 * refused upload warned about, and an upload cut by a lost link made again
 * on the next link-up. No socket, no SITL.
 */
import { describe, expect, test } from "bun:test";
import { common } from "node-mavlink";
import { pointFromHome } from "../../../src/core/vehicle/geodesy.ts";
import { CopterMode, MavLandedState, MavMissionResult, MavMissionType, type MavOutbound } from "../../../src/core/vehicle/mavlink/messages.ts";
import { defaultMavlinkVehicleOptions, MavlinkVehicle } from "../../../src/core/vehicle/mavlink/vehicle.ts";
import { fencePolygonVertexInclusion } from "../../../src/core/vehicle/mavlink/vehicle-fence.ts";
import { MavlinkDecoder } from "../../../src/runtime/mavlink/codec.ts";
import { copterHome, FakeAutopilot } from "../../support/mavlink-autopilot.ts";

const polygon = [[-50, -50], [50, -50], [50, 50], [-50, 50]].map(([x, y]) => pointFromHome(copterHome, x!, y!));
const fence = common.MavMissionType.FENCE;

/** A vehicle that uploads `polygon`, its link up and the link-up's mission download answered (it holds no mission). */
function linkedUp(uploadFence = true) {
  const vehicle = new MavlinkVehicle("copter", { geofence: { ...defaultMavlinkVehicleOptions.geofence, polygon }, uploadFence });
  const autopilot = new FakeAutopilot(1, 1);
  let now = 100;
  const decoder = new MavlinkDecoder((message) => vehicle.receive(message, now));
  const hear = (...packets: Buffer[]) => packets.forEach((packet) => decoder.feed(packet));
  const at = (seconds: number) => {
    now = seconds;
    vehicle.advance(0.1, now);
  };
  const sent = (): MavOutbound[] => vehicle.takeOutgoing();
  hear(autopilot.heartbeat({ customMode: CopterMode.STABILIZE }), autopilot.home(), autopilot.position(0, 0, 0), autopilot.landedState(MavLandedState.ON_GROUND));
  const beforeDownload = sent();
  hear(autopilot.missionCount(0));
  return { vehicle, autopilot, hear, at, sent, beforeDownload };
}

/** Plays the autopilot's side of the fence upload; returns the items it was sent. */
function acceptFence(r: ReturnType<typeof linkedUp>, result: number = MavMissionResult.ACCEPTED): MavOutbound[] {
  const count = r.sent().find((m) => m.type === "mission_count");
  if (count?.type !== "mission_count") throw new Error("no MISSION_COUNT sent");
  const items: MavOutbound[] = [];
  for (let seq = 0; seq < count.count; seq++) {
    r.hear(r.autopilot.missionRequest(seq, false, fence));
    items.push(...r.sent());
  }
  r.hear(r.autopilot.missionAck(result, fence));
  return items;
}

const warnings = (r: ReturnType<typeof linkedUp>) => r.vehicle.takeEvents().flatMap((event) => (event.type === "vehicle_warning" ? [event.text] : []));

describe("the geofence polygon on the autopilot", () => {
  test("after the mission download: MISSION_COUNT of the fence list, one inclusion vertex per corner, done on its MISSION_ACK", () => {
    const r = linkedUp();
    // Not while the mission's own download runs: one transfer at a time.
    expect(r.beforeDownload.some((m) => m.type === "mission_count")).toBe(false);
    expect(r.vehicle.fenceUpload).toBe("waiting");
    r.at(100.1);
    const count = r.sent().filter((m) => m.type === "mission_count");
    expect(count).toEqual([{ type: "mission_count", targetSystem: 1, targetComponent: 1, count: 4, missionType: MavMissionType.FENCE }]);
    r.hear(r.autopilot.missionRequest(0, false, fence));
    const first = r.sent();
    expect(first).toEqual([
      {
        type: "mission_item",
        targetSystem: 1,
        targetComponent: 1,
        missionType: MavMissionType.FENCE,
        seq: 0,
        frame: 0,
        command: fencePolygonVertexInclusion,
        current: 0,
        autocontinue: 0,
        params: [4, 0, 0, 0],
        x: Math.round(polygon[0]!.lat * 1e7),
        y: Math.round(polygon[0]!.lon * 1e7),
        z: 0,
      },
    ]);
    for (let seq = 1; seq < 4; seq++) r.hear(r.autopilot.missionRequest(seq, false, fence));
    expect(r.vehicle.fenceUpload).toBe("uploading");
    r.hear(r.autopilot.missionAck(MavMissionResult.ACCEPTED, fence));
    expect(r.vehicle.fenceUpload).toBe("uploaded");
    // The mission the vehicle holds is untouched by the fence list's messages.
    expect(r.vehicle.mission()).toBeNull();
  });

  test("FENCE_ENABLE and FENCE_TYPE are read once it is uploaded; viewers are warned when the polygon would not be enforced", () => {
    const r = linkedUp();
    r.at(100.1);
    acceptFence(r);
    r.at(100.2);
    const asked = r.sent().flatMap((m) => (m.type === "param_request_read" ? [m.paramId] : []));
    expect(asked).toEqual(["FENCE_ENABLE", "FENCE_TYPE"]);
    r.hear(r.autopilot.paramValue("FENCE_ENABLE", 0), r.autopilot.paramValue("FENCE_TYPE", 7));
    expect(warnings(r)).toEqual([
      "copter holds the geofence polygon but will not enforce it (FENCE_ENABLE=0): set FENCE_ENABLE to 1 and add 4 to FENCE_TYPE so the autopilot keeps it inside the polygon if skyport or its link dies",
    ]);
    // Asked no more once answered.
    r.at(105);
    expect(r.sent().filter((m) => m.type === "param_request_read" && m.paramId.startsWith("FENCE"))).toEqual([]);
  });

  test("enabled with the polygon bit: no warning", () => {
    const r = linkedUp();
    r.at(100.1);
    acceptFence(r);
    r.at(100.2);
    r.hear(r.autopilot.paramValue("FENCE_ENABLE", 1), r.autopilot.paramValue("FENCE_TYPE", 7));
    expect(warnings(r)).toEqual([]);
  });

  test("a refused upload is warned about; a link lost mid-upload cancels it, and the next link-up uploads again", () => {
    const refused = linkedUp();
    refused.at(100.1);
    acceptFence(refused, MavMissionResult.ERROR);
    expect(refused.vehicle.fenceUpload).toBe("failed");
    expect(warnings(refused)[0]).toStartWith("copter does not hold the geofence polygon: its upload failed (the autopilot refused the mission: MAV_MISSION_ERROR)");

    const cut = linkedUp();
    cut.at(100.1);
    cut.sent();
    cut.hear(cut.autopilot.missionRequest(0, false, fence));
    cut.at(104); // no HEARTBEAT for 3 s: the link is lost
    expect(cut.vehicle.linkUp).toBe(false);
    expect(cut.sent()).toContainEqual({ type: "mission_ack", targetSystem: 1, targetComponent: 1, result: MavMissionResult.OPERATION_CANCELLED, missionType: MavMissionType.FENCE });
    expect(cut.vehicle.fenceUpload).toBe("waiting");
    cut.hear(cut.autopilot.heartbeat({ customMode: CopterMode.STABILIZE }), cut.autopilot.missionCount(0));
    cut.at(104.1);
    expect(cut.sent().filter((m) => m.type === "mission_count")).toEqual([{ type: "mission_count", targetSystem: 1, targetComponent: 1, count: 4, missionType: MavMissionType.FENCE }]);
  });

  test("without fence=upload nothing of the fence list is sent", () => {
    const r = linkedUp(false);
    r.at(100.1);
    r.at(110);
    expect(r.sent().filter((m) => m.type === "mission_count" || (m.type === "param_request_read" && m.paramId.startsWith("FENCE")))).toEqual([]);
    expect(r.vehicle.fenceUpload).toBeNull();
  });
});
