/**
 * The dashboard's telemetry rate choice: what a stored value names, and the
 * rate a page starts at (stored choice, else the browser's data saver).
 */
import { describe, expect, test } from "bun:test";
import { initialTelemetryRate, parseTelemetryRate, telemetryRates } from "../../../client/web/ui/telemetry-rate.ts";
import { maxHzRange } from "../../../protocol/index.ts";

describe("telemetry rate", () => {
  test("a stored value names an offered rate, 'full' every frame; anything else names none", () => {
    expect(parseTelemetryRate("full")).toBeNull();
    expect(parseTelemetryRate("1")).toBe(1);
    expect(parseTelemetryRate("5")).toBe(5);
    for (const bad of [null, "", "0", "3", "-1", "1e3", "NaN", "full "]) expect(parseTelemetryRate(bad)).toBeUndefined();
  });

  test("the stored choice wins; without one a data-saving browser starts at 1 a second, any other at every frame", () => {
    expect(initialTelemetryRate("2", true)).toBe(2);
    expect(initialTelemetryRate("full", true)).toBeNull();
    expect(initialTelemetryRate(null, true)).toBe(1);
    expect(initialTelemetryRate(null, false)).toBeNull();
    expect(initialTelemetryRate("garbage", false)).toBeNull();
  });

  test("every rate offered is one the server accepts", () => {
    for (const rate of telemetryRates) if (rate !== null) expect(rate >= maxHzRange.min && rate <= maxHzRange.max).toBe(true);
  });
});
