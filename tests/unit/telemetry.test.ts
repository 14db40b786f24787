/** Telemetry frames and the replay ring buffer. */
import { describe, expect, test } from "bun:test";
import { SimulatedVehicle } from "../../src/core/vehicle/simulated.ts";
import { restingAtHome } from "../../src/core/vehicle/vehicle.ts";
import { telemetryBatch, telemetryFrame } from "../../protocol/index.ts";
import { telemetryData } from "../../src/core/telemetry/frames.ts";
import { ReplayBuffer } from "../../src/core/telemetry/replay-buffer.ts";
import { fleetTopic, telemetryTopic } from "../../src/runtime/topics.ts";

describe("ReplayBuffer", () => {
  function filled(capacity: number, count: number, first = 0) {
    const buffer = new ReplayBuffer(capacity);
    for (let seq = first; seq < first + count; seq++) buffer.push(seq, `f${seq}`);
    return buffer;
  }

  test("replays exactly the frames after since", () => {
    const buffer = filled(10, 6);
    expect(buffer.since(2)).toEqual({ frames: ["f3", "f4", "f5"], lost: 0, reset: false });
    expect(buffer.since(5)).toEqual({ frames: [], lost: 0, reset: false });
  });

  test("keeps only the newest frames once full, and counts what a late resume lost", () => {
    const buffer = filled(4, 10);
    expect([buffer.oldest(), buffer.latest(), buffer.size]).toEqual([6, 9, 4]);
    expect(buffer.since(2)).toEqual({ frames: ["f6", "f7", "f8", "f9"], lost: 3, reset: false });
    expect(buffer.since(5)).toEqual({ frames: ["f6", "f7", "f8", "f9"], lost: 0, reset: false });
  });

  test("a since ahead of the stream, or on an empty buffer, means the stream restarted", () => {
    expect(filled(4, 3).since(10).reset).toBe(true);
    expect(new ReplayBuffer(4).since(0).reset).toBe(true);
  });

  test("wraps around many times without losing order", () => {
    const buffer = filled(7, 1000);
    expect(buffer.since(990).frames).toEqual(["f993", "f994", "f995", "f996", "f997", "f998", "f999"].slice(-7));
    expect(buffer.since(995).frames).toEqual(["f996", "f997", "f998", "f999"]);
  });

  test("refuses out-of-order seqs and bad capacities", () => {
    const buffer = filled(4, 2);
    expect(() => buffer.push(5, "x")).toThrow(/expected 2, received 5/);
    expect(() => new ReplayBuffer(0)).toThrow(/'capacity' must be a whole number >= 1: received 0/);
  });
});

describe("telemetry frames", () => {
  test("carry drone, seq, time, state, where on Earth, position, velocity, heading, speed, battery, voltage, armed, mode, gps, link, flags, target, pilot", () => {
    const vehicle = new SimulatedVehicle("alpha");
    vehicle.advance(0, 5);
    const data = telemetryData("alpha", vehicle.state(), false, 12, { wallMs: 1_700_000_000_123.4, nowSeconds: 5.5 }, "s1");
    expect(data).toEqual({
      drone: "alpha",
      seq: 12,
      time: 1_700_000_000_123,
      state: "landed",
      lat: -35.363261,
      lon: 149.16523,
      altitudeMsl: 584,
      position: { x: 0, y: 0, z: 0 },
      velocity: { x: 0, y: 0, z: 0 },
      heading: 0,
      speed: 0,
      battery: 100,
      voltage: 16.8,
      armed: false,
      mode: "GUIDED",
      gps: { fix: "3d", satellites: 10 },
      // Last heard half a second before the frame: at the vehicle's last step.
      link: { status: "up", lastHeard: 1_699_999_999_623 },
      flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false, failsafe: false },
      target: null,
      pilot: "s1",
    });
    expect(JSON.parse(telemetryFrame(JSON.stringify(data)))).toEqual({ type: "telemetry", data });
    // The wire keeps its field order byte for byte.
    expect(JSON.stringify(data)).toBe(
      '{"drone":"alpha","seq":12,"time":1700000000123,"state":"landed","lat":-35.363261,"lon":149.16523,"altitudeMsl":584,"position":{"x":0,"y":0,"z":0},"velocity":{"x":0,"y":0,"z":0},"heading":0,"speed":0,"battery":100,"voltage":16.8,"armed":false,"mode":"GUIDED","gps":{"fix":"3d","satellites":10},"link":{"status":"up","lastHeard":1699999999623},"flags":{"lowBattery":false,"criticalBattery":false,"emergencyStopped":false,"failsafe":false},"target":null,"pilot":"s1"}',
    );
  });

  test("a vehicle that has not said where it is has no lat/lon; a lost link keeps its last-heard time", () => {
    const state = { ...restingAtHome(), link: { up: false, heardAt: 2 } };
    const data = telemetryData("copter", state, false, 0, { wallMs: 10_000, nowSeconds: 4 }, null);
    expect([data.lat, data.lon, data.altitudeMsl, data.voltage, data.mode, data.armed]).toEqual([null, null, null, null, null, false]);
    expect(data.link).toEqual({ status: "lost", lastHeard: 8_000 });
    expect(data.gps).toEqual({ fix: "no_fix", satellites: null });
  });

  test("one topic per drone, and the fleet topic for *", () => {
    expect(telemetryTopic("alpha")).not.toBe(telemetryTopic("bravo"));
    expect(telemetryTopic("*")).toBe(fleetTopic);
    expect(telemetryTopic("alpha")).not.toBe(fleetTopic);
  });

  test("a batch joins frames' JSON into one valid message without re-serialising them", () => {
    const frames = [{ drone: "alpha", seq: 3 }, { drone: "bravo", seq: 9 }];
    const batch = telemetryBatch(1_700_000_000_123.4, frames.map((frame) => JSON.stringify(frame)));
    expect(JSON.parse(batch)).toEqual({ type: "telemetry_batch", data: { time: 1_700_000_000_123, frames } });
    expect(JSON.parse(telemetryBatch(5, []))).toEqual({ type: "telemetry_batch", data: { time: 5, frames: [] } });
    expect(JSON.parse(telemetryFrame(JSON.stringify(frames[0])))).toEqual({ type: "telemetry", data: frames[0] });
  });
});

describe("ReplayBuffer backfill (frames read back from shared storage)", () => {
  const entries = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, frame: `f${from + i}` }));

  test("an empty buffer takes every frame, up to its capacity", () => {
    const buffer = new ReplayBuffer(5);
    buffer.backfill(entries(10, 20));
    expect([buffer.oldest(), buffer.latest()]).toEqual([16, 20]);
    expect(buffer.since(17).frames).toEqual(["f18", "f19", "f20"]);
  });

  test("older frames go before the buffered ones when they join up; overlaps are not duplicated", () => {
    const buffer = new ReplayBuffer(10);
    buffer.push(7, "live7");
    buffer.push(8, "live8");
    buffer.backfill(entries(3, 7));
    expect(buffer.since(2).frames).toEqual(["f3", "f4", "f5", "f6", "live7", "live8"]);
  });

  test("older frames with a gap before the buffered ones are dropped, keeping the live run", () => {
    const buffer = new ReplayBuffer(10);
    buffer.push(9, "live9");
    buffer.backfill(entries(3, 6));
    expect([buffer.oldest(), buffer.latest()]).toEqual([9, 9]);
  });

  test("clear lets the stream restart at any seq", () => {
    const buffer = new ReplayBuffer(3);
    buffer.push(1, "a");
    buffer.clear();
    expect(buffer.latest()).toBeNull();
    buffer.push(40, "b");
    expect(buffer.since(39).frames).toEqual(["b"]);
  });
});
