/** The wire protocol's parsers: the text grammar and the JSON envelope, every refusal naming its field. */
import { describe, expect, test } from "bun:test";
import { commandNames, formatRequest, parseClientFrame, parseEnvelope, parseTextLine } from "../../protocol/index.ts";

function line(text: string) {
  const parsed = parseTextLine(text);
  if (!parsed.ok) throw new Error(`expected ${text} to parse: ${parsed.error.message}`);
  return parsed.line;
}

function lineError(text: string) {
  const parsed = parseTextLine(text);
  if (parsed.ok) throw new Error(`expected ${text} to be refused`);
  return parsed.error;
}

function envelope(value: unknown) {
  const parsed = parseEnvelope(typeof value === "string" ? value : JSON.stringify(value));
  if (!parsed.ok) throw new Error(`expected envelope to parse: ${parsed.error.message}`);
  return (parsed as { message: any }).message;
}

function envelopeError(value: unknown) {
  const parsed = parseEnvelope(typeof value === "string" ? value : JSON.stringify(value));
  if (parsed.ok) throw new Error("expected the envelope to be refused");
  return parsed;
}

describe("text grammar", () => {
  test.each([
    ["takeoff", { name: "takeoff" }],
    ["land", { name: "land" }],
    ["up 5", { name: "up", distance: 5 }],
    ["down 2.5", { name: "down", distance: 2.5 }],
    ["left 1", { name: "left", distance: 1 }],
    ["right 3", { name: "right", distance: 3 }],
    ["forward 20", { name: "forward", distance: 20 }],
    ["back 4", { name: "back", distance: 4 }],
    ["cw 90", { name: "cw", degrees: 90 }],
    ["ccw 360", { name: "ccw", degrees: 360 }],
    ["goto 10 -5 30", { name: "goto", x: 10, y: -5, z: 30 }],
    ["speed 7.5", { name: "speed", metresPerSecond: 7.5 }],
    ["hover", { name: "hover" }],
    ["rth", { name: "rth" }],
    ["emergency", { name: "emergency" }],
    ["status", { name: "status" }],
  ])("%s", (text, request) => {
    expect(line(text)).toEqual({ kind: "request", request: request as never, text });
  });

  test("commands are case-insensitive and tolerate extra spaces", () => {
    expect(line("  FORWARD   20 ")).toEqual({ kind: "request", request: { name: "forward", distance: 20 }, text: "forward 20" });
    expect(line("TakeOff").kind).toBe("request");
  });

  test("claim and release are lines too", () => {
    expect(line("claim")).toEqual({ kind: "claim", text: "claim" });
    expect(line("RELEASE")).toEqual({ kind: "release", text: "release" });
    expect(lineError("claim alpha").code).toBe("invalid_args");
  });

  test("every command in the table parses and formats back to itself", () => {
    for (const name of commandNames) {
      const args = { goto: "1 2 3", gotogeo: "-35.36 149.16 20", speed: "5", cw: "90", ccw: "90", mode: "LOITER", velocity: "2 -1 0.5 -30" }[name as string] ?? (["up", "down", "left", "right", "forward", "back"].includes(name) ? "5" : "");
      const text = `${name} ${args}`.trim();
      const parsed = line(text);
      if (parsed.kind !== "request") throw new Error("expected a request");
      expect(formatRequest(parsed.request)).toBe(text);
    }
  });

  test("a mode name is case-insensitive and carried upper-cased; a number is not a mode", () => {
    const parsed = line("MODE  loiter");
    if (parsed.kind !== "request") throw new Error("expected a request");
    expect(parsed.request).toEqual({ name: "mode", mode: "LOITER" });
    expect(parseTextLine("mode 5")).toMatchObject({ ok: false, error: { code: "invalid_args", field: "args[0]" } });
  });

  test.each([
    ["", "unknown_command", undefined],
    ["fly away", "unknown_command", "command"],
    ["up", "invalid_args", "args"],
    ["takeoff now", "invalid_args", "args"],
    ["up 5 6", "invalid_args", "args"],
    ["up five", "invalid_args", "args[0]"],
    ["up NaN", "invalid_args", "args[0]"],
    ["up Infinity", "invalid_args", "args[0]"],
    ["up 1e3", "invalid_args", "args[0]"],
    ["up 0x10", "invalid_args", "args[0]"],
    ["up -5", "out_of_range", "args[0]"],
    ["up 0", "out_of_range", "args[0]"],
    ["up 100000", "out_of_range", "args[0]"],
    ["cw 400", "out_of_range", "args[0]"],
    ["goto 1 2", "invalid_args", "args"],
    ["goto 1 2 -3", "out_of_range", "args[2]"],
    ["speed 0", "out_of_range", "args[0]"],
  ])("%p is refused with %s on %s", (text, code, field) => {
    const error = lineError(text);
    expect(error.code).toBe(code as never);
    expect(error.field).toBe(field as never);
    expect(error.message.length).toBeGreaterThan(10);
  });

  test("an unknown command's error lists what is allowed and shortens what it echoes", () => {
    const error = lineError(`x${"y".repeat(500)}`);
    expect(error.message).toContain("expected one of takeoff, land");
    expect(error.message.length).toBeLessThan(400);
  });
});

describe("JSON envelope", () => {
  test("command with drone, name and args", () => {
    expect(envelope({ type: "command", id: 7, data: { drone: "alpha", name: "forward", args: [20] } })).toEqual({
      type: "command",
      id: 7,
      data: { drone: "alpha", request: { name: "forward", distance: 20 } },
    });
  });

  test("command names are case-insensitive; drone and args are optional where they can be", () => {
    expect(envelope({ type: "command", data: { name: "TAKEOFF" } })).toEqual({ type: "command", data: { request: { name: "takeoff" } } });
  });

  test("subscribe, unsubscribe, claim, release, ping, hello", () => {
    expect(envelope({ type: "subscribe", id: "s", data: { drone: "alpha", since: 41 } })).toEqual({ type: "subscribe", id: "s", data: { drone: "alpha", since: 41 } });
    expect(envelope({ type: "subscribe", data: { drone: "alpha", since: 41, epoch: "Qx3v9LkT2aE" } })).toEqual({ type: "subscribe", data: { drone: "alpha", since: 41, epoch: "Qx3v9LkT2aE" } });
    expect(envelope({ type: "subscribe", data: { drone: "*", since: { alpha: 4 }, epoch: { alpha: "E1" } } })).toEqual({
      type: "subscribe",
      data: { drone: "*", since: new Map([["alpha", 4]]), epoch: new Map([["alpha", "E1"]]) },
    });
    expect(envelope({ type: "unsubscribe", data: { drone: "alpha" } })).toEqual({ type: "unsubscribe", data: { drone: "alpha" } });
    expect(envelope({ type: "subscribe", data: { drone: "*", since: { alpha: 4, bravo: 0 } } })).toEqual({
      type: "subscribe",
      data: { drone: "*", since: new Map([["alpha", 4], ["bravo", 0]]) },
    });
    expect(envelope({ type: "unsubscribe", data: { drone: "*" } })).toEqual({ type: "unsubscribe", data: { drone: "*" } });
    expect(envelope({ type: "claim", data: { drone: "alpha", token: "t" } })).toEqual({ type: "claim", data: { drone: "alpha", token: "t" } });
    expect(envelope({ type: "release" })).toEqual({ type: "release", data: {} });
    expect(envelope({ type: "ping", id: 1 })).toEqual({ type: "ping", id: 1, data: {} });
    expect(envelope({ type: "hello", data: { token: "v" } })).toEqual({ type: "hello", data: { token: "v" } });
  });

  test.each([
    ["{not json", "invalid_json", undefined],
    [[1, 2], "invalid_message", undefined],
    ["null", "invalid_message", undefined],
    [{ id: 1 }, "invalid_message", "type"],
    [{ type: 5 }, "invalid_message", "type"],
    [{ type: "fly" }, "unknown_type", "type"],
    [{ type: "ping", extra: 1 }, "invalid_message", "extra"],
    [{ type: "ping", data: [] }, "invalid_message", "data"],
    [{ type: "ping", data: { x: 1 } }, "invalid_message", "data.x"],
    [{ type: "command", data: {} }, "invalid_args", "data.name"],
    [{ type: "command", data: { name: "dance" } }, "unknown_command", "data.name"],
    [{ type: "command", data: { name: "up" } }, "invalid_args", "data.args"],
    [{ type: "command", data: { name: "up", args: 5 } }, "invalid_args", "data.args"],
    [{ type: "command", data: { name: "up", args: ["5"] } }, "invalid_args", "data.args[0]"],
    [{ type: "command", data: { name: "up", args: [null] } }, "invalid_args", "data.args[0]"],
    [{ type: "command", data: { name: "up", args: [5, 6] } }, "invalid_args", "data.args"],
    [{ type: "command", data: { name: "up", args: [-1] } }, "out_of_range", "data.args[0]"],
    [{ type: "command", data: { name: "up", args: [1e308] } }, "out_of_range", "data.args[0]"],
    [{ type: "command", data: { name: "takeoff", args: [1] } }, "invalid_args", "data.args"],
    [{ type: "command", data: { name: "up", args: [1], drone: 7 } }, "invalid_args", "data.drone"],
    [{ type: "command", data: { name: "up", args: [1], drone: "x".repeat(33) } }, "invalid_args", "data.drone"],
    [{ type: "subscribe", data: {} }, "invalid_args", "data.drone"],
    [{ type: "subscribe", data: { drone: "alpha", since: -1 } }, "invalid_args", "data.since"],
    [{ type: "subscribe", data: { drone: "alpha", since: 1.5 } }, "invalid_args", "data.since"],
    [{ type: "subscribe", data: { drone: "alpha", since: "3" } }, "invalid_args", "data.since"],
    [{ type: "subscribe", data: { drone: "alpha", since: { alpha: 1 } } }, "invalid_args", "data.since"],
    [{ type: "subscribe", data: { drone: "*", since: 3 } }, "invalid_args", "data.since"],
    [{ type: "subscribe", data: { drone: "*", since: [3] } }, "invalid_args", "data.since"],
    [{ type: "subscribe", data: { drone: "*", since: { alpha: "3" } } }, "invalid_args", "data.since.alpha"],
    [{ type: "subscribe", data: { drone: "alpha", since: 3, epoch: "" } }, "invalid_args", "data.epoch"],
    [{ type: "subscribe", data: { drone: "alpha", since: 3, epoch: "a\tb" } }, "invalid_args", "data.epoch"],
    [{ type: "subscribe", data: { drone: "alpha", since: 3, epoch: "E".repeat(33) } }, "invalid_args", "data.epoch"],
    [{ type: "subscribe", data: { drone: "alpha", since: 3, epoch: { alpha: "E1" } } }, "invalid_args", "data.epoch"],
    [{ type: "subscribe", data: { drone: "*", since: { alpha: 3 }, epoch: "E1" } }, "invalid_args", "data.epoch"],
    [{ type: "subscribe", data: { drone: "*", since: { alpha: 3 }, epoch: { alpha: 7 } } }, "invalid_args", "data.epoch.alpha"],
    [{ type: "subscribe", data: { drone: "*", since: { ["x".repeat(33)]: 3 } } }, "invalid_args", "data.since"],
    [{ type: "claim", data: { token: 5 } }, "invalid_args", "data.token"],
    [{ type: "ping", id: "x".repeat(65) }, "invalid_id", "id"],
    [{ type: "ping", id: 1.5 }, "invalid_id", "id"],
    [{ type: "ping", id: {} }, "invalid_id", "id"],
    [{ type: "ping", id: "" }, "invalid_id", "id"],
  ])("%j is refused with %s on %s", (value, code, field) => {
    const refused = envelopeError(value);
    expect(refused.error.code).toBe(code as never);
    expect(refused.error.field).toBe(field as never);
  });

  test("NaN and Infinity cannot even be written in JSON: they are invalid_json", () => {
    expect(envelopeError('{"type":"command","data":{"name":"up","args":[NaN]}}').error.code).toBe("invalid_json");
    expect(envelopeError('{"type":"command","data":{"name":"up","args":[Infinity]}}').error.code).toBe("invalid_json");
  });

  test("a refusal keeps a valid id for correlation, and drops an invalid one", () => {
    expect(envelopeError({ type: "fly", id: "abc" }).id).toBe("abc");
    expect(envelopeError({ type: "ping", id: "x".repeat(100) }).id).toBeUndefined();
  });

  test("prototype-pollution keys are plain unknown fields", () => {
    const refused = envelopeError('{"type":"ping","__proto__":{"polluted":true}}');
    expect(refused.error.field).toBe("__proto__");
    const inData = envelopeError('{"type":"claim","data":{"constructor":{"prototype":{"x":1}}}}');
    expect(inData.error.field).toBe("data.constructor");
    expect(({} as any).polluted).toBeUndefined();
  });
});

describe("parseClientFrame", () => {
  test("text starting with { is JSON, anything else is the text grammar", () => {
    expect(parseClientFrame('{"type":"ping"}').form).toBe("json");
    expect(parseClientFrame("takeoff").form).toBe("text");
    expect(parseClientFrame("  {bad").form).toBe("json");
  });
});

describe("nesting guard", () => {
  test("measures nesting outside strings only", async () => {
    const { jsonNestingDepth } = await import("../../protocol/index.ts");
    expect(jsonNestingDepth('{"a":[1,{"b":2}]}')).toBe(3);
    expect(jsonNestingDepth('{"a":"[[[[{{{{\\\\\\"[[["}')).toBe(1);
    expect(jsonNestingDepth("[".repeat(50) + "]".repeat(50))).toBe(50);
  });

  test("an envelope nested deeper than the limit is refused, keeping its id", () => {
    const deep = "[".repeat(40) + "]".repeat(40);
    const refused = envelopeError(`{"type":"command","id":"d","data":{"name":"up","args":${deep}}}`);
    expect(refused.error.code).toBe("invalid_message");
    expect(refused.error.message).toContain("deeper than 16 levels");
    expect(refused.id).toBe("d");
  });

  test("error messages describe structures instead of serialising them", () => {
    const refused = envelopeError({ type: [1, 2, 3] });
    expect(refused.error.message).toContain("an array of 3 items");
    expect(envelopeError({ type: "command", data: { name: "up", args: [{ x: 1 }] } }).error.message).toContain("not an object");
  });
});
