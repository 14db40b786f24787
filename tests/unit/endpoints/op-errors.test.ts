/** An op's refusal becomes a wire error in one place, for today's wire errors and the core's refusals alike. */
import { expect, test } from "bun:test";
import { wireOpError } from "../../../src/edge/endpoints/op-errors.ts";

test("a domain refusal is named as the client wrote it", () => {
  expect(wireOpError({ code: "lease_taken", message: "m", about: { vehicle: true } }, "json")).toEqual({ code: "lease_taken", message: "m", field: "data.drone" });
  expect(wireOpError({ code: "out_of_range", message: "m", about: { argument: "distance" } }, "json", "down")).toMatchObject({ field: "data.args[0]" });
  expect(wireOpError({ code: "out_of_range", message: "m", about: { argument: "distance" } }, "text", "down")).toMatchObject({ field: "args[0]" });
});

test("a wire error naming a model argument moves to the argument's wire position", () => {
  expect(wireOpError({ code: "out_of_range", message: "m", field: "speed" }, "json", "speed")).toEqual({ code: "out_of_range", message: "m", field: "data.args[0]" });
  expect(wireOpError({ code: "out_of_range", message: "m", field: "z" }, "text", "goto")).toEqual({ code: "out_of_range", message: "m", field: "args[2]" });
});

test("a wire error with a wire field, or no command, passes unchanged", () => {
  const leaseTaken = { code: "lease_taken", message: "m", field: "data.drone" } as const;
  expect(wireOpError(leaseTaken, "json")).toBe(leaseTaken);
  expect(wireOpError(leaseTaken, "json", "up")).toBe(leaseTaken);
  const notPilot = { code: "not_pilot", message: "m" } as const;
  expect(wireOpError(notPilot, "json", "up")).toBe(notPilot);
});
