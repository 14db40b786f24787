/**
 * The simulator flying a mission: each item is a short queue of the flight
 * model's own commands (takeoff, goto, a turn, speed) and holds, given one at
 * a time; when the model reports the last task of an item done, the item is
 * reached and the next one starts.
 *
 * Owns the mission's run state (which item, which task, a hold's time left,
 * reached items, running/paused/completed/aborted) and nothing else: flight
 * rules stay in the model (`../drone/`), which this file only calls. Pure:
 * the drone and the run in, the next drone and run and what happened out;
 * time enters only as `dtSeconds`.
 */
import { applyCommand } from "../drone/model.ts";
import type { DroneCommand, DroneEvent, DroneState } from "../drone/types.ts";
import { offsetFromHome, type LatLon } from "../vehicle/geodesy.ts";
import type { CarriedProgress, MissionItem, MissionProgress, MissionState } from "./mission.ts";
import { profileOf, remainingRoute } from "./plan.ts";

/**
 * The token of the commands the runner gives the model: below the fleet's
 * `internalToken` (0) and its pilots' tokens (1 and up), so a `command_done`
 * for it can only be the mission's.
 */
export const missionToken = -1;

/** A turn smaller than this is no turn, degrees. */
const headingToleranceDegrees = 1e-6;
/** An altitude change smaller than this is no climb, metres. */
const altitudeToleranceMetres = 1e-6;

/** A mission held by a simulated drone, and how far it has flown it. Treated as immutable. */
export interface MissionRun {
  items: readonly MissionItem[];
  /** Where the waypoints' latitudes and longitudes are measured from. */
  home: LatLon;
  state: MissionState;
  current: number;
  reached: readonly number[];
  /** The task of the current item in progress (see `taskAt`). */
  step: number;
  /** Seconds still to hold, while a hold task runs; else null. */
  holdLeftSeconds: number | null;
  reason?: string;
}

/** Something the run did, in order. */
export type MissionRunEvent = { type: "item_reached"; index: number } | { type: "state_changed"; state: MissionState; reason?: string };

/** What a runner call returns: the next drone and run, the model's events (for the vehicle to report) and the run's. */
export interface RunStep {
  drone: DroneState;
  run: MissionRun;
  droneEvents: DroneEvent[];
  events: MissionRunEvent[];
}

/** A mission just uploaded: ready, nothing flown. */
export function newRun(items: readonly MissionItem[], home: LatLon): MissionRun {
  return { items, home, state: "ready", current: 0, reached: [], step: 0, holdLeftSeconds: null };
}

type Task = { kind: "command"; command: DroneCommand } | { kind: "hold"; seconds: number } | { kind: "skip" } | { kind: "item_done" };

/** Task `step` of an item, resolved against where the drone is now. */
function taskAt(item: MissionItem, step: number, drone: DroneState, home: LatLon): Task {
  const skip: Task = { kind: "skip" };
  const done: Task = { kind: "item_done" };
  const { position } = drone;
  switch (item.type) {
    case "takeoff":
      if (step === 0) return drone.state === "landed" ? { kind: "command", command: { name: "takeoff" } } : skip;
      if (step === 1) return Math.abs(position.z - item.altitude) > altitudeToleranceMetres ? { kind: "command", command: { name: "goto", x: position.x, y: position.y, z: item.altitude } } : skip;
      return done;
    case "waypoint": {
      if (step === 0) return item.speed === undefined ? skip : { kind: "command", command: { name: "speed", metresPerSecond: Math.min(item.speed, drone.limits.maxSpeedMetresPerSecond) } };
      if (step === 1) {
        const { x, y } = offsetFromHome(home, item);
        return { kind: "command", command: { name: "goto", x, y, z: item.altitude } };
      }
      if (step === 2) {
        if (item.heading === undefined) return skip;
        const turn = ((((item.heading - drone.heading) % 360) + 540) % 360) - 180;
        if (Math.abs(turn) < headingToleranceDegrees) return skip;
        return { kind: "command", command: turn > 0 ? { name: "cw", degrees: turn } : { name: "ccw", degrees: -turn } };
      }
      if (step === 3) return (item.holdSeconds ?? 0) > 0 ? { kind: "hold", seconds: item.holdSeconds! } : skip;
      return done;
    }
    case "land":
      if (step === 0) return drone.state === "landed" ? skip : { kind: "command", command: { name: "land" } };
      return done;
    case "rth":
      if (step === 0) return drone.state === "landed" && Math.hypot(position.x, position.y) < 1 ? skip : { kind: "command", command: { name: drone.state === "landed" ? "takeoff" : "rth" } };
      if (step === 1 && drone.state !== "landed") return { kind: "command", command: { name: "rth" } };
      return done;
  }
}

/** The run in `state` (reported once per change). */
function withState(run: MissionRun, state: MissionState, events: MissionRunEvent[], reason?: string): MissionRun {
  if (run.state === state) return run;
  events.push(reason === undefined ? { type: "state_changed", state } : { type: "state_changed", state, reason });
  const { reason: _old, ...rest } = run;
  return reason === undefined ? { ...rest, state } : { ...rest, state, reason };
}

/**
 * Gives the model the run's next task, and the ones after it that end at
 * once (a speed change, a skipped turn), until one takes time, the item
 * list ends (completed) or the model refuses a task (aborted).
 */
function proceed(step: RunStep): RunStep {
  let { drone, run } = step;
  const { droneEvents, events } = step;
  // Each item has at most five tasks; the bound only guards against a bug looping forever.
  for (let guard = 0; guard < (run.items.length + 1) * 6; guard++) {
    if (run.state !== "running") break;
    if (run.current >= run.items.length) {
      run = withState(run, "completed", events);
      break;
    }
    const task = taskAt(run.items[run.current]!, run.step, drone, run.home);
    if (task.kind === "skip") {
      run = { ...run, step: run.step + 1 };
      continue;
    }
    if (task.kind === "item_done") {
      events.push({ type: "item_reached", index: run.current });
      run = { ...run, reached: [...run.reached, run.current], current: run.current + 1, step: 0 };
      continue;
    }
    if (task.kind === "hold") {
      run = { ...run, holdLeftSeconds: task.seconds };
      break;
    }
    const outcome = applyCommand(drone, task.command, missionToken);
    droneEvents.push(...outcome.events);
    if (!outcome.result.accepted) {
      run = withState(run, "aborted", events, `item ${run.current} (${task.command.name}) refused: ${outcome.result.message}`);
      break;
    }
    drone = outcome.drone;
    const finished = outcome.events.some((event) => event.type === "command_done" && event.token === missionToken);
    if (!finished) break;
    run = { ...run, step: run.step + 1 };
  }
  return { drone, run, droneEvents, events };
}

/** Starts the run from its first item. */
export function startRun(drone: DroneState, run: MissionRun): RunStep {
  const events: MissionRunEvent[] = [];
  const fresh = withState({ ...run, current: 0, reached: [], step: 0, holdLeftSeconds: null }, "running", events);
  return proceed({ drone, run: fresh, droneEvents: [], events });
}

/** Resumes a paused run: the item it was flying, from its first task, from where the drone is now. */
export function resumeRun(drone: DroneState, run: MissionRun): RunStep {
  const events: MissionRunEvent[] = [];
  const resumed = withState({ ...run, step: 0, holdLeftSeconds: null }, "running", events);
  return proceed({ drone, run: resumed, droneEvents: [], events });
}

/**
 * A run another node was flying, as it recorded it (a cluster takeover):
 * the same items, items reached and current item; one that was running is
 * paused for `reason`, since the command in progress does not carry over
 * (the drone holds where it is until the pilot resumes).
 */
export function carriedRun(items: readonly MissionItem[], home: LatLon, recorded: CarriedProgress, reason: string): MissionRun {
  const run: MissionRun = { items, home, state: recorded.state, current: recorded.current, reached: [...recorded.reached], step: 0, holdLeftSeconds: null };
  if (recorded.state === "running") return { ...run, state: "paused", reason };
  return recorded.reason === undefined ? run : { ...run, reason: recorded.reason };
}

/**
 * Pauses a running run for `reason`. The drone is not touched: the caller
 * gives the command that takes over (the pilot's, or a hover).
 */
export function pauseRun(run: MissionRun, reason: string): { run: MissionRun; events: MissionRunEvent[] } {
  const events: MissionRunEvent[] = [];
  if (run.state !== "running") return { run, events };
  return { run: withState({ ...run, holdLeftSeconds: null }, "paused", events, reason), events };
}

/**
 * What the model did in a tick or a command, as the run sees it: its task
 * done moves it on; its task failed, a battery alarm or an emergency aborts
 * it. Then `dtSeconds` of a hold in progress.
 */
export function followDrone(drone: DroneState, run: MissionRun, modelEvents: readonly DroneEvent[], dtSeconds: number): RunStep {
  const step: RunStep = { drone, run, droneEvents: [], events: [] };
  if (run.state !== "running") return step;
  // Only a hold that was running before this step counts the step's time: one that starts now starts now.
  const holding = run.holdLeftSeconds !== null;
  for (const event of modelEvents) {
    if (step.run.state !== "running") break;
    if (event.type === "command_done" && event.token === missionToken) {
      step.run = { ...step.run, step: step.run.step + 1 };
      Object.assign(step, proceed(step));
    } else if (event.type === "command_failed" && event.token === missionToken) {
      step.run = withState(step.run, "aborted", step.events, `item ${step.run.current} did not finish: ${event.reason}`);
    } else if (event.type === "low_battery" || event.type === "critical_battery") {
      step.run = withState(step.run, "aborted", step.events, `battery at ${event.battery.toFixed(1)} %: the vehicle's battery alarm took over`);
    }
  }
  const holdLeft = step.run.holdLeftSeconds;
  if (holding && step.run.state === "running" && holdLeft !== null) {
    const left = holdLeft - dtSeconds;
    step.run = left > 0 ? { ...step.run, holdLeftSeconds: left } : { ...step.run, holdLeftSeconds: null, step: step.run.step + 1 };
    if (left <= 0) Object.assign(step, proceed(step));
  }
  return step;
}

/** How far the drone is through the run (null before it started). */
export function runProgress(drone: DroneState, run: MissionRun): MissionProgress | null {
  if (run.state === "ready") return null;
  const profile = profileOf(drone.limits, drone.speedLimit);
  const left = remainingRoute(run.items, run.current, run.home, drone.position, profile);
  const holding = run.holdLeftSeconds ?? 0;
  const progress: MissionProgress = {
    current: run.current,
    reached: [...run.reached],
    distanceToGo: round(left.metres),
    etaSeconds: round(left.seconds - (holding > 0 ? heldSoFar(run, holding) : 0)),
    state: run.state,
  };
  return run.reason === undefined ? progress : { ...progress, reason: run.reason };
}

/** Seconds of the current item's hold already done. */
function heldSoFar(run: MissionRun, holdLeft: number): number {
  const item = run.items[run.current];
  return item?.type === "waypoint" ? Math.max(0, (item.holdSeconds ?? 0) - holdLeft) : 0;
}

/** To the decimetre (or tenth of a second): what a viewer reads. */
function round(value: number): number {
  return Math.round(value * 10) / 10;
}
