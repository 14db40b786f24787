/**
 * The replay cursor on an injected clock: the position follows the clock
 * times the speed, holds while paused, jumps on seek, never leaves the flight.
 */
import { describe, expect, test } from "bun:test";
import { ReplayCursor } from "../../../src/core/replay/cursor.ts";
import { FakeClock } from "../../support/fake-clock.ts";

function cursorOn(clock: FakeClock, durationMs = 60_000, speed = 1, positionMs = 0): ReplayCursor {
  return new ReplayCursor({ durationMs, speed, positionMs, nowMs: clock.now() });
}

describe("the replay cursor", () => {
  test("moves with the clock at its speed", () => {
    const clock = new FakeClock();
    const cursor = cursorOn(clock, 60_000, 4);
    expect(cursor.positionMs(clock.now())).toBe(0);
    clock.advance(1000);
    expect(cursor.positionMs(clock.now())).toBe(4000);
    clock.advance(250);
    expect(cursor.positionMs(clock.now())).toBe(5000);
  });

  test("keeps the position so far when the speed changes", () => {
    const clock = new FakeClock();
    const cursor = cursorOn(clock, 60_000, 2);
    clock.advance(1000);
    cursor.setSpeed(0.5, clock.now());
    expect(cursor.speed).toBe(0.5);
    clock.advance(1000);
    expect(cursor.positionMs(clock.now())).toBe(2500);
  });

  test("holds while paused and runs on from there", () => {
    const clock = new FakeClock();
    const cursor = cursorOn(clock, 60_000, 1, 10_000);
    clock.advance(3000);
    cursor.setPaused(true, clock.now());
    clock.advance(20_000);
    expect(cursor.paused).toBe(true);
    expect(cursor.positionMs(clock.now())).toBe(13_000);
    cursor.setPaused(false, clock.now());
    clock.advance(1000);
    expect(cursor.positionMs(clock.now())).toBe(14_000);
  });

  test("seeks back and forward, paused or not, clamped into the flight", () => {
    const clock = new FakeClock();
    const cursor = cursorOn(clock, 30_000, 2);
    clock.advance(5000);
    cursor.seek(1000, clock.now());
    expect(cursor.positionMs(clock.now())).toBe(1000);
    clock.advance(500);
    expect(cursor.positionMs(clock.now())).toBe(2000);
    cursor.setPaused(true, clock.now());
    cursor.seek(25_000, clock.now());
    clock.advance(5000);
    expect(cursor.positionMs(clock.now())).toBe(25_000);
    cursor.seek(-5, clock.now());
    expect(cursor.positionMs(clock.now())).toBe(0);
    cursor.seek(99_000, clock.now());
    expect(cursor.positionMs(clock.now())).toBe(30_000);
    expect(cursor.ended(clock.now())).toBe(true);
  });

  test("stops at the flight's end and says so", () => {
    const clock = new FakeClock();
    const cursor = cursorOn(clock, 10_000, 16);
    clock.advance(600);
    expect(cursor.ended(clock.now())).toBe(false);
    clock.advance(400);
    expect(cursor.positionMs(clock.now())).toBe(10_000);
    expect(cursor.ended(clock.now())).toBe(true);
  });

  test("refuses a speed or duration it cannot run, saying what it received", () => {
    const clock = new FakeClock();
    expect(() => cursorOn(clock, 1000, 0)).toThrow("a replay's speed must be > 0: received 0");
    expect(() => cursorOn(clock, -1)).toThrow("a replay's duration must be >= 0 ms: received -1");
    expect(() => cursorOn(clock).setSpeed(-2, clock.now())).toThrow("received -2");
  });
});
