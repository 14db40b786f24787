/** The fleet's lease grace (issue 19 #15): a lost pilot's lease is reserved for its resume token, on an injected clock. */
import { expect, test } from "bun:test";
import { Fleet } from "../../src/core/fleet/fleet.ts";
import type { CommandOrigin } from "../../src/core/fleet/ops.ts";
import { SimulatedVehicle } from "../../src/core/vehicle/simulated.ts";

const grace = 3;
function fleet() {
  return new Fleet<CommandOrigin>({ vehicles: [new SimulatedVehicle("alpha")], failsafeSeconds: 10, leaseGraceSeconds: grace });
}

test("a lost pilot's lease is reserved: others are refused with the time left, its token reclaims it", () => {
  const f = fleet();
  expect(f.claim("alpha", "s1", 0, { resume: "tok-1" }).ok).toBe(true);
  f.disconnect("s1", 10, "pilot silent for 5 s (no message or pong)");
  expect(f.takeNotices().find((n) => n.kind === "lease" && n.pilot === null)).toMatchObject({ reason: "pilot silent for 5 s (no message or pong)", reservedSeconds: grace });
  const refused = f.claim("alpha", "s2", 11.5, { resume: "tok-2" });
  expect(refused).toMatchObject({ ok: false, refusal: { code: "lease_taken" } });
  expect(!refused.ok && refused.refusal.message).toContain("for another 1.5 s");
  expect(f.claim("alpha", "s2", 11.5, { resume: "tok-2", reclaim: "tok-x" }).ok).toBe(false);
  expect(f.claim("alpha", "s3", 12, { resume: "tok-3", reclaim: "tok-1" })).toEqual({ ok: true, alreadyPilot: false });
  expect(f.takeNotices().find((n) => n.kind === "lease")).toMatchObject({ pilot: "s3", reason: "reclaimed" });
});

test("the same session coming back to life reclaims with its own token; the reservation ends after the grace", () => {
  const f = fleet();
  f.claim("alpha", "s1", 0, { resume: "tok-1" });
  f.disconnect("s1", 10, "pilot silent for 5 s (no message or pong)");
  expect(f.claim("alpha", "s1", 11, { resume: "tok-1" }).ok).toBe(true);
  f.disconnect("s1", 20);
  expect(f.claim("alpha", "s2", 20 + grace, {}).ok).toBe(true);
});

test("a release, or a pilot without a resume token, reserves nothing", () => {
  const f = fleet();
  f.claim("alpha", "s1", 0, { resume: "tok-1" });
  f.release("alpha", "s1", 1);
  expect(f.claim("alpha", "s2", 1).ok).toBe(true);
  f.disconnect("s2", 2);
  expect(f.takeNotices().filter((n) => n.kind === "lease").at(-1)).toEqual({ kind: "lease", drone: "alpha", pilot: null, reason: "pilot disconnected" });
  expect(f.claim("alpha", "s3", 2).ok).toBe(true);
});
