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
  /** The newest recorded frame's data: where the vehicle was. */
  last: TelemetryData | null;
  /** The newest recorded frames of the stream, oldest first, for the replay buffer. */
  recent: { seq: number; data: string }[];
  /** The flight open when it stopped, if it was airborne. */
  openFlight: FlightSummary | null;
}

/** Reads what each of `drones` needs to carry on; vehicles never recorded are left out. */
export async function readRecovery(store: RecorderStore, drones: readonly string[], replayFrames: number): Promise<VehicleRecovery[]> {
  const streams = new Map((await store.streams()).map((stream) => [stream.drone, stream]));
  const recovered: VehicleRecovery[] = [];
  for (const drone of drones) {
    const stream = streams.get(drone);
    if (!stream) continue;
    const frames = await store.latestFrames(drone, stream.epoch, replayFrames);
    const newest = frames.at(-1);
    const flight = stream.flightId === null ? null : await store.flight(stream.flightId);
    const openFlight = flight !== null && flight.endedAt === null ? { ...flight, endReason: null } : null;
    recovered.push({
      drone,
      stream,
      last: newest === undefined ? null : (JSON.parse(newest.data) as TelemetryData),
      recent: frames.map((frame) => ({ seq: frame.seq, data: frame.data })),
      openFlight,
    });
  }
  return recovered;
}
