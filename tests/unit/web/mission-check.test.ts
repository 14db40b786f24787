/**
 * The page's check of a plan (client/web/ui/mission-check.ts): every item's
 * problem named as the server names it, the geofence around home, and the
 * server's refusal field read back as an item and field.
 */
import { describe, expect, test } from "bun:test";
import { pointFromHome } from "../../../src/core/vehicle/geodesy.ts";
import { missionProblem } from "../../../src/core/mission/plan.ts";
import type { MissionItem } from "../../../protocol/index.ts";
import { itemField, minimumMissionAltitudeMetres, planProblems } from "../../../client/web/ui/mission-check.ts";
import { minimumMoveAltitudeMetres } from "../../../src/core/drone/geofence.ts";

const home = { lat: 51.4779, lon: -0.0015 };
const fence = { radiusMetres: 500, ceilingMetres: 120 };
const context = { home, fence };
const at = (x: number, y: number, altitude: number): MissionItem => ({ type: "waypoint", ...pointFromHome(home, x, y), altitude });

describe("the page's plan check", () => {
  test("a plan the server would take has no problems", () => {
    expect(planProblems([{ type: "takeoff", altitude: 10 }, at(0, 100, 20), { type: "rth" }], context)).toEqual({ whole: null, items: [] });
  });

  test("an empty plan is a problem of the whole", () => {
    expect(planProblems([], context).whole).toMatch(/at least one item/);
  });

  test("every bad item is named once, with its field, worded as the server words it", () => {
    const items: MissionItem[] = [{ type: "takeoff", altitude: Number.NaN }, at(0, 700, 20), at(0, 10, 130), { ...at(0, 10, 20), lon: 200 } as MissionItem, at(0, 10, 0.2)];
    const { items: problems } = planProblems(items, context);
    expect(problems.map(({ item, field }) => [item, field])).toEqual([
      [0, "altitude"],
      [1, "lat"],
      [2, "altitude"],
      [3, "lon"],
      [4, "altitude"],
    ]);
    expect(problems[0]!.message).toMatch(/^data\.items\[0\]\.altitude must be a number greater than 0/);
    expect(problems[3]!.message).toMatch(/^data\.items\[3\]\.lon must be a number from -180 to 180/);
    // The same words as the server's refusal of the same item (its "item 1: " prefix aside).
    const server = missionProblem([items[0]!, items[1]!].map((item, i) => (i === 0 ? { type: "takeoff", altitude: 10 } : item)) as MissionItem[], {
      home,
      geofence: { maxRadiusMetres: 500, maxAltitudeMetres: 120, polygon: null },
      start: { x: 0, y: 0, z: 0 },
    });
    expect(`item 1: ${problems[1]!.message}`).toBe(server!.message);
  });

  test("without home or the fence yet, only the shape and the lowest altitude are checked", () => {
    expect(planProblems([at(0, 700, 20)], { home: null, fence: null }).items).toEqual([]);
    expect(planProblems([at(0, 700, 0.1)], { home: null, fence: null }).items.map((problem) => problem.field)).toEqual(["altitude"]);
  });

  test("the page's lowest altitude is the server's", () => {
    expect(minimumMissionAltitudeMetres).toBe(minimumMoveAltitudeMetres);
  });

  test("a refusal's field is read back as its item and field", () => {
    expect(itemField("data.items[3].lat")).toEqual({ item: 3, field: "lat" });
    expect(itemField("data.items[12]")).toEqual({ item: 12 });
    expect(itemField("data.drone")).toBeNull();
    expect(itemField(undefined)).toBeNull();
  });
});
