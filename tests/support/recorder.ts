/**
 * Test helpers for the flight recorder: a temporary data directory removed
 * afterwards, and rows to write.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandRow, FlightRow, FrameRow } from "../../src/runtime/recorder/store.ts";

/** A fresh directory under the system's temp dir; `remove()` deletes it with everything in it. */
export function tempDataDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "skyport-recorder-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A closed flight of `drone` that started at `startedAt`. */
export function flightRow(id: string, drone: string, startedAt: number, overrides: Partial<FlightRow> = {}): FlightRow {
  return { id, drone, startedAt, endedAt: startedAt + 60_000, endReason: "landed", maxAltitude: 10, distance: 25, batteryStart: 100, batteryEnd: 96, pilot: "s-1", pilotUser: null, frames: 0, ...overrides };
}

/** A frame of `drone` at `time` with a small position in its data. */
export function frameRow(drone: string, seq: number, time: number, flightId: string | null, epoch = "e1"): FrameRow {
  return { drone, epoch, seq, time, flightId, data: JSON.stringify({ drone, seq, time, state: "hovering", position: { x: seq, y: 0, z: 5 } }) };
}

/** A command of `drone` received at `receivedAt`, acked and completed a second later. */
export function commandRow(id: string, drone: string, flightId: string | null, receivedAt: number): CommandRow {
  return {
    id,
    drone,
    flightId,
    session: "s-1",
    userName: null,
    requestId: JSON.stringify(7),
    request: JSON.stringify({ label: "takeoff", form: "json", command: { name: "takeoff" } }),
    receivedAt,
    answer: "ack",
    answerDetail: JSON.stringify({ x: 0, y: 0, z: 5 }),
    answeredAt: receivedAt,
    outcome: "completed",
    outcomeReason: null,
    endedAt: receivedAt + 1000,
    durationMs: 1000,
  };
}
