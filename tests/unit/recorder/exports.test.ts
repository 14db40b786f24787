import { describe, expect, test } from "bun:test";
import { exportWriter, geodeticOf, isoTime, type RecordedFrame } from "../../../src/core/recorder/exports.ts";

const frame = (extra: Partial<RecordedFrame> = {}): RecordedFrame => ({
  seq: 3,
  time: Date.UTC(2026, 0, 1, 12, 0, 0, 250),
  state: "moving",
  position: { x: 111.32, y: -222.64, z: 5 },
  velocity: { x: 1, y: 0, z: 0 },
  heading: 90,
  speed: 1,
  battery: 97.5,
  flags: { lowBattery: false, criticalBattery: false, emergencyStopped: false, failsafe: false },
  pilot: 'say "hi", pilot',
  ...extra,
});

describe("exports", () => {
  test("ISO times match Date's for dates across eras, leap days and the epoch", () => {
    for (const ms of [0, 951_782_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2100, 2, 1), 1_767_225_600_123]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  test("a frame without a geodetic position is placed about 0°N 0°E by its metres; one with lat/lon keeps them", () => {
    const local = geodeticOf(frame());
    expect(local.lat).toBeCloseTo(-0.002, 5);
    expect(local.lon).toBeCloseTo(0.001, 5);
    expect(geodeticOf(frame({ lat: -35.36, lon: 149.16, altitudeMsl: 590 }))).toEqual({ lat: -35.36, lon: 149.16, alt: 590, absolute: true });
  });

  test("CSV quotes fields with commas and quotes, and leaves missing geodetic fields empty", () => {
    const row = exportWriter("csv").frame(frame(), 0);
    expect(row).toStartWith("2026-01-01T12:00:00.250Z,1767268800250,3,moving,111.32,-222.64,5,1,0,0,90,1,97.5,,,,false,false,false,false,");
    expect(row).toEndWith(`"say ""hi"", pilot"\r\n`);
  });

  test("XML formats escape names", () => {
    expect(exportWriter("gpx").header({ id: "a-1", drone: "a<b", startedAt: 0 })).toContain("a&lt;b a-1");
  });
});
