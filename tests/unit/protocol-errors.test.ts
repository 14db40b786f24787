/** Error vocabulary: shared refusals worded once, and domain refusals named as the client wrote them. */
import { describe, expect, test } from "bun:test";
import { closeCodes, pilotTokenRequired, rateLimited, tooManySubscriptions, unknownDrone, viewerTokenRequired, wireError } from "../../protocol/errors.ts";
import type { Refusal } from "../../src/core/refusal.ts";

describe("wireError", () => {
  const aboutDrone: Refusal = { code: "lease_taken", message: "alpha is already flown by session 1234abcd: wait for a release", about: { vehicle: true } };
  const aboutDistance: Refusal = { code: "out_of_range", message: "up distance must be a positive number of metres: received 0", about: { argument: "distance" } };

  test("a refusal about the vehicle names data.drone in JSON, and no field in text", () => {
    expect(wireError(aboutDrone, "json")).toEqual({ code: "lease_taken", message: aboutDrone.message, field: "data.drone" });
    expect(wireError(aboutDrone, "text")).toEqual({ code: "lease_taken", message: aboutDrone.message });
  });

  test("a refusal about an argument names where the client wrote it", () => {
    expect(wireError(aboutDistance, "json", "up")).toEqual({ code: "out_of_range", message: aboutDistance.message, field: "data.args[0]" });
    expect(wireError(aboutDistance, "text", "up")).toEqual({ code: "out_of_range", message: aboutDistance.message, field: "args[0]" });
    expect(wireError({ code: "out_of_range", message: "m", about: { argument: "z" } }, "json", "goto").field).toBe("data.args[2]");
  });

  test("the model's field or the argument's name both find it", () => {
    expect(wireError({ code: "out_of_range", message: "m", about: { argument: "metresPerSecond" } }, "json", "speed").field).toBe("data.args[0]");
    expect(wireError({ code: "out_of_range", message: "m", about: { argument: "speed" } }, "json", "speed").field).toBe("data.args[0]");
  });

  test("an argument the command lacks, or no command, keeps the core's name", () => {
    expect(wireError(aboutDistance, "json", "takeoff").field).toBe("distance");
    expect(wireError(aboutDistance, "json").field).toBe("distance");
  });

  test("a refusal about nothing in particular has no field", () => {
    expect(wireError({ code: "not_pilot", message: "claim alpha before flying it" }, "json", "up")).toEqual({ code: "not_pilot", message: "claim alpha before flying it" });
  });
});

describe("shared refusals", () => {
  test("unknownDrone: one wording, for data.drone, data.since keys and ?drone=", () => {
    expect(unknownDrone("zulu", ["alpha", "bravo"])).toEqual({ code: "unknown_drone", message: 'no drone "zulu": this server flies alpha, bravo', field: "data.drone" });
    expect(unknownDrone("zulu", ["alpha"], "data.since.zulu")).toEqual({
      code: "unknown_drone",
      message: 'no drone "zulu" in data.since: this server flies alpha',
      field: "data.since.zulu",
    });
    expect(unknownDrone("z".repeat(100), ["alpha"]).message).toBe(`no drone "${"z".repeat(40)}": this server flies alpha`);
  });

  test("subscription and rate limits say the limit", () => {
    expect(tooManySubscriptions(2)).toEqual({ code: "too_many_subscriptions", message: "a socket may watch at most 2 drones: unsubscribe one first", field: "data.drone" });
    expect(rateLimited(50)).toEqual({ code: "rate_limited", message: "slow down: at most 50 messages per second" });
  });

  test("token refusals name data.token when a token was the problem", () => {
    expect(pilotTokenRequired("missing")).toEqual({ code: "unauthorized", message: "this server requires a pilot token: claim with data.token", field: "data.token" });
    expect(pilotTokenRequired("wrong").message).toBe("wrong pilot token");
    expect(viewerTokenRequired(true)).toEqual({ code: "unauthorized", message: "wrong viewer token", field: "data.token" });
    expect(viewerTokenRequired(false).field).toBeUndefined();
  });

  test("close codes are RFC 6455's", () => {
    expect(closeCodes).toEqual({ goingAway: 1001, unsupportedData: 1003, policyViolation: 1008, messageTooBig: 1009, tryAgainLater: 1013 });
  });
});
