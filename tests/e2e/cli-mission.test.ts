/**
 * The real CLI's `mission` command as a process against a real in-process
 * server with real simulation timers: a `.plan` exported by skyport and a
 * JSON mission are uploaded and started, the vehicle flies them; a file that
 * is not a mission is refused before anything is sent.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missionToPlan, type MissionItem } from "../../protocol/index.ts";
import { pointFromHome } from "../../src/core/vehicle/geodesy.ts";
import { defaultSimulatedHome } from "../../src/core/vehicle/simulated.ts";
import { repoRoot, startTestServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function server() {
  const running = startTestServer();
  cleanups.push(() => running.stop());
  return running;
}

/** Runs the CLI to the end, within 15 s. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, "run", join(repoRoot, "client", "cli", "cli.ts"), ...args], { stdout: "pipe", stderr: "pipe" });
  cleanups.push(() => {
    if (proc.exitCode === null) proc.kill("SIGKILL");
  });
  const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => -1)]);
  if (code === -1) throw new Error(`cli ${args.join(" ")} did not exit within 15 s`);
  return { code, stdout: await new Response(proc.stdout).text(), stderr: await new Response(proc.stderr).text() };
}

const directory = mkdtempSync(join(tmpdir(), "skyport-mission-"));
function file(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

const here = (x: number, y: number) => pointFromHome(defaultSimulatedHome, x, y);
const route: MissionItem[] = [{ type: "takeoff", altitude: 4 }, { type: "waypoint", ...here(0, 6), altitude: 4, speed: 6 }, { type: "land" }];

describe("mission", () => {
  test("a .plan is uploaded and started; the drone flies it to the end", async () => {
    const skyport = server();
    const path = file("route.plan", missionToPlan(route, defaultSimulatedHome));
    const result = await run("mission", "--url", skyport.ws("/drone"), path);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(["alpha holds the mission: 3 items", "alpha started its mission"]);
    const missions = skyport.flight.fleet.vehicle("alpha").missions!;
    expect(missions.mission()).toEqual(route);
    // The CLI left: the mission flies on (--mission-failsafe continue) to its landing.
    await waitUntil(() => missions.progress()?.state === "completed", 12_000, "mission completed");
    expect(skyport.flight.fleet.state("alpha")).toMatchObject({ state: "landed" });
    expect(skyport.flight.fleet.state("alpha").position.y).toBeCloseTo(6, 1);
  }, 20_000);

  test("a JSON mission with --no-start is uploaded and left ready", async () => {
    const skyport = server();
    const path = file("route.json", JSON.stringify({ items: route }));
    const result = await run("mission", "--url", skyport.ws("/drone"), "--no-start", path);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe("alpha holds the mission: 3 items");
    expect(skyport.flight.fleet.vehicle("alpha").missions!.progress()).toBeNull();
  }, 20_000);

  test("a file that is not a mission is refused before connecting, naming the item", async () => {
    const bad = file("bad.json", JSON.stringify([{ type: "takeoff", altitude: 4 }, { type: "waypoint", lat: 91, lon: 0, altitude: 5 }]));
    const result = await run("mission", "--url", "ws://127.0.0.1:1/drone", bad);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`skyport mission: ${bad}: items[1].lat must be a number from -90 to 90 degrees: received 91`);
    const notPlan = file("x.plan", JSON.stringify({ fileType: "KML" }));
    expect((await run("mission", notPlan)).stderr).toContain('not a .plan file: fileType must be "Plan": received "KML"');
    expect((await run("mission")).code).toBe(2);
  }, 20_000);
});
