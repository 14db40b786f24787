/** Mission messages on the wire: items checked as a whole, the first offending item and field named. */
import { describe, expect, test } from "bun:test";
import { checkMissionItems, maxMissionItems, parseEnvelope, wireError } from "../../protocol/index.ts";

const takeoff = { type: "takeoff" as const, altitude: 10 };
const waypoint = { type: "waypoint" as const, lat: -35.3631, lon: 149.1654, altitude: 15 };

function missionError(items: unknown) {
  const result = parseEnvelope(JSON.stringify({ type: "mission", id: 7, data: { drone: "alpha", items } }));
  if (result.ok) throw new Error("expected a refusal");
  expect(result.id).toBe(7);
  return result.error;
}

describe("mission", () => {
  test("a valid mission parses into typed items, optional fields kept", () => {
    const items = [takeoff, { ...waypoint, speed: 4, holdSeconds: 2, heading: 90 }, { type: "land" as const }, { type: "rth" as const }];
    const result = parseEnvelope(JSON.stringify({ type: "mission", data: { drone: "alpha", items } }));
    expect(result).toEqual({ ok: true, message: { type: "mission", data: { drone: "alpha", items } } });
  });

  test("heading 360 is north", () => {
    expect(checkMissionItems([{ ...waypoint, heading: 360 }])).toEqual({ ok: true, items: [{ ...waypoint, heading: 0 } as never] });
  });

  test.each([
    [[], "data.items", "data.items is empty"],
    ["x", "data.items", "must be an array of mission items: received a string"],
    [[takeoff, 3], "data.items[1]", "must be an object"],
    [[{ type: "loiter" }], "data.items[0].type", "must be one of takeoff, waypoint, land, rth: received \"loiter\""],
    [[{ type: "land", altitude: 3 }], "data.items[0].altitude", "unknown field data.items[0].altitude for a land item"],
    [[takeoff, { ...waypoint, lat: 91 }], "data.items[1].lat", "from -90 to 90 degrees: received 91"],
    [[takeoff, { ...waypoint, lon: -181 }], "data.items[1].lon", "from -180 to 180 degrees: received -181"],
    [[takeoff, { ...waypoint, lat: "north" }], "data.items[1].lat", "received \"north\""],
    [[takeoff, { ...waypoint, altitude: 0 }], "data.items[1].altitude", "greater than 0"],
    [[{ type: "takeoff" }], "data.items[0].altitude", "received undefined"],
    [[takeoff, { ...waypoint, speed: 0 }], "data.items[1].speed", "greater than 0 and at most 100 m/s"],
    [[takeoff, { ...waypoint, holdSeconds: -1 }], "data.items[1].holdSeconds", "from 0 to 3600 seconds"],
    [[takeoff, { ...waypoint, heading: 400 }], "data.items[1].heading", "from 0 to 360"],
  ])("%j is refused at %s", (items, field, words) => {
    const error = missionError(items);
    expect(error.code).toBe("invalid_args");
    expect(error.field).toBe(field);
    expect(error.message).toContain(words);
  });

  test("NaN and Infinity cannot arrive as JSON numbers, and are refused when checked directly", () => {
    expect(checkMissionItems([{ ...waypoint, lat: Number.NaN }])).toMatchObject({ ok: false, error: { field: "data.items[0].lat" } });
    expect(checkMissionItems([{ ...waypoint, altitude: Infinity }], "items")).toMatchObject({ ok: false, error: { field: "items[0].altitude" } });
  });

  test(`more than ${maxMissionItems} items are refused before any is checked`, () => {
    const items = Array.from({ length: maxMissionItems + 1 }, () => ({ type: "bogus" }));
    const error = missionError(items);
    expect(error).toEqual({ code: "invalid_args", message: `data.items has ${maxMissionItems + 1} items: a mission holds at most ${maxMissionItems}`, field: "data.items" });
    expect(checkMissionItems(Array.from({ length: maxMissionItems }, () => waypoint)).ok).toBe(true);
  });

  test("the control messages take only a drone", () => {
    for (const type of ["mission_start", "mission_pause", "mission_resume", "mission_clear"]) {
      expect(parseEnvelope(JSON.stringify({ type, id: 1, data: { drone: "alpha" } }))).toEqual({ ok: true, message: { type, id: 1, data: { drone: "alpha" } } as never });
      expect(parseEnvelope(JSON.stringify({ type, data: {} }))).toEqual({ ok: true, message: { type, data: {} } as never });
      const extra = parseEnvelope(JSON.stringify({ type, data: { items: [] } }));
      expect(extra.ok ? null : extra.error.field).toBe("data.items");
    }
  });

  test("a refusal about a mission item names the item's field on the wire", () => {
    expect(wireError({ code: "geofence", message: "m", about: { item: 3, field: "lat" } }, "json")).toEqual({ code: "geofence", message: "m", field: "data.items[3].lat" });
    expect(wireError({ code: "battery_low", message: "m", about: { item: 2 } }, "json")).toEqual({ code: "battery_low", message: "m", field: "data.items[2]" });
  });
});
