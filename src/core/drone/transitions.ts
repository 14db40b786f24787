/**
 * The bookkeeping every state change shares: state_changed and the
 * command_done / command_failed of the task in progress.
 *
 * Owns the rule that each transition and each task ending is reported exactly
 * once. Helpers take the event list of the current applyCommand or tick call
 * and append to it; they never mutate the drone they are given.
 */
import type { DroneEvent, DroneState, FlightState } from "./types.ts";

/** `drone` in flight state `to`, reporting the change if there is one. */
export function changeState(drone: DroneState, to: FlightState, events: DroneEvent[]): DroneState {
  if (drone.state === to) return drone;
  events.push({ type: "state_changed", from: drone.state, to });
  return { ...drone, state: to };
}

/** `drone` with no task, reporting the task in progress (if any) as failed for `reason`. */
export function failTask(drone: DroneState, reason: string, events: DroneEvent[]): DroneState {
  if (drone.task === null) return drone;
  events.push({ type: "command_failed", token: drone.task.token, reason });
  return { ...drone, task: null };
}

/** `drone` with no task, reporting the task in progress (if any) as done. */
export function finishTask(drone: DroneState, events: DroneEvent[]): DroneState {
  if (drone.task === null) return drone;
  events.push({ type: "command_done", token: drone.task.token });
  return { ...drone, task: null };
}
