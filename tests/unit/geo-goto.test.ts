/**
 * gotogeo: a goto by latitude and longitude becomes the metres-from-home
 * goto from the vehicle's own home (found from where it is and its metres
 * from home), and is refused while the vehicle has not said where it is.
 */
import { describe, expect, test } from "bun:test";
import { resolvePilotCommand } from "../../src/core/vehicle/geo-goto.ts";
import { geoFromHome, homeFromPoint, pointFromHome } from "../../src/core/vehicle/geodesy.ts";
import { checkArgs, commandSpecs } from "../../protocol/commands.ts";
import { parseTextLine } from "../../protocol/index.ts";

const home = { lat: -35.363261, lon: 149.16523, altitudeMsl: 584 };

describe("homeFromPoint", () => {
  test("inverts pointFromHome to well under a millimetre, anywhere a drone flies", () => {
    for (const [x, y] of [[0, 0], [120, -80], [-450, 300], [3000, 2500]] as const) {
      const point = pointFromHome(home, x, y);
      const back = homeFromPoint(point, x, y);
      expect(Math.abs(back.lat - home.lat) * 111_000).toBeLessThan(0.001);
      expect(Math.abs(back.lon - home.lon) * 111_000).toBeLessThan(0.001);
    }
  });
});

describe("resolvePilotCommand", () => {
  test("a gotogeo is the goto to the same point from the vehicle's home, wherever the vehicle is now", () => {
    const target = pointFromHome(home, 40, -25);
    const position = { x: 12, y: 7, z: 10 };
    const state = { geo: geoFromHome(home, position.x, position.y, position.z), position };
    const resolved = resolvePilotCommand({ name: "gotogeo", lat: target.lat, lon: target.lon, altitude: 15 }, state);
    if (!resolved.ok) throw new Error(resolved.refusal.message);
    expect(resolved.command.name).toBe("goto");
    const goto = resolved.command as { x: number; y: number; z: number };
    expect(goto.x).toBeCloseTo(40, 3);
    expect(goto.y).toBeCloseTo(-25, 3);
    expect(goto.z).toBe(15);
  });

  test("any other command passes through untouched", () => {
    expect(resolvePilotCommand({ name: "forward", distance: 5 }, { geo: null, position: { x: 0, y: 0, z: 0 } })).toEqual({ ok: true, command: { name: "forward", distance: 5 } });
  });

  test("a vehicle that has not said where it is refuses, saying why and what to use instead", () => {
    const resolved = resolvePilotCommand({ name: "gotogeo", lat: -35, lon: 149, altitude: 10 }, { geo: null, position: { x: 0, y: 0, z: 0 } });
    expect(resolved).toMatchObject({ ok: false, refusal: { code: "drone_unavailable" } });
    if (!resolved.ok) expect(resolved.refusal.message).toContain("use goto X Y Z");
  });
});

describe("the wire form", () => {
  test("gotogeo LAT LON ALT parses as text, with each argument's range checked", () => {
    expect(parseTextLine("gotogeo -35.3632 149.1652 20")).toMatchObject({ ok: true, line: { kind: "request", request: { name: "gotogeo", lat: -35.3632, lon: 149.1652, altitude: 20 } } });
    expect(commandSpecs.gotogeo.args.map((spec) => spec.name)).toEqual(["latitude", "longitude", "altitude"]);
    const bad = checkArgs("gotogeo", [-95, 149, 20], "args");
    expect(bad).toMatchObject({ ok: false, error: { code: "out_of_range", field: "args[0]" } });
  });
});
