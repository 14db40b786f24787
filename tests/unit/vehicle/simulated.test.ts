/** The simulated drone behind the Vehicle seam: receipts, events, state and resume, on no clock but the test's. */
import { describe, expect, test } from "bun:test";
import { defaultSimulatedHome, SimulatedVehicle } from "../../../src/core/vehicle/simulated.ts";
import { internalToken } from "../../../src/core/vehicle/vehicle.ts";

function flying(): SimulatedVehicle {
  const vehicle = new SimulatedVehicle("alpha");
  vehicle.command({ name: "takeoff" }, 1, 0);
  vehicle.advance(2, 2);
  vehicle.takeEvents();
  return vehicle;
}

describe("SimulatedVehicle", () => {
  test("starts landed at home with the model's geofence; the failsafe flag is not the vehicle's", () => {
    const vehicle = new SimulatedVehicle("alpha", { maxAltitudeMetres: 60 });
    expect(vehicle.kind).toBe("simulated");
    expect(vehicle.linkUp).toBe(true);
    expect(vehicle.geofence).toEqual({ maxAltitudeMetres: 60, maxRadiusMetres: 500, polygon: null });
    expect(vehicle.state()).toEqual({
      state: "landed",
      position: { x: 0, y: 0, z: 0 },
      velocity: { x: 0, y: 0, z: 0 },
      heading: 0,
      battery: 100,
      flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false },
      target: null,
      geo: { lat: expect.closeTo(defaultSimulatedHome.lat, 9), lon: expect.closeTo(defaultSimulatedHome.lon, 9), altitudeMsl: defaultSimulatedHome.altitudeMsl },
      armed: false,
      mode: "GUIDED",
      gps: { fix: "3d", satellites: 10 },
      voltage: 16.8,
      link: { up: true, heardAt: null },
    });
  });

  test("reports where it is on Earth from its home, and as an ArduCopter would: armed, mode, voltage", () => {
    const home = { lat: 51.5, lon: -0.12, altitudeMsl: 20 };
    const vehicle = new SimulatedVehicle("alpha", {}, home);
    vehicle.command({ name: "takeoff" }, 1, 0);
    vehicle.advance(2, 2);
    vehicle.command({ name: "forward", distance: 10 }, 2, 2);
    for (let t = 3; t <= 12; t++) vehicle.advance(1, t);
    const state = vehicle.state();
    expect(state.state).toBe("hovering");
    expect(state.link).toEqual({ up: true, heardAt: 12 });
    expect([state.armed, state.mode]).toEqual([true, "GUIDED"]);
    // Heading north: 10 m north is 10 / 111,319.5 degrees of latitude; altitude is home's plus the 2 m takeoff.
    expect(state.geo!.lat).toBeCloseTo(51.5 + 10 / 111_319.49, 7);
    expect(state.geo!.lon).toBeCloseTo(-0.12, 9);
    expect(state.geo!.altitudeMsl).toBeCloseTo(22, 6);
    expect(state.voltage!).toBeLessThan(16.8);
    expect(state.voltage!).toBeGreaterThan(14);
    vehicle.command({ name: "rth" }, 3, 12);
    vehicle.advance(0.1, 12.1);
    expect(vehicle.state().mode).toBe("RTL");
    vehicle.command({ name: "emergency" }, 4, 12.2);
    expect([vehicle.state().armed, vehicle.state().state]).toEqual([false, "emergency"]);
  });

  test("an accepted command answers with its plan and completes on the model's clock", () => {
    const vehicle = new SimulatedVehicle("alpha");
    expect(vehicle.command({ name: "takeoff" }, 7, 0)).toEqual({ status: "accepted", plan: { x: 0, y: 0, z: 2, heading: 0, speedLimit: 5 } });
    expect(vehicle.state().target).toEqual({ x: 0, y: 0, z: 2, heading: 0 });
    vehicle.advance(0.5, 0.5);
    expect(vehicle.takeEvents()).toEqual([]);
    vehicle.advance(1, 1.5);
    expect(vehicle.takeEvents()).toEqual([{ type: "command_done", token: 7 }]);
    expect(vehicle.state().state).toBe("hovering");
  });

  test("a refusal names the argument by its model name; a geofence refusal also raises the geofence event", () => {
    const vehicle = flying();
    const refused = vehicle.command({ name: "goto", x: 900, y: 0, z: 10 }, 2, 2);
    expect(refused).toMatchObject({ status: "refused", refusal: { code: "geofence" } });
    expect(vehicle.takeEvents()).toEqual([{ type: "geofence", reason: expect.stringContaining("500") }]);
    const badSpeed = vehicle.command({ name: "speed", metresPerSecond: 99 }, 3, 2);
    expect(badSpeed).toMatchObject({ status: "refused", refusal: { code: "out_of_range", about: { argument: "speed" } } });
  });

  test("hold position and emergency stop are internal: they complete for nobody", () => {
    const vehicle = flying();
    vehicle.command({ name: "forward", distance: 20 }, 5, 2);
    vehicle.holdPosition(3);
    expect(vehicle.takeEvents()).toEqual([{ type: "command_failed", token: 5, reason: "superseded by hover" }, { type: "command_done", token: internalToken }]);
    vehicle.emergencyStop(3);
    expect(vehicle.state().state).toBe("emergency");
  });

  test("low battery, landing and the landed event pass through; state changes do not", () => {
    const vehicle = flying();
    vehicle.command({ name: "land" }, 9, 2);
    vehicle.advance(5, 7);
    expect(vehicle.takeEvents()).toEqual([{ type: "command_done", token: 9 }, { type: "landed" }]);
  });

  test("resumeFrom carries on from a published state: a moving drone holds where it was", () => {
    const vehicle = new SimulatedVehicle("alpha");
    vehicle.resumeFrom({
      state: "moving",
      position: { x: 10, y: -5, z: 12 },
      velocity: { x: 2, y: 0, z: 0 },
      heading: 90,
      battery: 61,
      flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false },
      target: { x: 30, y: -5, z: 12, heading: 90 },
    });
    expect(vehicle.state()).toMatchObject({ state: "hovering", position: { x: 10, y: -5, z: 12 }, heading: 90, battery: 61 });
    expect(vehicle.model.flags.failsafe).toBe(false);
  });
});

describe("autopilot commands", () => {
  test("arm, disarm and mode are refused as not supported, with what to do instead; nothing changes", () => {
    const vehicle = new SimulatedVehicle("alpha");
    const before = vehicle.model;
    for (const command of [{ name: "arm" }, { name: "disarm" }, { name: "mode", mode: "LOITER" }] as const) {
      expect(vehicle.command(command, 1, 0)).toEqual({
        status: "refused",
        refusal: { code: "not_supported", message: `alpha is simulated: ${command.name} is for vehicles with an autopilot (takeoff arms a simulated drone, landing disarms it)` },
      });
    }
    expect(vehicle.model).toBe(before);
    expect(vehicle.takeEvents()).toEqual([]);
  });
});
