/**
 * The dashboard's pure status logic: the battery's time left, a chart
 * broken at a stream reset, other drones grouped under one label per
 * place, event severities and spoken alerts, and the sign-in storage.
 */
import { describe, expect, test } from "bun:test";
import { formatTimeLeft, secondsToEmpty } from "../../../client/web/battery-estimate.ts";
import { DroneHistory, type Sample } from "../../../client/web/dashboard-history.ts";
import { eventSeverity, spokenAlert } from "../../../client/web/ui/event-severity.ts";
import { groupByPlace, groupLabel } from "../../../client/web/ui/map-scale.ts";
import { loadTokens, saveTokens, tokensStorageKey } from "../../../client/web/ui/sign-in.ts";
import { splitAtBreaks } from "../../../client/web/ui/sparkline.ts";
import { hoveringFrame } from "../protocol-fixtures.ts";

/** Samples every 100 ms from `start` % falling at `percentPerSecond`. */
function draining(start: number, percentPerSecond: number, count: number): Sample[] {
  return Array.from({ length: count }, (_, i) => ({ time: i * 100, value: start - (percentPerSecond * i) / 10 }));
}

describe("battery time left", () => {
  test("extrapolates the recent drain to empty", () => {
    const seconds = secondsToEmpty(draining(50, 0.1, 100))!;
    // 50 % minus 9.9 s at 0.1 %/s leaves 49.01 %: 490 s at 0.1 %/s.
    expect(seconds).toBeCloseTo(490.1, 0);
    expect(formatTimeLeft(seconds)).toBe("≈ 8 min left");
    expect(formatTimeLeft(42)).toBe("≈ 42 s left");
  });

  test("no estimate on the ground, with too few samples, or across a reset", () => {
    expect(secondsToEmpty(draining(80, 0, 100))).toBeNull();
    expect(secondsToEmpty(draining(80, 0.1, 3))).toBeNull();
    expect(secondsToEmpty([])).toBeNull();
    expect(formatTimeLeft(null)).toBe("");
  });
});

describe("a stream reset breaks the charts", () => {
  test("the first frame of a new stream starts a new segment; replayed duplicates are ignored", () => {
    const history = new DroneHistory();
    const frame = hoveringFrame;
    history.add({ ...frame, seq: 10, time: 1000, position: { ...frame.position, z: 12 } });
    history.add({ ...frame, seq: 11, time: 1100, position: { ...frame.position, z: 12 } });
    history.add({ ...frame, seq: 10, time: 1000 }); // replayed: older seq, older time
    history.add({ ...frame, seq: 1, time: 5000, position: { ...frame.position, z: 0 } }); // the server restarted
    history.add({ ...frame, seq: 2, time: 5100, position: { ...frame.position, z: 0 } });
    expect(splitAtBreaks(history.altitude).map((segment) => segment.map((sample) => sample.value))).toEqual([[12, 12], [0, 0]]);
  });

  test("stream_reset marks the break before the next frame even if its seq runs on", () => {
    const history = new DroneHistory();
    const frame = hoveringFrame;
    history.add({ ...frame, seq: 1, time: 1000 });
    history.streamReset();
    history.add({ ...frame, seq: 2, time: 1100 });
    expect(splitAtBreaks(history.battery)).toHaveLength(2);
    expect(history.trail).toHaveLength(1);
  });
});

describe("other drones on the map", () => {
  const at = (drone: string, x: number, y: number) => ({ drone, position: { x, y } });

  test("drones at one place share one label; a drone elsewhere has its own", () => {
    const groups = groupByPlace([at("beta", 0, 0), at("gamma", 0.5, 0), at("delta", 40, 0)], 2);
    expect(groups.map((group) => group.map((frame) => frame.drone))).toEqual([["beta", "gamma"], ["delta"]]);
  });

  test("a long list is cut with a count, never stacked", () => {
    const ids = Array.from({ length: 13 }, (_, i) => `d${i + 1}`);
    expect(groupLabel(ids)).toBe("d1, d2, d3 +10 more");
    expect(groupLabel(["beta"])).toBe("beta");
  });
});

describe("events", () => {
  test("severity by kind, and for autopilot texts by the autopilot's own severity", () => {
    expect(eventSeverity({ kind: "failsafe" })).toBe("danger");
    expect(eventSeverity({ kind: "low_battery" })).toBe("warn");
    expect(eventSeverity({ kind: "pilot_regained" })).toBe("ok");
    expect(eventSeverity({ kind: "autopilot", severity: "critical" })).toBe("danger");
    expect(eventSeverity({ kind: "autopilot", severity: "info" })).toBe("info");
  });

  test("a spoken alert names the drone and the event in words", () => {
    expect(spokenAlert({ drone: "alpha", kind: "critical_battery", message: "battery 9 %" })).toBe("alpha: critical battery");
    expect(spokenAlert({ drone: "alpha", kind: "autopilot", message: "PreArm: Need Position Estimate" })).toBe("alpha: PreArm: Need Position Estimate");
  });
});

describe("sign-in storage", () => {
  test("tokens round-trip through session storage; none removes the key; junk reads as none", () => {
    const store = new Map<string, string>();
    const storage = { getItem: (key: string) => store.get(key) ?? null, setItem: (key: string, value: string) => void store.set(key, value), removeItem: (key: string) => void store.delete(key) };
    saveTokens({ token: "v", pilotToken: "p" }, storage);
    expect(loadTokens(storage)).toEqual({ token: "v", pilotToken: "p" });
    saveTokens({}, storage);
    expect(store.has(tokensStorageKey)).toBe(false);
    store.set(tokensStorageKey, "{not json");
    expect(loadTokens(storage)).toEqual({});
    store.set(tokensStorageKey, JSON.stringify({ token: 7, pilotToken: "" }));
    expect(loadTokens(storage)).toEqual({});
  });
});
