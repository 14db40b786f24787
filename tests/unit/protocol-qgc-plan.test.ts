/** QGroundControl `.plan` files: skyport's missions round-trip through them; what skyport does not fly is refused naming the plan's item. */
import { describe, expect, test } from "bun:test";
import { common } from "node-mavlink";
import { missionToPlan, planCommands, planToMission, type MissionItem } from "../../protocol/index.ts";

const home = { lat: -35.363261, lon: 149.16523, altitudeMsl: 584 };
const route: MissionItem[] = [
  { type: "takeoff", altitude: 10 },
  { type: "waypoint", lat: -35.3631, lon: 149.1654, altitude: 15, speed: 4, holdSeconds: 2 },
  { type: "waypoint", lat: -35.363, lon: 149.165, altitude: 12, heading: 0 },
  { type: "waypoint", lat: -35.3629, lon: 149.1651, altitude: 12, heading: 270 },
  { type: "land" },
  { type: "rth" },
];

/** A plan as QGroundControl 4 writes one: a takeoff, a waypoint, a survey, a land. */
const qgcPlan = {
  fileType: "Plan",
  geoFence: { circles: [], polygons: [], version: 2 },
  groundStation: "QGroundControl",
  mission: {
    cruiseSpeed: 15,
    firmwareType: 3,
    globalPlanAltitudeMode: 1,
    hoverSpeed: 5,
    items: [
      { AMSLAltAboveTerrain: null, Altitude: 20, AltitudeMode: 1, autoContinue: true, command: 22, doJumpId: 1, frame: 3, params: [0, 0, 0, null, -35.3632, 149.1652, 20], type: "SimpleItem" },
      { AMSLAltAboveTerrain: null, Altitude: 20, AltitudeMode: 1, autoContinue: true, command: 16, doJumpId: 2, frame: 3, params: [0, 0, 0, null, -35.3628, 149.1655, 20], type: "SimpleItem" },
      { complexItemType: "survey", type: "ComplexItem", version: 5 },
      { AMSLAltAboveTerrain: null, Altitude: 0, AltitudeMode: 1, autoContinue: true, command: 21, doJumpId: 4, frame: 3, params: [0, 0, 0, null, 0, 0, 0], type: "SimpleItem" },
    ],
    plannedHomePosition: [-35.3632621, 149.1652374, 584.09],
    vehicleType: 2,
    version: 2,
  },
  rallyPoints: { points: [], version: 2 },
  version: 1,
};

describe(".plan files", () => {
  test("a mission exported and imported back is identical, and so is the file exported again", () => {
    const text = missionToPlan(route, home);
    const read = planToMission(text);
    expect(read).toEqual({ ok: true, items: route, home });
    if (!read.ok) return;
    expect(missionToPlan(read.items, read.home!)).toBe(text);
  });

  test("the export is a plan QGroundControl reads: simple items, relative altitudes, home, a speed change before its waypoint", () => {
    const plan = JSON.parse(missionToPlan(route, home));
    expect(plan).toMatchObject({ fileType: "Plan", version: 1, mission: { version: 2, plannedHomePosition: [home.lat, home.lon, home.altitudeMsl], globalPlanAltitudeMode: 1 } });
    expect(plan.mission.items.map((item: { command: number }) => item.command)).toEqual([22, 178, 16, 16, 16, 21, 20]);
    expect(plan.mission.items.map((item: { doJumpId: number }) => item.doJumpId)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(plan.mission.items[2]).toMatchObject({ type: "SimpleItem", frame: 3, params: [2, 0, 0, null, -35.3631, 149.1654, 15], Altitude: 15, AltitudeMode: 1 });
  });

  test("the simple items of a QGroundControl plan are read; its survey is refused, naming it", () => {
    const withoutSurvey = { ...qgcPlan, mission: { ...qgcPlan.mission, items: qgcPlan.mission.items.filter((item) => item.type === "SimpleItem") } };
    expect(planToMission(JSON.stringify(withoutSurvey))).toEqual({
      ok: true,
      items: [{ type: "takeoff", altitude: 20 }, { type: "waypoint", lat: -35.3628, lon: 149.1655, altitude: 20 }, { type: "land" }],
      home: { lat: -35.3632621, lon: 149.1652374, altitudeMsl: 584.09 },
    });
    expect(planToMission(JSON.stringify(qgcPlan))).toEqual({
      ok: false,
      error: { code: "invalid_args", message: 'mission.items[2] is a "ComplexItem" ("survey"): skyport reads simple items only, not surveys or scans', field: "mission.items[2].type" },
    });
  });

  test.each([
    ["not JSON", "{", undefined, "not a .plan file: it is not JSON"],
    ["another JSON file", JSON.stringify({ type: "FeatureCollection" }), "fileType", 'fileType must be "Plan": received undefined'],
    ["no items", JSON.stringify({ fileType: "Plan", mission: {} }), "mission.items", "no mission.items"],
    ["a loiter", JSON.stringify({ fileType: "Plan", mission: { items: [{ type: "SimpleItem", command: 17, frame: 3, params: [0, 0, 0, 0, 1, 2, 3] }] } }), "mission.items[0].command", "MAV_CMD 17"],
    ["an altitude above sea level", JSON.stringify({ fileType: "Plan", mission: { items: [{ type: "SimpleItem", command: 16, frame: 0, params: [0, 0, 0, 0, 1, 2, 3] }] } }), "mission.items[0].frame", "above home only"],
    ["six params", JSON.stringify({ fileType: "Plan", mission: { items: [{ type: "SimpleItem", command: 16, frame: 3, params: [0, 0, 0, 0, 1, 2] }] } }), "mission.items[0].params", "7 numbers or nulls"],
  ])("%s is refused saying why", (_what, text, field, words) => {
    const read = planToMission(text);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.error.field).toBe(field);
    expect(read.error.message).toContain(words);
  });

  test("a bad value is named as the plan's item, past the speed change before it", () => {
    const plan = JSON.parse(missionToPlan(route, home));
    plan.mission.items[2].params[4] = 95;
    const read = planToMission(JSON.stringify(plan));
    expect(read).toEqual({ ok: false, error: { code: "invalid_args", message: "mission.items[2].lat must be a number from -90 to 90 degrees: received 95", field: "mission.items[2].lat" } });
    const empty = planToMission(JSON.stringify({ fileType: "Plan", mission: { items: [] } }));
    expect(empty.ok ? null : empty.error.field).toBe("mission.items");
  });

  test("its MAV_CMD numbers are MAVLink's", () => {
    for (const [name, value] of Object.entries(planCommands)) expect(common.MavCmd[name as keyof typeof common.MavCmd]).toBe(value);
  });
});
