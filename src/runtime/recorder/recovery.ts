/**
 * Restart recovery: what the flight recorder kept of each vehicle when the
 * last process stopped (or was killed), read back before the server starts,
 * so a vehicle comes back where it was and its telemetry stream carries on
 * in the same epoch with seq continuing.
 *
 * Owns reading that state from a store; `FlightService.restore` and
 * `Recorder.resumeFlight` apply it. Never touches the fleet itself.
 */
import type { FlightSummary } from "../../core/recorder/flights.ts";
import type { TelemetryData } from "../../../protocol/index.ts";
import type { RecorderStore, StreamRow } from "./store.ts";

/** One vehicle's recorded state. */
export interface VehicleRecovery {
  drone: string;
  stream: StreamRow;
  /** The newest frame's data as of the last flush: where the vehicle was. */
  last: TelemetryData;
  /** The flight open when it stopped, if it was airborne. */
  openFlight: FlightSummary | null;
}

/** Why a command acknowledged before a restart ended as failed. */
export const unfinishedCommandReason = "the server stopped before the command ended";

/**
 * Reads what each of `drones` needs to carry on (vehicles never recorded
 * are left out), and ends as failed the commands the stopped process never
 * ended: nothing will complete them now. `nowMs`: wall-clock ms.
 */
export async function readRecovery(store: RecorderStore, drones: readonly string[], nowMs: number): Promise<VehicleRecovery[]> {
  await store.failUnfinishedCommands(unfinishedCommandReason, nowMs);
  const streams = new Map((await store.streams()).map((stream) => [stream.drone, stream]));
  const recovered: VehicleRecovery[] = [];
  for (const drone of drones) {
    const stream = streams.get(drone);
    if (!stream) continue;
    const flight = stream.flightId === null ? null : await store.flight(stream.flightId);
    const openFlight = flight !== null && flight.endedAt === null ? { ...flight, endReason: null } : null;
    recovered.push({
      drone,
      stream,
      last: JSON.parse(stream.data) as TelemetryData,
      openFlight,
    });
  }
  return recovered;
}
