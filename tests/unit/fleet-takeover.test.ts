/**
 * Taking over a vehicle that reports its own state (a MAVLink vehicle in a
 * cluster) before this node has heard it: the failsafe is decided from what
 * the other node last published, and waits for the vehicle's own reports
 * before it returns it home or calls it landed. On the test's clock.
 */
import { describe, expect, test } from "bun:test";
import { Fleet } from "../../src/core/fleet/fleet.ts";
import type { CommandOrigin } from "../../src/core/fleet/ops.ts";
import { restingAtHome } from "../../src/core/vehicle/vehicle.ts";
import { ScriptedVehicle } from "../support/scripted-vehicle.ts";

function takenOver() {
  const vehicle = new ScriptedVehicle("copter");
  vehicle.setLink(false);
  vehicle.takeEvents();
  const fleet = new Fleet<CommandOrigin>({ vehicles: [vehicle], failsafeSeconds: 3, leaseGraceSeconds: 0 });
  const flying = { ...restingAtHome(), state: "hovering" as const, position: { x: 30, y: 40, z: 10 } };
  fleet.adopt("copter", { state: flying, failsafe: false }, null, 100);
  return { vehicle, fleet };
}

describe("a reporting vehicle taken over before it is heard", () => {
  test("the failsafe engages from the last published state, and waits for the vehicle's reports to return it", () => {
    const { vehicle, fleet } = takenOver();
    expect(fleet.failsafeEngaged("copter")).toBe(true);
    expect(fleet.takeNotices()).toMatchObject([{ kind: "event", event: "failsafe", details: { action: "hover", returnInSeconds: 3 } }]);
    // Past the hold, still not heard: nothing is sent, nothing is called landed.
    for (let t = 100; t <= 110; t += 0.5) fleet.advance(0.5, t);
    expect(vehicle.commands()).toEqual([]);
    expect(fleet.failsafeEngaged("copter")).toBe(true);
    // Heard, flying 50 m out: home it goes.
    vehicle.setLink(true);
    vehicle.report({ state: "hovering", position: { x: 30, y: 40, z: 10 } });
    fleet.advance(0.5, 110.5);
    expect(vehicle.commands()).toEqual([{ name: "rth" }]);
    expect(fleet.takeNotices()).toContainEqual(expect.objectContaining({ kind: "event", event: "failsafe", details: { action: "rth" } }));
  });

  test("heard on the ground after all: the failsafe ends without a command", () => {
    const { vehicle, fleet } = takenOver();
    vehicle.setLink(true);
    vehicle.report({ state: "landed", position: { x: 0, y: 0, z: 0 } });
    fleet.advance(0.5, 100.5);
    expect(fleet.failsafeEngaged("copter")).toBe(false);
    for (let t = 101; t <= 106; t += 0.5) fleet.advance(0.5, t);
    expect(vehicle.commands()).toEqual([]);
  });
});

test("a failsafe due while the vehicle is still taking off waits for the takeoff (the step returns), then returns it", () => {
  const vehicle = new ScriptedVehicle("copter");
  const fleet = new Fleet<CommandOrigin>({ vehicles: [vehicle], failsafeSeconds: 3, leaseGraceSeconds: 0 });
  expect(fleet.claim("copter", "s1", 0)).toMatchObject({ ok: true });
  vehicle.report({ state: "taking_off", position: { x: 0, y: 20, z: 3 } });
  fleet.disconnect("s1", 1);
  // A real takeoff to 10 m takes about 9 s, longer than the 3 s hold: every step past the hold returns at once.
  for (let t = 1.5; t <= 9; t += 0.5) fleet.advance(0.5, t);
  expect(vehicle.commands()).toEqual([]);
  vehicle.report({ state: "hovering", position: { x: 0, y: 20, z: 10 } });
  fleet.advance(0.5, 9.5);
  expect(vehicle.commands()).toEqual([{ name: "rth" }]);
});
