/** The command table and what derives from it: building, formatting and locating arguments. */
import { describe, expect, test } from "bun:test";
import { argumentIndex, buildRequest, checkArgs, commandNames, commandSpecs, formatRequest, requestArgs, type DroneRequest } from "../../protocol/commands.ts";

/** One valid set of arguments for a command: each number argument's lower bound, a mode name for a word. */
function lowestArgs(name: (typeof commandNames)[number]): Array<number | string> {
  return commandSpecs[name].args.map((spec) => (spec.kind === "word" ? "LOITER" : spec.min));
}

describe("build and format derive from the table", () => {
  test.each([
    ["up", [5], { name: "up", distance: 5 }],
    ["cw", [90], { name: "cw", degrees: 90 }],
    ["goto", [10, -5, 30], { name: "goto", x: 10, y: -5, z: 30 }],
    ["speed", [7.5], { name: "speed", metresPerSecond: 7.5 }],
    ["takeoff", [], { name: "takeoff" }],
    ["status", [], { name: "status" }],
    ["mode", ["GUIDED"], { name: "mode", mode: "GUIDED" }],
    ["arm", [], { name: "arm" }],
  ] as const)("%s %j builds %j", (name, args, request) => {
    expect(buildRequest(name, args)).toEqual(request as DroneRequest);
    expect(requestArgs(request as DroneRequest)).toEqual([...args]);
  });

  test("every command builds, and formats back to its name and arguments", () => {
    for (const name of commandNames) {
      const args = lowestArgs(name);
      const request = buildRequest(name, args);
      expect(request.name).toBe(name);
      expect(formatRequest(request)).toBe([name, ...args].join(" "));
      expect(requestArgs(request)).toEqual(args);
    }
  });

  test("the built request keeps the table's field order (name first)", () => {
    expect(Object.keys(buildRequest("goto", [1, 2, 3]))).toEqual(["name", "x", "y", "z"]);
  });
});

describe("argumentIndex: which wire argument a model field came from", () => {
  test("by the model field or by the argument's name", () => {
    expect(argumentIndex("up", "distance")).toBe(0);
    expect(argumentIndex("goto", "z")).toBe(2);
    expect(argumentIndex("speed", "metresPerSecond")).toBe(0);
    expect(argumentIndex("speed", "speed")).toBe(0);
  });

  test("-1 for a field the command does not have", () => {
    expect(argumentIndex("takeoff", "distance")).toBe(-1);
    expect(argumentIndex("up", "data.drone")).toBe(-1);
  });
});

describe("checkArgs", () => {
  test("returns the checked numbers", () => {
    expect(checkArgs("goto", [1, 2, 3], "data.args")).toEqual({ ok: true, args: [1, 2, 3] });
  });

  test("names the argument by its position under the given field", () => {
    expect(checkArgs("goto", [1, 2, -1], "args")).toMatchObject({ ok: false, error: { code: "out_of_range", field: "args[2]" } });
    expect(checkArgs("speed", ["5"], "data.args")).toMatchObject({
      ok: false,
      error: { code: "invalid_args", field: "data.args[0]", message: 'speed of speed must be a number, not a string: received "5"' },
    });
  });

  test("a word argument is a name, carried upper-cased; anything else is refused naming what it must be", () => {
    expect(checkArgs("mode", ["guided"], "data.args")).toEqual({ ok: true, args: ["GUIDED"] });
    expect(checkArgs("mode", ["smart_rtl"], "args")).toEqual({ ok: true, args: ["SMART_RTL"] });
    expect(checkArgs("mode", ["auto.loiter"], "args")).toEqual({ ok: true, args: ["AUTO.LOITER"] });
    for (const bad of [4, "", "1AUTO", "GUIDED;rm", "x".repeat(33), null]) {
      expect(checkArgs("mode", [bad], "data.args")).toMatchObject({ ok: false, error: { code: "invalid_args", field: "data.args[0]" } });
    }
    expect(checkArgs("mode", [4], "data.args")).toMatchObject({
      error: { message: "mode of mode must be an autopilot flight mode such as GUIDED, LOITER, RTL or AUTO.LOITER (letters, digits, _ and .): received 4" },
    });
    expect(checkArgs("mode", [], "args")).toMatchObject({
      error: { code: "invalid_args", message: "mode takes mode (an autopilot flight mode such as GUIDED, LOITER, RTL or AUTO.LOITER): received 0 arguments" },
    });
  });
});
