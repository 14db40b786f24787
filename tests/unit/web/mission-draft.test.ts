/**
 * The page's plan edits (client/web/ui/mission-draft.ts): where a clicked
 * waypoint goes and at what altitude, moving, editing, reordering, removing.
 */
import { describe, expect, test } from "bun:test";
import type { MissionItem } from "../../../protocol/index.ts";
import { defaultPlanAltitudeMetres, withAdded, withField, without, withMoved, withWaypoint, withWaypointAt } from "../../../client/web/ui/mission-draft.ts";

const here = { lat: 51.4779, lon: -0.0015 };
const there = { lat: 51.478, lon: -0.001 };

describe("mission draft", () => {
  test("the first waypoint of an empty plan comes after a takeoff at the default altitude", () => {
    const { items, index } = withWaypoint([], here);
    expect(items).toEqual([
      { type: "takeoff", altitude: defaultPlanAltitudeMetres },
      { type: "waypoint", ...here, altitude: defaultPlanAltitudeMetres },
    ]);
    expect(index).toBe(1);
  });

  test("a new waypoint goes before the landing or return that ends the plan, at the altitude of the item before it", () => {
    const plan: MissionItem[] = [{ type: "takeoff", altitude: 5 }, { type: "waypoint", ...here, altitude: 15 }, { type: "rth" }];
    const { items, index } = withWaypoint(plan, there);
    expect(index).toBe(2);
    expect(items[2]).toEqual({ type: "waypoint", ...there, altitude: 15 });
    expect(items[3]).toEqual({ type: "rth" });
    expect(plan).toHaveLength(3); // the input is not changed
  });

  test("dragging moves a waypoint only; other items are left as they are", () => {
    const plan: MissionItem[] = [{ type: "takeoff", altitude: 5 }, { type: "waypoint", ...here, altitude: 15, speed: 3 }];
    expect(withWaypointAt(plan, 1, there)[1]).toEqual({ type: "waypoint", ...there, altitude: 15, speed: 3 });
    expect(withWaypointAt(plan, 0, there)).toEqual(plan);
  });

  test("fields: optional ones are removed when emptied, required ones become NaN for the check to name, unknown ones are ignored", () => {
    const plan: MissionItem[] = [{ type: "takeoff", altitude: 5 }, { type: "waypoint", ...here, altitude: 15, holdSeconds: 4 }];
    expect(withField(plan, 1, "speed", 7)[1]).toEqual({ type: "waypoint", ...here, altitude: 15, holdSeconds: 4, speed: 7 });
    expect(withField(plan, 1, "holdSeconds", undefined)[1]).toEqual({ type: "waypoint", ...here, altitude: 15 });
    expect(withField(withField(plan, 1, "heading", 90), 1, "heading", undefined)).toEqual(plan);
    expect((withField(plan, 0, "altitude", undefined)[0] as { altitude: number }).altitude).toBeNaN();
    expect(withField(plan, 0, "speed", 7)).toEqual(plan);
  });

  test("reorder, remove and add", () => {
    const plan: MissionItem[] = [{ type: "takeoff", altitude: 5 }, { type: "waypoint", ...here, altitude: 15 }, { type: "land" }];
    expect(withMoved(plan, 2, -1).map((item) => item.type)).toEqual(["takeoff", "land", "waypoint"]);
    expect(withMoved(plan, 0, -1)).toEqual(plan);
    expect(withMoved(plan, 2, 1)).toEqual(plan);
    expect(without(plan, 1).map((item) => item.type)).toEqual(["takeoff", "land"]);
    expect(withAdded(plan, "rth").at(-1)).toEqual({ type: "rth" });
    expect(withAdded([], "takeoff")).toEqual([{ type: "takeoff", altitude: defaultPlanAltitudeMetres }]);
  });
});
