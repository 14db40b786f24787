/**
 * Driving the pure drone model in unit tests: tick for a while in fixed
 * steps, tick until a condition holds, apply a command that must be accepted
 * or refused, and pick events out of a run.
 *
 * Time only moves through `tick`; nothing here sleeps or reads the clock.
 */
import { applyCommand, createDrone, tick } from "../../src/core/drone/model.ts";
import type { DroneCommand, DroneEvent, DroneLimits, DroneState } from "../../src/core/drone/types.ts";

/** Default simulation step, seconds. */
export const step = 0.1;

/** Where a run ended and every event it produced, in order. */
export interface Run {
  drone: DroneState;
  events: DroneEvent[];
}

/** Ticks `seconds` of time in steps of `dt`, collecting every event. */
export function run(drone: DroneState, seconds: number, dt = step): Run {
  const events: DroneEvent[] = [];
  let current = drone;
  const steps = Math.round(seconds / dt);
  for (let i = 0; i < steps; i++) {
    const out = tick(current, dt);
    current = out.drone;
    events.push(...out.events);
  }
  return { drone: current, events };
}

/** Ticks until `done` holds, failing the test if it takes longer than `maxSeconds`. */
export function runUntil(drone: DroneState, done: (d: DroneState) => boolean, maxSeconds = 600, dt = step): Run & { seconds: number } {
  const events: DroneEvent[] = [];
  let current = drone;
  let seconds = 0;
  while (!done(current)) {
    if (seconds > maxSeconds) throw new Error(`condition not reached in ${maxSeconds} s (state ${current.state})`);
    const out = tick(current, dt);
    current = out.drone;
    events.push(...out.events);
    seconds += dt;
  }
  return { drone: current, events, seconds };
}

/** Applies a command that must be accepted. */
export function command(drone: DroneState, cmd: DroneCommand, token = 1): Run {
  const out = applyCommand(drone, cmd, token);
  if (!out.result.accepted) throw new Error(`${cmd.name} rejected: ${out.result.code} ${out.result.message}`);
  return { drone: out.drone, events: out.events };
}

/** Applies a command that must be refused, and returns the refusal. */
export function rejection(drone: DroneState, cmd: DroneCommand) {
  const out = applyCommand(drone, cmd, 9);
  if (out.result.accepted) throw new Error(`${cmd.name} was accepted`);
  return { ...out, result: out.result };
}

/** A drone hovering at the takeoff altitude above home. */
export function hovering(limits: Partial<DroneLimits> = {}): DroneState {
  const taken = command(createDrone("test", limits), { name: "takeoff" }, 100);
  return runUntil(taken.drone, (d) => d.state === "hovering").drone;
}

/** A drone hovering at (x, y, z), with heading 0. */
export function hoveringAt(x: number, y: number, z: number, limits: Partial<DroneLimits> = {}): DroneState {
  const started = command(hovering(limits), { name: "goto", x, y, z }, 101);
  return runUntil(started.drone, (d) => d.state === "hovering").drone;
}

/** The events of one type, typed as that type. */
export function ofType<T extends DroneEvent["type"]>(events: DroneEvent[], type: T): Extract<DroneEvent, { type: T }>[] {
  return events.filter((e): e is Extract<DroneEvent, { type: T }> => e.type === type);
}

/** The state changes among `events`, as "from->to". */
export function transitions(events: DroneEvent[]): string[] {
  return ofType(events, "state_changed").map((e) => `${e.from}->${e.to}`);
}

/** Freezes `value` and everything inside it, so a mutation throws. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
