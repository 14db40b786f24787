/**
 * The Bun pub/sub topics telemetry travels on: one per vehicle (its frames,
 * leases and events) and one for the all-vehicles subscription (`*`: one
 * `telemetry_batch` per tick plus every vehicle's leases and events).
 * Names only; publishing is `telemetry-streams.ts`'s, subscribing the endpoints'.
 */
import { allDrones } from "../../protocol/index.ts";

/** The Bun pub/sub topic that carries one drone's telemetry, leases and events. */
export function telemetryTopic(droneId: string): string {
  return droneId === allDrones ? fleetTopic : `drone:${droneId}`;
}

/**
 * The topic of the all-drones subscription: one `telemetry_batch` per tick
 * with every drone's frame, plus every drone's leases and events.
 */
export const fleetTopic = "fleet";

/**
 * The topic of the all-drones subscription restricted to some drones (a
 * client allowed to view only those): their batch, leases and events.
 */
export function fleetViewTopic(droneIds: readonly string[]): string {
  return `fleet:${[...droneIds].sort().join(",")}`;
}

/**
 * The topic a throttled subscription (`subscribe` `maxHz`) to `topic`
 * listens on: the same leases and events, none of the frames, which reach
 * it through its throttle (`throttled-viewers.ts`) instead.
 */
export function noticeTopic(topic: string): string {
  return `notices:${topic}`;
}
