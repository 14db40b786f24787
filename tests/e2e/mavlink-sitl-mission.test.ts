/**
 * A mission on the real autopilot: ArduCopter SITL (real time, default
 * parameters) flown by a real `server.ts --mavlink`: the pilot uploads a
 * takeoff, three waypoints and a return home through the MAVLink mission
 * protocol, starts it once the autopilot is ready to arm, pauses it on the
 * second leg, flies aside with `gotogeo` (the map's fly-here), resumes, and
 * a second viewer watches `mission_progress` to completion, landed at home.
 * Then a skyport started afresh reads the mission back from the autopilot.
 *
 * Skips with one line when `../shared/sitl` is absent (a clone elsewhere).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pointFromHome } from "../../src/core/vehicle/geodesy.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { sitlHome, sitlServerSuite } from "../support/sitl.ts";

const suite = sitlServerSuite({ beforeAll, afterAll });

/** Arming is refused until EKF3 uses GPS: ≈41–44 s after launch, with margin for 2 shared cores. */
const readyWithinMs = 120_000;
/** Pause between start attempts while the autopilot refuses to arm, ms. */
const retryStartMs = 2_000;
/** Takeoff to 10 m, three legs of ≈20 m at 5 m/s, RTL from ≈20 m out and the landing: ≈60 s; with margin. */
const missionWithinMs = 180_000;
/** The vehicle answers once the autopilot acknowledged every step (or gave up). */
const answerWithinMs = 10_000;

const at = (x: number, y: number) => pointFromHome({ lat: sitlHome.lat, lon: sitlHome.lon }, x, y);
const route = [
  { type: "takeoff", altitude: 10 },
  { type: "waypoint", ...at(0, 20), altitude: 10 },
  { type: "waypoint", ...at(20, 20), altitude: 12 },
  { type: "waypoint", ...at(20, 0), altitude: 10 },
  { type: "rth" },
];

test.skipIf(suite.missing !== null)(
  "upload, start once armable, and a viewer sees every item reached to completion, landed at home",
  async () => {
    const { server } = suite;
    const pilot = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
    const viewer = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
    expect((await pilot.request("claim", { drone: "copter" })).type).toBe("ack");
    // The link must be up (the upload is refused until the autopilot is heard and home is known).
    const uploadDeadline = Date.now() + 60_000;
    let uploaded: any = null;
    for (let id = 0; uploaded === null; id++) {
      if (Date.now() > uploadDeadline) throw new Error("upload not accepted within 60 s");
      const answer = await pilot.request("mission", { drone: "copter", items: route }, `up-${id}`);
      if (answer.type === "ack") uploaded = answer;
      else await Bun.sleep(retryStartMs);
    }
    expect((await pilot.done(uploaded.id, answerWithinMs)).data).toMatchObject({ command: "mission", status: "completed" });
    expect((await viewer.take((m) => m?.type === "mission" && Array.isArray(m.data.items) && m.data.items.length === route.length, answerWithinMs)).data.items[1]).toMatchObject({ type: "waypoint", altitude: 10 });

    // Until EKF3 uses GPS the autopilot refuses to arm or to enter AUTO, or it enters AUTO and disarms on the ground without taking off
    // (the mission is then aborted): start again until the first item is reached.
    const deadline = Date.now() + readyWithinMs;
    const refusals: string[] = [];
    for (let id = 0; ; id++) {
      if (Date.now() > deadline) throw new Error(`mission not flying within ${readyWithinMs} ms; refusals: ${refusals.slice(-3).join(" | ")}`);
      const answer = await pilot.request("mission_start", { drone: "copter" }, `go-${id}`);
      if (answer.type !== "ack") throw new Error(`mission_start refused: ${JSON.stringify(answer.data)}`);
      const done = await pilot.done(answer.id, answerWithinMs);
      if (done.data.status !== "completed") {
        refusals.push(done.data.reason);
        await Bun.sleep(retryStartMs);
        continue;
      }
      const first = await viewer.take((m) => m?.type === "mission_progress" && (m.data.reached.length > 0 || m.data.state === "aborted"), 60_000);
      if (first.data.state !== "aborted") break;
      refusals.push(first.data.reason);
      await Bun.sleep(retryStartMs);
    }
    console.log(`mission flying after ${refusals.length} refusals; the last: ${refusals.at(-1) ?? "none"}`);

    const progressSeen = () => viewer.messages.filter((m: any) => m?.type === "mission_progress").map((m: any) => `${m.data.state}@${m.data.current}[${m.data.reached.join(",")}]${m.data.reason ? `(${m.data.reason})` : ""}`);

    // On the second leg: pause (the autopilot brakes and holds), fly somewhere else with the map's gotogeo, resume.
    await viewer.take((m) => m?.type === "mission_progress" && m.data.state === "running" && m.data.current >= 2, missionWithinMs);
    const pause = await pilot.request("mission_pause", { drone: "copter" }, "pause");
    expect(pause.type).toBe("ack");
    expect((await pilot.done("pause", answerWithinMs)).data.status).toBe("completed");
    expect((await viewer.take((m) => m?.type === "mission_progress" && m.data.state === "paused", answerWithinMs)).data.current).toBeGreaterThanOrEqual(2);
    const aside = at(5, 25);
    const goto = await pilot.request("command", { drone: "copter", name: "gotogeo", args: [aside.lat, aside.lon, 8] }, "aside");
    expect(goto.type).toBe("ack");
    expect((await pilot.done("aside", 60_000)).data.status).toBe("completed");
    const there = viewer.telemetry.filter((f) => f.drone === "copter").at(-1);
    // Arrival is judged within 1 m (completion.ts); the frame after it may have drifted a little further.
    expect(Math.hypot(there.position.x - 5, there.position.y - 25, there.position.z - 8)).toBeLessThan(2);
    expect((await pilot.request("mission_resume", { drone: "copter" }, "resume")).type).toBe("ack");
    expect((await pilot.done("resume", answerWithinMs)).data.status).toBe("completed");
    await viewer.take((m) => m?.type === "mission_progress" && m.data.state === "running", answerWithinMs);

    let completed: any;
    try {
      completed = await viewer.take((m) => m?.type === "mission_progress" && (m.data.state === "completed" || m.data.state === "aborted"), missionWithinMs);
    } catch (error) {
      const last = viewer.telemetry.at(-1);
      const said = viewer.messages.filter((m: any) => m?.type === "event").slice(-8).map((m: any) => m.data.message);
      throw new Error(`no end of mission: progress ${progressSeen().slice(-12).join(" ")}; last frame ${JSON.stringify({ state: last?.state, mode: last?.mode, armed: last?.armed, position: last?.position })}; events ${said.join(" | ")}`);
    }
    console.log(`progress: ${progressSeen().join(" ")}`);
    expect(completed.data).toMatchObject({ state: "completed", current: route.length });
    expect(completed.data.reached).toEqual(expect.arrayContaining([1, 2, 3]));
    // It flew the route: frames went 20 m north and 20 m east of home, and ended on the ground at home.
    const frames = viewer.telemetry.filter((f) => f.drone === "copter");
    expect(Math.max(...frames.map((f) => f.position.y))).toBeGreaterThan(17);
    expect(Math.max(...frames.map((f) => f.position.x))).toBeGreaterThan(17);
    expect(frames.some((f) => f.mode === "AUTO")).toBe(true);
    await viewer.waitTelemetry((all) => {
      const last = all.at(-1);
      return last !== undefined && last.state === "landed" && Math.hypot(last.position.x, last.position.y) < 3;
    }, 60_000);

    // The mission stays on the autopilot: a skyport started afresh reads it back on link-up and tells its viewers.
    pilot.close();
    viewer.close();
    const restarted = await suite.restartServer();
    const fresh = await DroneTestClient.connect(restarted.ws("/drone?drone=copter"));
    const downloaded = await fresh.take((m) => m?.type === "mission" && Array.isArray(m.data.items), 30_000);
    expect(downloaded.data.items.map((item: any) => item.type)).toEqual(route.map((item) => item.type));
    expect(downloaded.data.items[2]).toMatchObject({ type: "waypoint", altitude: 12 });
    const second = at(20, 20);
    expect(downloaded.data.items[2].lat).toBeCloseTo(second.lat, 6);
    expect(downloaded.data.items[2].lon).toBeCloseTo(second.lon, 6);
    fresh.close();
  },
  readyWithinMs + missionWithinMs + 120_000,
);
