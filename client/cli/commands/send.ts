/**
 * `cli.ts send`: flies a drone from a script. Claims it, sends each command
 * in order (waiting for each ack, or with `--wait` for each completion),
 * prints one line per result, and releases it at the end. Exit 0 when every
 * command succeeded, 1 at the first error (printed as one line on stderr).
 */
import { errorLine, formatRequest, parseTextLine, type DroneRequest } from "../../../protocol/index.ts";
import { parseFlags, UsageError } from "../args.ts";
import { claimOrExplain, closeDroneLink, describeAck, describeDone, describeError, describeStatusReport, droneFlagsUsage, droneTarget, openDroneLink, sendRequest } from "./drone-link.ts";

export const sendUsage = `usage: bun run client/cli/cli.ts send [--url URL] [--drone ID] [--wait] COMMAND...

Claims the drone, sends each COMMAND in order and prints one line per
result, then releases the drone. Each COMMAND is one argument in the text
grammar, e.g. takeoff "forward 10" "cw 90" land. Exits 1 at the first error.

Without --wait the next command goes as soon as the previous one is
accepted (the drone refuses moves while it is still taking off: use --wait
to chain flight). Releasing a drone that is still flying starts the
server's failsafe: it hovers, then returns home.

flags:
${droneFlagsUsage}
  --wait       wait for each command to complete before sending the next
  --help       print this help`;

export async function runSend(argv: string[]): Promise<number> {
  const args = parseFlags(argv, ["url", "drone"], ["wait"]);
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
    for (const request of requests) {
      const label = formatRequest(request);
      const sentAt = performance.now();
      let handle;
      try {
        handle = await sendRequest(link, request);
      } catch (error) {
        console.error(`skyport send: ${label}: ${describeError(error)}`);
        return 1;
      }
      if ("status" in handle.ack) {
        console.log(describeStatusReport(handle.ack, link.client.session));
        continue;
      }
      console.log(describeAck(label, handle));
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
