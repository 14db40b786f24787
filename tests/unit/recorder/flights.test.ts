import { describe, expect, test } from "bun:test";
import { FlightSegmenter, flightId, type FlightSample } from "../../../src/core/recorder/flights.ts";
import { flightIdPattern } from "../../../protocol/index.ts";

function sample(time: number, state: FlightSample["state"], x: number, z: number, extra: Partial<FlightSample> = {}): FlightSample {
  return { time, state, position: { x, y: 0, z }, battery: 100 - time / 1000, pilot: null, pilotUser: null, emergencyStopped: false, ...extra };
}

describe("FlightSegmenter", () => {
  test("a flight runs from the first airborne frame to the first landed one, with its altitude, distance, battery and first pilot (and its user)", () => {
    const segmenter = new FlightSegmenter("alpha");
    expect(segmenter.observe(sample(0, "landed", 0, 0))).toEqual({ flight: null, ended: null });
    const opened = segmenter.observe(sample(1000, "taking_off", 0, 1, { pilot: "s-1", pilotUser: "alice" }));
    expect(opened.flight?.id).toBe(flightId("alpha", 1000));
    segmenter.observe(sample(2000, "moving", 3, 5, { pilot: "s-2", pilotUser: "bob" }));
    segmenter.observe(sample(3000, "moving", 7, 4));
    const landed = segmenter.observe(sample(4000, "landed", 7, 0));
    expect(landed.flight).toBeNull();
    expect(landed.ended).toEqual({
      id: "alpha-1000",
      drone: "alpha",
      startedAt: 1000,
      endedAt: 4000,
      endReason: "landed",
      maxAltitude: 5,
      distance: 7,
      batteryStart: 99,
      batteryEnd: 96,
      pilot: "s-1",
      pilotUser: "alice",
      frames: 4,
    });
    expect(segmenter.observe(sample(5000, "landed", 7, 0))).toEqual({ flight: null, ended: null });
  });

  test("an emergency stop ends the flight as an emergency when it reaches the ground", () => {
    const segmenter = new FlightSegmenter("alpha");
    segmenter.observe(sample(0, "hovering", 0, 5));
    segmenter.observe(sample(100, "emergency", 0, 3, { emergencyStopped: true }));
    expect(segmenter.observe(sample(200, "landed", 0, 0, { emergencyStopped: true })).ended?.endReason).toBe("emergency");
  });

  test("link loss ends the flight at once; a vehicle still airborne afterwards starts a new one", () => {
    const segmenter = new FlightSegmenter("alpha");
    segmenter.observe(sample(0, "hovering", 0, 5));
    expect(segmenter.linkLost(500)).toMatchObject({ endedAt: 500, endReason: "link_lost" });
    expect(segmenter.linkLost(600)).toBeNull();
    expect(segmenter.observe(sample(700, "hovering", 0, 5)).flight?.id).toBe("alpha-700");
  });

  test("a flight resumed after a restart keeps its id and counts on", () => {
    const first = new FlightSegmenter("alpha");
    const open = first.observe(sample(0, "hovering", 0, 5)).flight!;
    const second = new FlightSegmenter("alpha");
    second.resume(open, { x: 0, y: 0, z: 5 });
    const step = second.observe(sample(1000, "moving", 4, 6));
    expect(step.flight).toMatchObject({ id: open.id, distance: 4, maxAltitude: 6, frames: 2 });
  });

  test("flight ids are the drone and the start in ms", () => {
    expect(flightIdPattern.test(flightId("alpha_2", 1767225600000))).toBe(true);
    expect(flightIdPattern.test("../etc")).toBe(false);
  });
});
