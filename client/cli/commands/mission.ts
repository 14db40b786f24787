/**
 * `skyport mission FILE`: flies a mission from a file. Reads a QGroundControl
 * `.plan` or a skyport JSON mission (`[items]` or `{"items": [...]}`),
 * checks it whole before connecting, claims the drone, uploads the mission,
 * waits until the vehicle holds it, starts it, and exits. Exit 0 once
 * started; 1 at the first error (one line on stderr); 2 for usage.
 */
import { readFileSync } from "node:fs";
import { checkMissionItems, planToMission, type MissionItem, type ProtocolError } from "../../../protocol/index.ts";
import { parseFlags, UsageError } from "../args.ts";
import { claimOrExplain, closeDroneLink, describeError, droneFlagsUsage, droneTarget, openDroneLink, pilotFlags, pilotTokenUsage } from "./drone-link.ts";

export const missionUsage = `usage: skyport mission [--url URL] [--drone ID] [--no-start] FILE

Uploads the mission in FILE to the drone and starts it. FILE is a
QGroundControl .plan (its simple items: takeoff, waypoint, speed change,
land, return to launch) or a skyport JSON mission, e.g.
  [{"type":"takeoff","altitude":10},{"type":"waypoint","lat":-35.3631,"lon":149.1654,"altitude":15},{"type":"rth"}]
The mission is checked whole first: the error names the first bad item.

The command claims the drone and exits once the mission runs; its pilot
leaving is the server's --mission-failsafe (by default the mission flies on).

flags:
${droneFlagsUsage}
${pilotTokenUsage}
  --no-start   upload only: start it later (mission_start)
  --help       print this help`;

/** The mission in a file's text: a `.plan` by its name or its `fileType`, else skyport's JSON. */
export function readMissionFile(path: string, text: string): { ok: true; items: MissionItem[] } | { ok: false; error: ProtocolError } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: "invalid_json", message: `${path} is not JSON: a mission file is a .plan or a JSON list of items` } };
  }
  const isPlan = path.endsWith(".plan") || (typeof json === "object" && json !== null && (json as { fileType?: unknown }).fileType === "Plan");
  if (isPlan) return planToMission(text);
  const items = Array.isArray(json) ? json : (json as { items?: unknown } | null)?.items;
  return checkMissionItems(items, "items");
}

export async function runMission(argv: string[]): Promise<number> {
  const args = parseFlags(argv, pilotFlags, ["no-start"]);
  if (args.flags.help) {
    console.log(missionUsage);
    return 0;
  }
  if (args.positionals.length !== 1) throw new UsageError(`mission needs one file, a .plan or a JSON mission: received ${args.positionals.length}`);
  const path = args.positionals[0]!;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    console.error(`skyport mission: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const mission = readMissionFile(path, text);
  if (!mission.ok) {
    console.error(`skyport mission: ${path}: ${mission.error.message}`);
    return 1;
  }
  const target = droneTarget(args.flags);
  const link = await openDroneLink("mission", target);
  if (link === null) return 1;
  try {
    const refusal = await claimOrExplain(link);
    if (refusal !== null) {
      console.error(`skyport mission: ${refusal}`);
      return 1;
    }
    const upload = await link.client.mission(link.drone, "mission", mission.items);
    const held = await upload.done;
    if (held.status !== "completed") {
      console.error(`skyport mission: upload to ${link.drone} failed: ${held.reason ?? "no reason given"}`);
      return 1;
    }
    console.log(`${link.drone} holds the mission: ${mission.items.length} items`);
    if (args.flags["no-start"]) return 0;
    const start = await link.client.mission(link.drone, "mission_start");
    const started = await start.done;
    if (started.status !== "completed") {
      console.error(`skyport mission: start failed: ${started.reason ?? "no reason given"}`);
      return 1;
    }
    console.log(`${link.drone} started its mission`);
    return 0;
  } catch (error) {
    console.error(`skyport mission: ${describeError(error)}`);
    return 1;
  } finally {
    // Leaving flying is deliberate here: the server's --mission-failsafe decides (by default the mission flies on).
    await closeDroneLink(link);
  }
}
