/**
 * The real autopilot: ArduCopter SITL (ArduPilot's own flight stack, EKF3 and
 * arming checks, default parameters, real time) flown by a real `server.ts
 * --mavlink copter=tcp:127.0.0.1:PORT` over a real `/drone` socket: claim,
 * takeoff refused with the autopilot's own result until it is ready to arm,
 * then acknowledged and done at the takeoff altitude, a viewer seeing z rise;
 * `forward 10` done about 10 m along the heading, `cw 90` done a quarter turn
 * later; then `rth` done once landed at home and disarmed.
 *
 * Skips with one line when `../shared/sitl` is absent (a clone elsewhere).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";
import { sitlMissing, startSitl, type Sitl } from "../support/sitl.ts";

const missing = sitlMissing();
if (missing !== null) console.warn(missing);

/** Arming is refused until EKF3 uses GPS: ≈41–44 s after launch here (SITL README), with margin for 2 shared cores. */
const readyWithinMs = 120_000;
/** Pause between takeoff attempts while the autopilot refuses to arm, ms. */
const retryTakeoffMs = 2_000;
/** Takeoff to 10 m takes ≈9 s. */
const takeoffWithinMs = 40_000;
/** Frames (1 s at the default 10 Hz) a turn is given to settle after its `done`. */
const settleFrames = 10;
/** Below this ground speed, m/s, the aircraft has settled on its target. */
const settledMetresPerSecond = 0.2;
/** A 10 m move at ArduCopter's default 5 m/s, or a quarter turn: seconds each; with margin. */
const manoeuvreWithinMs = 30_000;
/** RTL climbs to RTL_ALT (15 m), flies home, descends and disarms: ≈35 s from 10 m out. */
const returnWithinMs = 90_000;
/** skyport's takeoff altitude for MAVLink vehicles, metres. */
const takeoffAltitude = 10;

/** The vehicle answers once the autopilot acknowledged every step (or gave up after its 5 s). */
const answerWithinMs = 8_000;

/** Sends a command and returns its ack or error. */
async function command(client: DroneTestClient, name: string, id: string, args?: number[]): Promise<any> {
  client.send({ type: "command", id, data: { drone: "copter", name, ...(args ? { args } : {}) } });
  return client.take((m) => (m?.type === "ack" || m?.type === "error") && m.id === id, answerWithinMs);
}

/** The smaller angle between two headings, degrees in [0, 180]. */
function angleGap(a: number, b: number): number {
  return Math.abs(((((a - b) % 360) + 540) % 360) - 180);
}

let sitl: Sitl;
let server: ServerProcess;

beforeAll(async () => {
  if (missing !== null) return;
  sitl = await startSitl();
  server = await spawnServer(["--mavlink", `copter=tcp:127.0.0.1:${sitl.port}`]);
});

afterAll(async () => {
  server?.proc.kill("SIGTERM");
  await server?.exited;
  await sitl?.stop();
});

test.skipIf(missing !== null)(
  "claim, takeoff (refused until armable, then ack and done at 10 m), a viewer sees z rise, forward 10, cw 90, rth done when landed at home",
  async () => {
    const pilot = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
    const viewer = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
    expect(pilot.welcome.data.drones.map((d: { id: string }) => d.id)).toContain("copter");
    expect((await pilot.request("claim", { drone: "copter" })).type).toBe("ack");

    // Until EKF3 is ready the autopilot refuses to arm: each refusal carries its own MAV_RESULT.
    const deadline = Date.now() + readyWithinMs;
    const refusals: string[] = [];
    let takeoff: any = null;
    let id = 0;
    while (takeoff === null) {
      if (Date.now() > deadline) throw new Error(`takeoff not accepted within ${readyWithinMs} ms; refusals: ${refusals.slice(-3).join(" | ")}`);
      id += 1;
      const answer = await command(pilot, "takeoff", `takeoff-${id}`);
      if (answer.type === "ack") {
        takeoff = answer;
        break;
      }
      refusals.push(`${answer.data.code}: ${answer.data.message}`);
      expect(answer.data.message).toMatch(/MAV_RESULT_|out of reach|did not answer/);
      await Bun.sleep(retryTakeoffMs);
    }
    expect(takeoff.data.target.z).toBe(takeoffAltitude);
    console.log(`takeoff accepted after ${refusals.length} refusals; the last: ${refusals.at(-1) ?? "none"}`);

    const done = await pilot.take((m) => m?.type === "done" && m.id === takeoff.id, takeoffWithinMs);
    expect(done.data).toMatchObject({ command: "takeoff", status: "completed" });
    await viewer.waitTelemetry((frames) => frames.some((f) => f.drone === "copter" && f.position.z >= takeoffAltitude - 1.5), 5_000);
    const heights = viewer.telemetry.filter((f) => f.drone === "copter").map((f) => f.position.z);
    expect(Math.max(...heights)).toBeGreaterThan(Math.min(...heights) + 8);

    const frame = () => viewer.telemetry.filter((f) => f.drone === "copter").at(-1);
    const before = frame();
    const forward = await command(pilot, "forward", "forward", [10]);
    expect(forward.type).toBe("ack");
    expect((await pilot.take((m) => m?.type === "done" && m.id === "forward", manoeuvreWithinMs)).data.status).toBe("completed");
    // `done` comes within 1.5 m of the target; the aircraft then settles on it.
    await viewer.waitTelemetry((frames) => frames.at(-1)?.speed < settledMetresPerSecond, 10_000);
    const moved = frame();
    const travelled = Math.hypot(moved.position.x - before.position.x, moved.position.y - before.position.y);
    expect(travelled).toBeGreaterThan(9);
    expect(travelled).toBeLessThan(11);
    // Along the heading: the bearing of the move is within 10 degrees of it.
    const bearing = (Math.atan2(moved.position.x - before.position.x, moved.position.y - before.position.y) * 180) / Math.PI;
    expect(angleGap(bearing, before.heading)).toBeLessThan(10);

    const cw = await command(pilot, "cw", "cw", [90]);
    expect(cw.type).toBe("ack");
    expect((await pilot.take((m) => m?.type === "done" && m.id === "cw", manoeuvreWithinMs)).data.status).toBe("completed");
    // `done` comes within 5 degrees of the new heading, and a frame may trail it by a tick: let the turn settle for a second.
    const doneAt = viewer.telemetry.length;
    await viewer.waitTelemetry((frames) => frames.length >= doneAt + settleFrames, 5_000);
    const turned = frame();
    expect(angleGap(cw.data.target.heading, moved.heading + 90)).toBeLessThan(5);
    expect(angleGap(turned.heading, moved.heading + 90)).toBeLessThan(5);

    const rth = await command(pilot, "rth", "rth");
    expect(rth.type).toBe("ack");
    const home = await pilot.take((m) => m?.type === "done" && m.id === "rth", returnWithinMs);
    expect(home.data).toMatchObject({ command: "rth", status: "completed" });
    await viewer.waitTelemetry((frames) => frames.at(-1)?.state === "landed", 5_000);
    const landed = frame();
    expect(landed.position.z).toBeLessThan(0.5);
    expect(Math.hypot(landed.position.x, landed.position.y)).toBeLessThan(1.5);
    pilot.close();
    viewer.close();
  },
  readyWithinMs + takeoffWithinMs + 2 * manoeuvreWithinMs + returnWithinMs + 20_000,
);
