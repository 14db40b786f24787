/**
 * `cli.ts watch`: a live view of one drone: state, position, heading,
 * speed, battery, pilot, last event, and the connection with its reconnect
 * countdown. On a TTY it redraws one block in place with ANSI cursor moves;
 * otherwise (pipes, tests) it prints one plain line per redraw. Redraws are
 * throttled; Ctrl-C closes cleanly and exits 0.
 */
import { parseFlags, UsageError } from "../args.ts";
import { maxHzRange } from "../../../protocol/index.ts";
import type { ConnectionState, ReconnectInfo, TelemetryData } from "../../sdk/index.ts";
import { ansi, fit, gauge, paint, type Colour } from "../term.ts";
import { describePosition, droneFlagsUsage, droneTarget, droneFlags, openDroneLink } from "./drone-link.ts";

export const watchUsage = `usage: skyport watch [--url URL] [--drone ID] [--max-hz N]

Shows one drone's telemetry live: state, position, heading, speed, battery,
pilot and the last event, with the connection's state and its reconnect
countdown. Redraws in place on a terminal, prints a line per update
otherwise. Ctrl-C exits.

--drone replay:<flight-id> watches a recorded flight played back (started
at 1x if nobody plays it yet; the flight ids are in skyport flights).

flags:
${droneFlagsUsage}
  --max-hz N   at most N frames a second, each the latest (${maxHzRange.min} to ${maxHzRange.max}), for a slow link (default: every frame)
  --help       print this help`;

/** Shortest time between redraws, ms: at most 10 a second, the default telemetry rate. */
const minRedrawIntervalMs = 100;
/** Cells in the battery gauge. */
const batteryGaugeCells = 20;
/** Battery percentages below which the gauge turns yellow, then red. */
const batteryWarnPercent = 50;
const batteryAlarmPercent = 20;
/** Width assumed when the terminal does not say. */
const defaultColumns = 80;

/** Everything the view shows; redrawn from scratch each time. */
interface WatchModel {
  drone: string;
  url: string;
  connection: ConnectionState;
  session: string | null;
  reconnect: ReconnectInfo | null;
  frame: TelemetryData | null;
  lastEvent: string | null;
}

export async function runWatch(argv: string[]): Promise<number> {
  const args = parseFlags(argv, [...droneFlags, "max-hz"]);
  if (args.flags.help) {
    console.log(watchUsage);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`watch takes no arguments: received ${JSON.stringify(args.positionals[0])}`);
  const target = droneTarget(args.flags);
  const maxHz = maxHzFlag(args.flags["max-hz"]);
  const link = await openDroneLink("watch", target, maxHz === undefined ? {} : { maxHz });
  if (link === null) return 1;
  const { client, drone } = link;

  const tty = process.stdout.isTTY === true;
  const model: WatchModel = { drone, url: target.url.href, connection: client.state, session: client.session, reconnect: null, frame: null, lastEvent: null };
  let drawnLines = 0;
  let lastDrawAt = -Infinity;
  let redrawTimer: ReturnType<typeof setTimeout> | null = null;

  function draw(): void {
    redrawTimer = null;
    lastDrawAt = performance.now();
    if (!tty) return void console.log(plainLine(model));
    const lines = screenLines(model, process.stdout.columns || defaultColumns);
    let out = drawnLines > 0 ? ansi.linesUp(drawnLines) : ansi.hideCursor;
    for (const line of lines) out += `${ansi.clearLine}${line}\n`;
    process.stdout.write(out);
    drawnLines = lines.length;
    // Keep the countdown ticking while there is no telemetry to trigger redraws.
    if (model.connection === "reconnecting") redraw();
  }

  /** Asks for a redraw, at most one per minRedrawIntervalMs. */
  function redraw(): void {
    if (redrawTimer !== null) return;
    redrawTimer = setTimeout(draw, Math.max(0, lastDrawAt + minRedrawIntervalMs - performance.now()));
  }

  client.on("telemetry", (frame) => {
    if (frame.drone !== drone) return;
    model.frame = frame;
    redraw();
  });
  client.on("state", (state) => {
    model.connection = state;
    redraw();
  });
  client.on("reconnecting", (info) => {
    model.reconnect = info;
    redraw();
  });
  client.on("welcome", (welcome) => {
    model.session = welcome.session;
    model.reconnect = null;
    redraw();
  });
  client.on("event", (event) => {
    if (event.drone !== drone) return;
    model.lastEvent = `${event.kind}: ${event.message}`;
    redraw();
  });
  client.on("replay", (replay) => {
    if (replay.drone !== drone) return;
    model.lastEvent = `replay: ${replay.ended ? "ended" : replay.paused ? "paused" : `${replay.speed}x`} at ${(replay.positionMs / 1000).toFixed(1)} of ${(replay.durationMs / 1000).toFixed(1)} s`;
    redraw();
  });
  client.on("vehicle", (change) => {
    if (change.drone !== drone || change.change !== "removed") return;
    model.lastEvent = `replay removed: ${change.reason ?? "ended"}`;
    redraw();
  });
  client.on("lease", (lease) => {
    if (lease.drone !== drone) return;
    model.lastEvent = `lease: ${lease.pilot === null ? "no pilot" : `pilot ${lease.pilot}`} (${lease.reason})`;
    redraw();
  });
  // Ctrl-C is ours before anything is printed: whoever reads the first line may press it at once.
  const interrupted = new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  draw();
  await interrupted;
  if (redrawTimer !== null) clearTimeout(redrawTimer);
  await client.close();
  model.connection = "closed";
  draw();
  if (tty) process.stdout.write(ansi.showCursor);
  return 0;
}

/** `--max-hz`: a number of frames a second within the protocol's `maxHzRange`, or undefined when not given. */
export function maxHzFlag(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value < maxHzRange.min || value > maxHzRange.max) {
    throw new UsageError(`--max-hz must be a number of frames per second from ${maxHzRange.min} to ${maxHzRange.max}: received ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The connection, e.g. `open` or `reconnecting: attempt 3 in 1.8 s`. */
function describeConnection(model: WatchModel): string {
  if (model.connection !== "reconnecting" || model.reconnect === null) return model.connection;
  const { attempt, at } = model.reconnect;
  const remainingMs = at - Date.now();
  return remainingMs > 0 ? `reconnecting: attempt ${attempt} in ${(remainingMs / 1000).toFixed(1)} s` : `reconnecting: attempt ${attempt}, dialling`;
}

function pilotName(frame: TelemetryData): string {
  return frame.pilot ?? "none";
}

/** One line per redraw, for pipes and logs. */
function plainLine(model: WatchModel): string {
  const { frame } = model;
  const parts = [model.drone];
  if (frame === null) parts.push("waiting for telemetry");
  else {
    parts.push(
      frame.state,
      describePosition(frame.position),
      `heading=${Math.round(frame.heading)}`,
      `speed=${frame.speed.toFixed(2)}`,
      `battery=${frame.battery.toFixed(1)}%`,
      `pilot=${pilotName(frame)}`,
    );
  }
  if (model.lastEvent !== null) parts.push(`event=${JSON.stringify(model.lastEvent)}`);
  parts.push(`[${describeConnection(model)}]`);
  return parts.join(" ");
}

const connectionColours: Record<ConnectionState, Colour> = { open: "green", connecting: "yellow", reconnecting: "yellow", closed: "red" };

function stateColour(state: TelemetryData["state"]): Colour {
  if (state === "emergency") return "red";
  if (state === "landed") return "dim";
  if (state === "returning" || state === "landing") return "yellow";
  return "green";
}

function batteryColour(percent: number): Colour {
  if (percent < batteryAlarmPercent) return "red";
  if (percent < batteryWarnPercent) return "yellow";
  return "green";
}

/** The in-place block for a terminal `columns` wide. */
function screenLines(model: WatchModel, columns: number): string[] {
  const { frame } = model;
  const label = (name: string) => paint(name.padEnd(10), "dim", true);
  const session = model.session === null ? "" : paint(` (session ${model.session})`, "dim", true);
  const header = `${paint("skyport watch", "bold", true)}  ${model.drone}  ${fit(model.url, columns - 40)}  ${paint(`● ${describeConnection(model)}`, connectionColours[model.connection], true)}${session}`;
  if (frame === null) return [header, `${label("state")}waiting for telemetry`];
  const flags = Object.entries(frame.flags).filter(([, on]) => on).map(([name]) => name);
  return [
    header,
    `${label("state")}${paint(frame.state, stateColour(frame.state), true)}${flags.length > 0 ? paint(`  ${flags.join(" ")}`, "red", true) : ""}`,
    `${label("position")}${describePosition(frame.position)} m${frame.target ? paint(`  → ${describePosition(frame.target)}`, "dim", true) : ""}`,
    `${label("heading")}${String(Math.round(frame.heading)).padStart(3)}°    speed ${frame.speed.toFixed(2)} m/s`,
    `${label("battery")}${paint(gauge(frame.battery / 100, batteryGaugeCells), batteryColour(frame.battery), true)} ${frame.battery.toFixed(1)}%`,
    `${label("pilot")}${pilotName(frame)}`,
    `${label("event")}${fit(model.lastEvent ?? "none", columns - 11)}`,
  ];
}
