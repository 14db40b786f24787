/**
 * The simulator flying missions natively: items reached in order, each
 * raising progress; a manual command pauses; resume flies on; battery and
 * geofence refusals name the first offending item. Time is stepped by the
 * test (`advance`), never read from a clock.
 */
import { describe, expect, test } from "bun:test";
import { pointFromHome } from "../../../src/core/vehicle/geodesy.ts";
import { defaultSimulatedHome, SimulatedVehicle } from "../../../src/core/vehicle/simulated.ts";
import type { MissionItem, MissionProgress } from "../../../src/core/mission/mission.ts";
import type { VehicleEvent } from "../../../src/core/vehicle/vehicle.ts";
import { uShapedField } from "../../support/fields.ts";

const home = defaultSimulatedHome;
/** A waypoint `x` m east and `y` m north of home. */
function waypointAt(x: number, y: number, altitude: number, extra: Partial<MissionItem & { type: "waypoint" }> = {}): MissionItem {
  return { type: "waypoint", ...pointFromHome(home, x, y), altitude, ...extra };
}

const stepSeconds = 0.1;

/** Steps the vehicle until `until` holds or `maxSeconds` of flight pass; returns every event raised. */
function fly(vehicle: SimulatedVehicle, until: () => boolean, maxSeconds: number): VehicleEvent[] {
  const events: VehicleEvent[] = [...vehicle.takeEvents()];
  for (let t = 0; t < maxSeconds && !until(); t += stepSeconds) {
    vehicle.advance(stepSeconds, t);
    events.push(...vehicle.takeEvents());
  }
  return events;
}

const progressOf = (events: VehicleEvent[]) => events.flatMap((event) => (event.type === "mission_progress" ? [event.progress] : []));

describe("a simulated drone flies a mission", () => {
  const route: MissionItem[] = [{ type: "takeoff", altitude: 10 }, waypointAt(0, 30, 15, { speed: 6, holdSeconds: 2, heading: 90 }), waypointAt(20, 30, 12), { type: "land" }];

  test("every item in order, each reached once, to completion on the ground where the route ends", () => {
    const vehicle = new SimulatedVehicle("alpha");
    expect(vehicle.missionCommand({ action: "upload", items: route }, 7, 0)).toEqual({ status: "accepted", items: 4 });
    const uploaded = vehicle.takeEvents();
    expect(uploaded).toEqual([{ type: "mission", items: route }, { type: "command_done", token: 7 }]);
    expect(vehicle.progress()).toBeNull();

    expect(vehicle.missionCommand({ action: "start" }, 8, 0).status).toBe("accepted");
    const events = fly(vehicle, () => vehicle.progress()?.state === "completed", 120);
    const progress = progressOf(events);
    expect(progress[0]).toMatchObject({ state: "running", current: 0, reached: [] });
    expect(progress.at(-1)).toMatchObject({ state: "completed", current: 4, reached: [0, 1, 2, 3], distanceToGo: 0, etaSeconds: 0 });
    // Reached indices only ever grow, one item at a time.
    const reachedCounts = progress.map((p) => p.reached.length);
    expect(reachedCounts).toEqual([...reachedCounts].sort((a, b) => a - b));
    expect(new Set(reachedCounts)).toEqual(new Set([0, 1, 2, 3, 4]));
    // The distance left falls while an item is flown (it is measured along the rest of the route).
    const running = progress.filter((p) => p.state === "running" && p.current === 1);
    expect(running.length).toBeGreaterThan(3);
    expect(running.at(-1)!.distanceToGo).toBeLessThan(running[0]!.distanceToGo);

    const state = vehicle.state();
    expect(state.state).toBe("landed");
    expect(state.position.x).toBeCloseTo(20, 3);
    expect(state.position.y).toBeCloseTo(30, 3);
    expect(state.heading).toBeCloseTo(90, 3);
    // The waypoint's speed stays the drone's speed from there on.
    expect(vehicle.model.speedLimit).toBe(6);
  });

  test("carried over from another node (a cluster takeover): paused at its item with what it reached; resume flies the rest", () => {
    const first = new SimulatedVehicle("alpha");
    first.missionCommand({ action: "upload", items: route }, 1, 0);
    first.missionCommand({ action: "start" }, 2, 0);
    fly(first, () => (first.progress()?.reached.length ?? 0) >= 2, 120);
    const recorded = first.progress()!;
    expect(recorded).toMatchObject({ state: "running", current: 2, reached: [0, 1] });

    // The node taking over carries on from the last frame (as FlightService.adopt does), then the mission.
    const taker = new SimulatedVehicle("alpha");
    const state = first.state();
    taker.resumeFrom({ ...state, flags: { ...state.flags } });
    taker.carryOver(route, recorded, "carried over from node node-a: resume to fly on");
    const told = taker.takeEvents();
    expect(told[0]).toEqual({ type: "mission", items: route });
    expect(progressOf(told)).toMatchObject([{ state: "paused", current: 2, reached: [0, 1], reason: "carried over from node node-a: resume to fly on" }]);
    expect(taker.missionCommand({ action: "resume" }, 3, 0).status).toBe("accepted");
    fly(taker, () => taker.progress()?.state === "completed", 120);
    expect(taker.progress()).toMatchObject({ state: "completed", reached: [0, 1, 2, 3] });
    expect(taker.state().position.x).toBeCloseTo(20, 3);
  });

  test("carried over before it started, or after it ended: as it was", () => {
    const ready = new SimulatedVehicle("alpha");
    ready.carryOver(route, null, "carried over");
    expect(ready.progress()).toBeNull();
    expect(ready.mission()).toEqual(route);
    const done = new SimulatedVehicle("alpha");
    done.carryOver(route, { current: 4, reached: [0, 1, 2, 3], state: "completed" }, "carried over");
    expect(done.progress()).toMatchObject({ state: "completed", current: 4, reached: [0, 1, 2, 3] });
  });

  test("the hold at a waypoint lasts its seconds", () => {
    const vehicle = new SimulatedVehicle("alpha");
    vehicle.missionCommand({ action: "upload", items: [{ type: "takeoff", altitude: 5 }, waypointAt(0, 0, 5, { holdSeconds: 3 }), { type: "land" }] }, 1, 0);
    vehicle.missionCommand({ action: "start" }, 2, 0);
    let elapsed = 0;
    let holdStarted: number | null = null;
    let holdEnded: number | null = null;
    for (; elapsed < 60 && vehicle.progress()?.state !== "completed"; elapsed += stepSeconds) {
      vehicle.advance(stepSeconds, elapsed);
      const current = vehicle.progress()!.current;
      if (holdStarted === null && vehicle.progress()!.reached.length === 1) holdStarted = elapsed;
      if (holdEnded === null && current === 2) holdEnded = elapsed;
    }
    expect(holdEnded! - holdStarted!).toBeGreaterThanOrEqual(3 - 1e-9);
    expect(holdEnded! - holdStarted!).toBeLessThan(3 + 2 * stepSeconds);
  });

  test("a manual command pauses the mission; resume flies the paused item again from where the drone is", () => {
    const vehicle = new SimulatedVehicle("alpha");
    vehicle.missionCommand({ action: "upload", items: route }, 1, 0);
    vehicle.missionCommand({ action: "start" }, 2, 0);
    fly(vehicle, () => vehicle.progress()!.current === 1 && vehicle.state().position.y > 10, 60);
    expect(vehicle.command({ name: "right", distance: 5 }, 3, 0).status).toBe("accepted");
    const paused = vehicle.takeEvents();
    expect(progressOf(paused).at(-1)).toMatchObject({ state: "paused", current: 1, reason: "paused by the pilot's command right" });
    // Paused, the drone flies the pilot's command, not the mission.
    fly(vehicle, () => vehicle.state().state === "hovering", 30);
    expect(vehicle.state().position.x).toBeCloseTo(5, 3);
    expect(vehicle.progress()!.state).toBe("paused");

    expect(vehicle.missionCommand({ action: "resume" }, 4, 0).status).toBe("accepted");
    fly(vehicle, () => vehicle.progress()?.state === "completed", 120);
    expect(vehicle.progress()).toMatchObject({ state: "completed", reached: [0, 1, 2, 3] });
  });

  test("pause holds where it is; clear forgets the mission and tells viewers", () => {
    const vehicle = new SimulatedVehicle("alpha");
    vehicle.missionCommand({ action: "upload", items: route }, 1, 0);
    vehicle.missionCommand({ action: "start" }, 2, 0);
    fly(vehicle, () => vehicle.progress()!.current === 1 && vehicle.state().position.y > 10, 60);
    vehicle.missionCommand({ action: "pause" }, 3, 0);
    expect(vehicle.state().state).toBe("hovering");
    expect(vehicle.progress()).toMatchObject({ state: "paused", reason: "paused by the pilot" });
    const where = { ...vehicle.state().position };
    fly(vehicle, () => false, 3);
    expect(vehicle.state().position).toEqual(where);
    expect(vehicle.missionCommand({ action: "clear" }, 4, 0).status).toBe("accepted");
    expect(vehicle.takeEvents()).toContainEqual({ type: "mission", items: null });
    expect(vehicle.mission()).toBeNull();
  });

  test("commands that make no sense now are refused with no_mission or busy", () => {
    const vehicle = new SimulatedVehicle("alpha");
    expect(vehicle.missionCommand({ action: "start" }, 1, 0)).toMatchObject({ status: "refused", refusal: { code: "no_mission" } });
    expect(vehicle.missionCommand({ action: "pause" }, 1, 0)).toMatchObject({ status: "refused", refusal: { code: "no_mission" } });
    expect(vehicle.missionCommand({ action: "resume" }, 1, 0)).toMatchObject({ status: "refused", refusal: { code: "no_mission" } });
    expect(vehicle.missionCommand({ action: "clear" }, 1, 0)).toMatchObject({ status: "refused", refusal: { code: "no_mission" } });
    vehicle.missionCommand({ action: "upload", items: route }, 1, 0);
    vehicle.missionCommand({ action: "start" }, 2, 0);
    expect(vehicle.missionCommand({ action: "upload", items: route }, 3, 0)).toMatchObject({ status: "refused", refusal: { code: "busy" } });
    expect(vehicle.missionCommand({ action: "start" }, 3, 0)).toMatchObject({ status: "refused", refusal: { code: "busy" } });
  });

  test("an emergency stop aborts the mission", () => {
    const vehicle = new SimulatedVehicle("alpha");
    vehicle.missionCommand({ action: "upload", items: route }, 1, 0);
    vehicle.missionCommand({ action: "start" }, 2, 0);
    fly(vehicle, () => vehicle.state().position.z > 3, 30);
    vehicle.command({ name: "emergency" }, 3, 0);
    expect(vehicle.progress()!.state).toBe("paused");
    fly(vehicle, () => vehicle.state().state === "landed", 30);
    expect(vehicle.missionCommand({ action: "resume" }, 4, 0).status).toBe("accepted");
  });
});

describe("a mission is checked against the drone before it is accepted", () => {
  test("a waypoint beyond the geofence radius names the item and its lat", () => {
    const vehicle = new SimulatedVehicle("alpha");
    const receipt = vehicle.missionCommand({ action: "upload", items: [{ type: "takeoff", altitude: 10 }, waypointAt(0, 100, 10), waypointAt(0, 600, 10)] }, 1, 0);
    expect(receipt).toEqual({
      status: "refused",
      refusal: { code: "geofence", message: "item 2: the point is 600 m from home, beyond the 500 m radius", about: { item: 2, field: "lat" } },
    });
    expect(vehicle.mission()).toBeNull();
  });

  test("with a geofence polygon: a point outside it, or a leg across its notch, names the item; a route inside flies", () => {
    // A U-shaped field: the notch runs north from 20 m between 20 m west and 20 m east of home.
    const field = uShapedField().map(({ x, y }) => pointFromHome(home, x, y));
    const vehicle = new SimulatedVehicle("alpha", {}, home, field);
    expect(vehicle.geofence.polygon).toEqual(field);
    const takeoff: MissionItem = { type: "takeoff", altitude: 10 };
    expect(vehicle.missionCommand({ action: "upload", items: [takeoff, waypointAt(-60, 60, 10), waypointAt(0, 60, 10)] }, 1, 0)).toEqual({
      status: "refused",
      refusal: { code: "geofence", message: "item 2: the point is outside the geofence polygon", about: { item: 2, field: "lat" } },
    });
    expect(vehicle.missionCommand({ action: "upload", items: [takeoff, waypointAt(-60, 60, 10), waypointAt(60, 60, 10)] }, 1, 0)).toEqual({
      status: "refused",
      refusal: { code: "geofence", message: "item 2: the straight path to the point leaves the geofence polygon", about: { item: 2, field: "lat" } },
    });
    // Around the notch's foot, and home: accepted, and flown to completion.
    const around = [takeoff, waypointAt(-60, 60, 10), waypointAt(-60, 0, 10), waypointAt(60, 0, 10), waypointAt(60, 60, 10), { type: "rth" } as MissionItem];
    expect(vehicle.missionCommand({ action: "upload", items: around }, 2, 0).status).toBe("accepted");
    vehicle.missionCommand({ action: "start" }, 3, 0);
    const events = fly(vehicle, () => vehicle.progress()?.state === "completed", 200);
    expect(progressOf(events).at(-1)).toMatchObject({ state: "completed", reached: [0, 1, 2, 3, 4, 5] });
    expect(events.filter((event) => event.type === "geofence" || event.type === "command_failed")).toEqual([]);
    expect(vehicle.state()).toMatchObject({ state: "landed", position: { x: expect.closeTo(0, 3), y: expect.closeTo(0, 3) } });
    // The simulator itself refuses a goto across the notch, as it refused the leg.
    expect(new SimulatedVehicle("bravo", {}, home, field).command({ name: "goto", x: 0, y: 60, z: 10 }, 4)).toMatchObject({ status: "refused" });
  });

  test("a geofence polygon that does not hold home is refused when the drone is made", () => {
    const away = [[200, 200], [300, 200], [300, 300]].map(([x, y]) => pointFromHome(home, x!, y!));
    expect(() => new SimulatedVehicle("alpha", {}, home, away)).toThrow("'boundary' must hold home (0, 0)");
  });

  test("an altitude above the ceiling, or below the lowest move altitude", () => {
    const vehicle = new SimulatedVehicle("alpha", { maxAltitudeMetres: 60 });
    expect(vehicle.missionCommand({ action: "upload", items: [{ type: "takeoff", altitude: 61 }] }, 1, 0)).toMatchObject({ refusal: { code: "geofence", about: { item: 0, field: "altitude" } } });
    expect(vehicle.missionCommand({ action: "upload", items: [{ type: "takeoff", altitude: 5 }, waypointAt(0, 5, 0.2)] }, 1, 0)).toMatchObject({ refusal: { code: "out_of_range", about: { item: 1, field: "altitude" } } });
  });

  test("a route longer than the battery names the first item the battery would not reach above its low-battery return", () => {
    const vehicle = new SimulatedVehicle("alpha");
    // Back and forth across the 500 m field: 0.01 %/m plus hover drain; 80 % usable runs out after a few kilometres.
    const items: MissionItem[] = [{ type: "takeoff", altitude: 10 }];
    for (let i = 0; i < 40; i++) items.push(waypointAt(0, i % 2 === 0 ? 450 : -450, 10, { speed: 10 }));
    const receipt = vehicle.missionCommand({ action: "upload", items }, 1, 0);
    expect(receipt.status).toBe("refused");
    if (receipt.status !== "refused") return;
    expect(receipt.refusal.code).toBe("battery_low");
    const item = (receipt.refusal.about as { item: number }).item;
    expect(item).toBeGreaterThan(2);
    expect(item).toBeLessThan(40);
    expect(receipt.refusal.message).toStartWith(`item ${item}: the battery would reach`);
    // The same route cut before that item is accepted.
    expect(vehicle.missionCommand({ action: "upload", items: items.slice(0, item - 1) }, 2, 0).status).toBe("accepted");
  });

  test("the battery estimate is close to what the flight really costs", () => {
    const vehicle = new SimulatedVehicle("alpha");
    const items: MissionItem[] = [{ type: "takeoff", altitude: 10 }, waypointAt(200, 200, 30, { speed: 8 }), waypointAt(-100, 150, 20), { type: "rth" }];
    vehicle.missionCommand({ action: "upload", items }, 1, 0);
    vehicle.missionCommand({ action: "start" }, 2, 0);
    const first: MissionProgress = vehicle.progress()!;
    let seconds = 0;
    for (; seconds < 600 && vehicle.progress()!.state === "running"; seconds += stepSeconds) vehicle.advance(stepSeconds, seconds);
    expect(vehicle.progress()!.state).toBe("completed");
    // The ETA at the start was within 10 % of the time the route took.
    expect(Math.abs(first.etaSeconds - seconds) / seconds).toBeLessThan(0.1);
  });
});
