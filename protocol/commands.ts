/**
 * The command table: every command a client can send a drone, its
 * positional arguments (each with the model field it fills, its unit and
 * the range accepted on the wire) and a one-line description.
 *
 * Everything that needs a command's shape derives it from this table:
 * building the model request from wire arguments, formatting a request back
 * to text, finding which wire argument a model field came from, and checking
 * arguments. Pure; whether a command makes sense for a drone right now is
 * the model's question, not this file's.
 */
import type { PilotCommand } from "../src/core/vehicle/geo-goto.ts";
import type { ProtocolError } from "./errors.ts";
import { describeType, failure, preview } from "./received.ts";

/** A validated request for a drone: a pilot's command (a vehicle command or `gotogeo`), or `status` which the server answers itself. */
export type DroneRequest = { name: "status" } | PilotCommand;

/** The model fields a request of this name carries (`distance`, `x`...): what an argument fills. */
type FieldsOf<Name extends DroneRequest["name"]> = Exclude<keyof Extract<DroneRequest, { name: Name }>, "name"> & string;

/** One positional number argument of a command: the model field it fills, its name for people, unit and wire range. */
export interface NumberArgSpec<Field extends string = string> {
  kind: "number";
  /** The field of the model's command this argument fills, e.g. `metresPerSecond`. */
  field: Field;
  /** The argument's name in help and error messages, e.g. `speed`. */
  name: string;
  unit: string;
  min: number;
  max: number;
}

/**
 * One positional word argument: a name such as an autopilot's flight mode.
 * Case-insensitive on the wire and carried upper-cased (`guided` is
 * `GUIDED`); whether the vehicle knows the name is the vehicle's question.
 */
export interface WordArgSpec<Field extends string = string> {
  kind: "word";
  field: Field;
  name: string;
  /** What the word names, for help and errors, e.g. `an autopilot flight mode such as GUIDED`. */
  describes: string;
}

export type ArgSpec<Field extends string = string> = NumberArgSpec<Field> | WordArgSpec<Field>;

/** A word argument: a letter, then letters, digits, `_` or `.`, at most 32 (every autopilot mode name fits: `SMART_RTL`, PX4's `AUTO.LOITER`). */
const wordPattern = /^[A-Za-z][A-Za-z0-9_.]{0,31}$/;

const distance = { kind: "number", field: "distance", name: "distance", unit: "m", min: 0.1, max: 1000 } as const;
const degrees = { kind: "number", field: "degrees", name: "degrees", unit: "deg", min: 1, max: 360 } as const;

/**
 * Every command, its arguments and a one-line description. The wire ranges
 * only reject nonsense (a distance of 1e300); the drone's own limits (speed
 * ceiling, geofence) are checked by the model with their own error codes.
 * The compiler checks each argument's `field` against the model's command.
 */
export const commandSpecs = {
  takeoff: { args: [], help: "take off and hover at 2 m" },
  land: { args: [], help: "descend and land where it is" },
  up: { args: [distance], help: "climb N metres" },
  down: { args: [distance], help: "descend N metres (not below 0.5 m: use land)" },
  left: { args: [distance], help: "fly N metres to the left of the heading" },
  right: { args: [distance], help: "fly N metres to the right of the heading" },
  forward: { args: [distance], help: "fly N metres along the heading" },
  back: { args: [distance], help: "fly N metres backwards" },
  cw: { args: [degrees], help: "turn clockwise N degrees" },
  ccw: { args: [degrees], help: "turn counter-clockwise N degrees" },
  goto: {
    args: [
      { kind: "number", field: "x", name: "x", unit: "m", min: -10_000, max: 10_000 },
      { kind: "number", field: "y", name: "y", unit: "m", min: -10_000, max: 10_000 },
      { kind: "number", field: "z", name: "z", unit: "m", min: 0, max: 10_000 },
    ],
    help: "fly to X Y Z metres from home (x east, y north, z up)",
  },
  gotogeo: {
    args: [
      { kind: "number", field: "lat", name: "latitude", unit: "deg", min: -90, max: 90 },
      { kind: "number", field: "lon", name: "longitude", unit: "deg", min: -180, max: 180 },
      { kind: "number", field: "altitude", name: "altitude", unit: "m", min: 0, max: 10_000 },
    ],
    help: "fly to LAT LON (degrees WGS-84) at ALT metres above home; the server makes it a goto from the vehicle's home, geofence checked",
  },
  speed: { args: [{ kind: "number", field: "metresPerSecond", name: "speed", unit: "m/s", min: 0.1, max: 100 }], help: "set the horizontal speed limit (max 15 m/s)" },
  velocity: {
    args: [
      { kind: "number", field: "forward", name: "forward", unit: "m/s", min: -100, max: 100 },
      { kind: "number", field: "right", name: "right", unit: "m/s", min: -100, max: 100 },
      { kind: "number", field: "up", name: "up", unit: "m/s", min: -100, max: 100 },
      { kind: "number", field: "yawRate", name: "yaw rate", unit: "deg/s", min: -360, max: 360 },
    ],
    help: "fly at FORWARD RIGHT UP m/s turning YAW deg/s for 1 s; send it again within 1 s to keep going, or the drone stops (hold-to-fly)",
  },
  hover: { args: [], help: "stop and hold position" },
  rth: { args: [], help: "return to home and land" },
  emergency: { args: [], help: "cut the motors at once (the drone falls)" },
  status: { args: [], help: "report the drone's state" },
  arm: { args: [], help: "arm the motors on the ground (real vehicles; takeoff arms by itself)" },
  disarm: { args: [], help: "disarm the motors on the ground (real vehicles; the autopilot refuses in flight: use emergency)" },
  mode: { args: [{ kind: "word", field: "mode", name: "mode", describes: "an autopilot flight mode such as GUIDED, LOITER, RTL or AUTO.LOITER" }], help: "switch the autopilot to a flight mode by name, e.g. mode LOITER (real vehicles)" },
} as const satisfies { [Name in DroneRequest["name"]]: { args: readonly ArgSpec<FieldsOf<Name>>[]; help: string } };

export type CommandName = keyof typeof commandSpecs;
export const commandNames = Object.keys(commandSpecs) as CommandName[];

/** Whether a string (already lowercased) names a command of the table. */
export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandSpecs, name);
}

function argsOf(name: CommandName): readonly ArgSpec[] {
  return commandSpecs[name].args;
}

/** A command argument as it travels: a number, or a word (upper-cased once checked). */
export type CommandArg = number | string;

/** Builds the model request from a command name and its checked arguments, in table order. */
export function buildRequest(name: CommandName, args: readonly CommandArg[]): DroneRequest {
  const request: Record<string, unknown> = { name };
  const specs = argsOf(name);
  for (let i = 0; i < specs.length; i++) request[specs[i]!.field] = args[i];
  return request as DroneRequest;
}

/** The wire arguments of a request, in table order: `goto 1 2 3` gives `[1, 2, 3]`, `mode LOITER` gives `["LOITER"]`. */
export function requestArgs(request: DroneRequest): CommandArg[] {
  const fields = request as unknown as Record<string, CommandArg>;
  return argsOf(request.name).map((spec) => fields[spec.field]!);
}

/** Formats a request back into the text grammar, e.g. `forward 20`. */
export function formatRequest(request: DroneRequest): string {
  return [request.name, ...requestArgs(request)].join(" ");
}

/**
 * The position of the argument a model field came from, or -1. The model
 * names an argument by its command field (`metresPerSecond`) or by the
 * argument's name (`speed`, as its messages do); both are found.
 */
export function argumentIndex(command: CommandName, field: string): number {
  return argsOf(command).findIndex((spec) => spec.field === field || spec.name === field);
}

/** Refuses a name that is not a command, listing those that are and shortening what it echoes. */
export function unknownCommand(received: string, field: string): { ok: false; error: ProtocolError } {
  const shown = received.length > 40 ? `${received.slice(0, 40)}...` : received;
  return failure("unknown_command", `unknown command ${JSON.stringify(shown)}: expected one of ${commandNames.join(", ")}`, field);
}

/**
 * Checks argument count, type and range against the command table. `field`
 * is where the arguments sit (`args` in text, `data.args` in JSON); a bad
 * argument is named `<field>[i]`.
 */
export function checkArgs(name: CommandName, args: readonly unknown[], field: string): { ok: true; args: CommandArg[] } | { ok: false; error: ProtocolError } {
  const specs = argsOf(name);
  if (args.length !== specs.length) {
    const expected = specs.length === 0 ? "no arguments" : specs.map((spec) => `${spec.name} (${spec.kind === "word" ? spec.describes : spec.unit})`).join(", ");
    return failure("invalid_args", `${name} takes ${expected}: received ${args.length} argument${args.length === 1 ? "" : "s"}`, field);
  }
  const checked: CommandArg[] = [];
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    const value = args[i];
    const where = `${field}[${i}]`;
    if (spec.kind === "word") {
      if (typeof value !== "string" || !wordPattern.test(value)) {
        return failure("invalid_args", `${spec.name} of ${name} must be ${spec.describes} (letters, digits, _ and .): received ${preview(value)}`, where);
      }
      checked.push(value.toUpperCase());
      continue;
    }
    if (typeof value !== "number") {
      return failure("invalid_args", `${spec.name} of ${name} must be a number, not ${describeType(value)}: received ${preview(value)}`, where);
    }
    if (!Number.isFinite(value)) return failure("invalid_args", `${spec.name} of ${name} must be a finite number: received ${value}`, where);
    if (value < spec.min || value > spec.max) {
      return failure("out_of_range", `${spec.name} of ${name} must be from ${spec.min} to ${spec.max} ${spec.unit}: received ${value}`, where);
    }
    checked.push(value);
  }
  return { ok: true, args: checked };
}
