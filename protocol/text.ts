/**
 * The text grammar, modelled on the Tello SDK: a line in (`takeoff`,
 * `forward 20`, `goto 10 -5 30`, `claim`), and the lines that carry no
 * request-specific wording out: the error line and the `status` line.
 *
 * Shared by the server and the CLI so both say the same thing. Pure.
 */
import { buildRequest, checkArgs, commandSpecs, isCommandName, unknownCommand, type CommandArg, type DroneRequest } from "./commands.ts";
import type { ProtocolError } from "./errors.ts";
import { failure } from "./received.ts";
import type { TelemetryData } from "./messages.ts";

/** What a text line can ask for: a drone request, or a lease change. `text` is the line, lowercased and single-spaced. */
export type TextLine =
  | { kind: "request"; request: DroneRequest; text: string }
  | { kind: "claim"; text: string }
  | { kind: "release"; text: string };

/** A plain decimal: `2.5`, `-3`, `.5`; never `1e3`, `0x10`, `NaN` or `Infinity`. */
const plainDecimal = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Parses a line of the text grammar (case-insensitive, any spacing). */
export function parseTextLine(text: string): { ok: true; line: TextLine } | { ok: false; error: ProtocolError } {
  const words = text.trim().split(/\s+/).filter((word) => word !== "");
  if (words.length === 0) return failure("unknown_command", "empty command: send a command such as takeoff or forward 10");
  const name = words[0]!.toLowerCase();
  const canonical = words.join(" ").toLowerCase();
  if (name === "claim" || name === "release") {
    if (words.length > 1) return failure("invalid_args", `${name} takes no arguments: received ${words.length - 1}`, "args");
    return { ok: true, line: { kind: name, text: canonical } };
  }
  if (!isCommandName(name)) return unknownCommand(words[0]!, "command");
  // Count first: "takeoff now" is best told that takeoff takes no arguments.
  if (words.length - 1 !== commandSpecs[name].args.length) return checkArgs(name, words.slice(1), "args") as { ok: false; error: ProtocolError };
  const args: CommandArg[] = [];
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (commandSpecs[name].args[i - 1]!.kind === "word") {
      args.push(word);
      continue;
    }
    if (!plainDecimal.test(word)) {
      return failure("invalid_args", `argument ${i} of ${name} must be a number: received ${JSON.stringify(word)}`, `args[${i - 1}]`);
    }
    args.push(Number(word));
  }
  const checked = checkArgs(name, args, "args");
  if (!checked.ok) return checked;
  return { ok: true, line: { kind: "request", request: buildRequest(name, checked.args), text: canonical } };
}

/** The text-grammar reply for an error: `error <code>: <message>`. */
export function errorLine(error: ProtocolError): string {
  return `error ${error.code}: ${error.message}`;
}

/**
 * A drone's state in one line a person can read, e.g.
 * `alpha hovering x=0.00 y=20.00 z=2.00 heading=0 speed=0.00 battery=97.9% pilot=you`.
 * `session` is the reader's own session (its pilot shows as `you`), or null
 * for a reader without one.
 */
export function describeStatus(drone: TelemetryData, session: string | null): string {
  const { pilot, speed } = drone;
  const { x, y, z } = drone.position;
  return [
    drone.drone,
    drone.state,
    `x=${x.toFixed(2)}`,
    `y=${y.toFixed(2)}`,
    `z=${z.toFixed(2)}`,
    `heading=${Math.round(drone.heading)}`,
    `speed=${speed.toFixed(2)}`,
    `battery=${drone.battery.toFixed(1)}%`,
    `pilot=${pilot === null ? "none" : pilot === session ? "you" : pilot}`,
  ].join(" ");
}
