/**
 * `cli.ts send`: flies a drone from a script. Claims it, sends each command
 * in order (waiting for each ack, or with `--wait` for each completion),
 * prints one line per result, and releases it at the end. Exit 0 when every
 * command succeeded, 1 at the first error (printed as one line on stderr).
 */
import { errorLine, formatRequest, parseTextLine, type DroneRequest } from "../../../protocol/index.ts";
import { parseFlags, UsageError } from "../args.ts";
import type { CommandHandle } from "../../sdk/index.ts";
import { SkyportError } from "../../sdk/index.ts";
import { claimOrExplain, closeDroneLink, describeAck, describeDone, describeError, describeStatusReport, droneFlagsUsage, droneTarget, pilotFlags, pilotTokenUsage, openDroneLink, sendRequest } from "./drone-link.ts";

export const sendUsage = `usage: skyport send [--url URL] [--drone ID] [--wait] COMMAND...

Claims the drone, sends each COMMAND in order and prints one line per
result, then releases the drone. Each COMMAND is one argument in the text
grammar, e.g. takeoff "forward 10" "cw 90" land. Exits 1 at the first error.

A command is accepted when the drone takes it (its ack, with the target);
it is complete when the drone reports it done: a takeoff at hover height,
a move or turn at its target, a landing on the ground.

Without --wait the next command goes as soon as the previous one is
accepted: a move replaces a move still in flight (the drone heads for the
newest target), and a command sent while the drone is taking off or
landing, which nothing interrupts, is sent again once that is complete.
With --wait each command must complete before the next goes: use it to
fly a path. Either way send then releases the drone: one still flying
hovers for the server's failsafe time, then returns home.

flags:
${droneFlagsUsage}
${pilotTokenUsage}
  --wait       wait for each command to complete before sending the next
  --help       print this help`;

export async function runSend(argv: string[]): Promise<number> {
  const args = parseFlags(argv, pilotFlags, ["wait"]);
  if (args.flags.help) {
    console.log(sendUsage);
    return 0;
  }
  if (args.positionals.length === 0) throw new UsageError(`send needs at least one command, e.g. takeoff "up 5": received none`);
  const target = droneTarget(args.flags);
  const wait = args.flags.wait === true;

  // Check every command before touching the drone: a typo in the last one must not leave it half-flown.
  const requests: DroneRequest[] = [];
  for (const text of args.positionals) {
    const parsed = parseTextLine(text);
    if (!parsed.ok) {
      console.error(`skyport send: ${JSON.stringify(text)}: ${errorLine(parsed.error)}`);
      return 1;
    }
    if (parsed.line.kind !== "request") {
      console.error(`skyport send: ${JSON.stringify(text)}: send claims and releases the drone itself: leave out ${parsed.line.kind}`);
      return 1;
    }
    requests.push(parsed.line.request);
  }

  const link = await openDroneLink("send", target);
  if (link === null) return 1;
  try {
    const refusal = await claimOrExplain(link);
    if (refusal !== null) {
      console.error(`skyport send: ${refusal}`);
      return 1;
    }
    let previous: CommandHandle | null = null;
    for (const request of requests) {
      const label = formatRequest(request);
      const sentAt = performance.now();
      let handle: CommandHandle;
      try {
        handle = await sendAfterPhase(link, request, previous);
      } catch (error) {
        console.error(`skyport send: ${label}: ${describeError(error)}`);
        return 1;
      }
      if ("status" in handle.ack) {
        console.log(describeStatusReport(handle.ack, link.client.session));
        continue;
      }
      console.log(describeAck(label, handle));
      previous = handle;
      if (!wait) continue;
      try {
        const done = await handle.done;
        const line = describeDone(label, done, performance.now() - sentAt);
        if (done.status !== "completed") {
          console.error(`skyport send: ${line}`);
          return 1;
        }
        console.log(line);
      } catch (error) {
        console.error(`skyport send: ${label}: ${describeError(error)}`);
        return 1;
      }
    }
    return 0;
  } finally {
    await closeDroneLink(link);
  }
}

/**
 * Sends a request; if the drone is `busy` with the previous command (a
 * takeoff or landing, which no command interrupts), waits for that one to
 * end and sends it once more.
 */
async function sendAfterPhase(link: Parameters<typeof sendRequest>[0], request: DroneRequest, previous: CommandHandle | null): Promise<CommandHandle> {
  try {
    return await sendRequest(link, request);
  } catch (error) {
    if (!(error instanceof SkyportError && error.code === "busy") || previous === null) throw error;
    await previous.done.catch(() => {});
    return sendRequest(link, request);
  }
}
