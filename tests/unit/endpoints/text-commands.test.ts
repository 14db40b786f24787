/** The two text dialects' reply lines, from one outcome. */
import { expect, test } from "bun:test";
import { echoedCommand, skyportReplies, tutorialReplies } from "../../../src/edge/endpoints/text-commands.ts";
import { hoveringFrame } from "../protocol-fixtures.ts";

const up = { kind: "request", request: { name: "up", distance: 3 }, text: "up 3" } as const;
const status = { kind: "request", request: { name: "status" }, text: "status" } as const;

test("skyport: ok lines that say what changed, error lines with the code", () => {
  const replies = skyportReplies("alpha", "abcd1234");
  expect(replies.done(up, undefined)).toBe("ok up 3");
  expect(replies.done({ kind: "claim", text: "claim" }, undefined)).toBe("ok claim: you are the pilot of alpha");
  expect(replies.done({ kind: "release", text: "release" }, undefined)).toBe("ok release: alpha has no pilot");
  expect(replies.done(status, hoveringFrame)).toBe("ok status alpha hovering x=0.00 y=20.00 z=2.00 heading=0 speed=0.00 battery=97.9% pilot=you");
  expect(replies.refused({ code: "not_flying", message: "up needs the drone airborne" })).toBe("error not_flying: up needs the drone airborne");
});

test("the tutorial: the command as sent, OK or ERROR with the reason", () => {
  const replies = tutorialReplies("UP 3", "ffff0000");
  expect(replies.done(up, undefined)).toBe("- Drone OK (UP 3)!");
  expect(replies.done(status, hoveringFrame)).toBe("- Drone OK (UP 3): alpha hovering x=0.00 y=20.00 z=2.00 heading=0 speed=0.00 battery=97.9% pilot=abcd1234!");
  expect(replies.refused({ code: "not_flying", message: "up needs the drone airborne" })).toBe("- Drone ERROR (UP 3): up needs the drone airborne!");
});

test("the tutorial echoes the command trimmed, and at most 80 characters of it", () => {
  expect(echoedCommand("  UP 3 \n")).toBe("UP 3");
  expect(echoedCommand("x".repeat(200))).toBe(`${"x".repeat(80)}...`);
});
