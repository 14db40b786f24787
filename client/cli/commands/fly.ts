/**
 * `cli.ts fly`: an interactive pilot's console. Claims the drone, then reads
 * lines of the text grammar (`takeoff`, `forward 10`, `status`...) and
 * sends each as a typed command through the SDK, printing its ack at once
 * and its completion when it comes. Lines are handled in order: each waits
 * for the previous one's ack, never for its completion, so `hover` can
 * interrupt a move. A line typed while the link is down is not sent, and
 * says so. quit and Ctrl-D release the drone and close; Ctrl-C does too,
 * but while the drone is airborne it first asks, saying what the failsafe
 * will do.
 */
import { createInterface } from "node:readline";
import { commandSpecs, errorLine, formatRequest, parseTextLine, type DroneRequest } from "../../../protocol/index.ts";
import { parseFlags, UsageError } from "../args.ts";
import { ansi } from "../term.ts";
import {
  claimOrExplain,
  closeDroneLink,
  describeAck,
  describeDone,
  describeError,
  describeStatusReport,
  droneFlagsUsage,
  droneTarget,
  pilotFlags,
  pilotTokenUsage,
  openDroneLink,
  sendRequest,
  type DroneLink,
} from "./drone-link.ts";

export const flyUsage = `usage: skyport fly [--url URL] [--drone ID]

Claims the drone and opens a prompt: type commands such as takeoff,
forward 10, cw 90, goto 10 -5 30, status or land ("help" lists them).
Each prints its ack, then its completion. A command typed while the
connection is down is not sent (it says so): type it again once
reconnected. quit or Ctrl-D release the drone and close the connection;
Ctrl-C does too, but asks first while the drone is in the air (a released
drone hovers for the server's failsafe time, then returns home and lands).

flags:
${droneFlagsUsage}
${pilotTokenUsage}
  --help       print this help`;

/** Lines of prompt history kept for the arrow keys. */
const historyLines = 200;

/** The prompt's own words, besides the text grammar. */
const quitWords = new Set(["quit", "exit"]);
const helpWords = new Set(["help", "?"]);

function helpText(): string {
  const rows = Object.entries(commandSpecs).map(([name, spec]) => {
    const usage = [name, ...spec.args.map((arg) => arg.name.toUpperCase())].join(" ");
    return `  ${usage.padEnd(18)} ${spec.help}`;
  });
  return ["commands:", ...rows, `  ${"claim".padEnd(18)} take the drone back after a release`, `  ${"release".padEnd(18)} give the drone up (it hovers, then returns home)`, `  ${"quit".padEnd(18)} release the drone and leave`].join("\n");
}

export async function runFly(argv: string[]): Promise<number> {
  const args = parseFlags(argv, pilotFlags);
  if (args.flags.help) {
    console.log(flyUsage);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`fly takes no arguments: received ${JSON.stringify(args.positionals[0])}`);
  const link = await openDroneLink("fly", droneTarget(args.flags));
  if (link === null) return 1;
  const refusal = await claimOrExplain(link);
  if (refusal !== null) {
    await link.client.close();
    console.error(`skyport fly: ${refusal}`);
    return 1;
  }
  return pilotConsole(link);
}

/** Runs the prompt until quit; resolves the exit code. */
function pilotConsole(link: DroneLink): Promise<number> {
  const { client, drone } = link;
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const prompt = createInterface({ input: process.stdin, output: process.stdout, terminal: interactive, historySize: historyLines, prompt: `${drone}> ` });
  let closing = false;
  /** The drone's flight state as last heard; anything but "landed" is in the air. */
  let flightState = link.welcome.drones.find((summary) => summary.id === drone)?.state ?? "landed";
  /** Set while Ctrl-C's question waits for its answer. */
  let askingToLeave = false;

  /** Prints a line without trampling what the pilot is typing. */
  const say = (line: string) => {
    if (!interactive) return void console.log(line);
    process.stdout.write(`\r${ansi.clearLine}${line}\n`);
    if (!closing) prompt.prompt(true);
  };

  const stops = [
    client.on("telemetry", (frame) => {
      if (frame.drone === drone) flightState = frame.state;
    }),
    client.on("event", (event) => {
      if (event.drone === drone) say(`event ${event.kind}: ${event.message}`);
    }),
    client.on("lease", (lease) => {
      if (lease.drone !== drone || lease.pilot === client.session) return;
      say(`lease: ${drone} ${lease.pilot === null ? "has no pilot" : `is now flown by session ${lease.pilot}`} (${lease.reason})`);
    }),
    client.on("reconnecting", (info) => say(`connection lost: reconnecting in ${(info.delayMs / 1000).toFixed(1)} s (attempt ${info.attempt})`)),
    client.on("welcome", (welcome) => say(`reconnected as session ${welcome.session}`)),
    client.on("error", (error) => say(describeError(error))),
  ];

  async function sendLine(request: DroneRequest): Promise<void> {
    const label = formatRequest(request);
    const sentAt = performance.now();
    try {
      const handle = await sendRequest(link, request);
      if ("status" in handle.ack) return say(describeStatusReport(handle.ack, client.session));
      say(describeAck(label, handle));
      handle.done.then(
        (done) => say(describeDone(label, done, performance.now() - sentAt)),
        (error) => closing || say(`done ${label}: ${describeError(error)}`),
      );
    } catch (error) {
      if (!closing) say(describeError(error));
    }
  }

  async function handleLine(raw: string): Promise<void> {
    const text = raw.trim();
    if (askingToLeave) return answerLeave(text);
    if (text === "" || closing) return;
    const word = text.toLowerCase();
    if (helpWords.has(word)) return say(helpText());
    if (quitWords.has(word)) return void finish();
    const parsed = parseTextLine(text);
    if (!parsed.ok) return say(errorLine(parsed.error));
    try {
      if (parsed.line.kind === "claim") {
        await client.claim(drone);
        return say(`ok claim: you are the pilot of ${drone}`);
      }
      if (parsed.line.kind === "release") {
        await client.release(drone);
        return say(`ok release: ${drone} has no pilot`);
      }
    } catch (error) {
      return say(describeError(error));
    }
    await sendLine(parsed.line.request);
  }

  const exit = Promise.withResolvers<number>();
  let finishing: Promise<void> | null = null;
  function finish(): Promise<void> {
    finishing ??= (async () => {
      closing = true;
      for (const stop of stops) stop();
      process.off("SIGINT", interrupted);
      process.off("SIGTERM", finish);
      prompt.close();
      await closeDroneLink(link);
      say(`released ${drone}: bye`);
      exit.resolve(0);
    })();
    return finishing;
  }

  // Lines run one after another: each waits for the previous line's ack.
  let queue = Promise.resolve();
  prompt.on("line", (line) => {
    queue = queue.then(() => handleLine(line));
  });
  // Ctrl-D (or the end of piped input): finish what was typed, then leave.
  prompt.on("close", () => {
    queue = queue.then(() => finish());
  });
  /**
   * Ctrl-C: leave at once while the drone is on the ground; in the air, ask
   * first and say what releasing it means. A second Ctrl-C is the answer yes.
   */
  function interrupted(): void {
    if (closing) return;
    if (askingToLeave || flightState === "landed" || !client.isPilot(drone)) return void finish();
    askingToLeave = true;
    const failsafe = link.welcome.limits.failsafeSeconds;
    say(`${drone} is in the air (${flightState}). Leaving releases it: it hovers for ${failsafe} s, then returns home and lands on its own. Leave? [y/N] (Ctrl-C again: yes)`);
  }

  function answerLeave(answer: string): void {
    askingToLeave = false;
    if (/^y(es)?$/i.test(answer)) return void finish();
    say(`staying: you still fly ${drone}`);
  }

  // A TTY prompt reports Ctrl-C itself; otherwise it is a signal.
  prompt.on("SIGINT", interrupted);
  process.on("SIGINT", interrupted);
  process.on("SIGTERM", finish);

  say(`flying ${drone} as session ${client.session}: type a command, "help" for the list, "quit" to leave`);
  if (interactive) prompt.prompt();
  return exit.promise;
}
