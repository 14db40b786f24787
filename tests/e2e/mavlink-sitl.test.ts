/**
 * The real autopilot: ArduCopter SITL (ArduPilot's own flight stack, EKF3 and
 * arming checks, default parameters, real time) flown by a real `server.ts
 * --mavlink copter=tcp:127.0.0.1:PORT` (through a TCP proxy the test can cut)
 * over real `/drone` sockets: claim; takeoff refused with the autopilot's own
 * result and words until it is ready to arm, its PreArm texts reaching the
 * viewer as `autopilot` events and its disabled GCS failsafe warned about;
 * then acknowledged and done at the takeoff altitude, a viewer seeing z rise,
 * armed, GUIDED, a GPS fix and lat/lon at home; `forward 10` done about 10 m
 * along the heading (in x/y and in lat/lon); `cw 90` done a quarter turn
 * later; `rth` done once landed at home; `mode`, `arm`, `disarm` on the
 * ground; a second flight whose pilot leaves: skyport's failsafe holds
 * (BRAKE), then returns home (RTL) and lands; the link cut and restored with
 * `seq` continuing; two viewers with identical frames; a resume with `since`.
 * Last, skyport itself is killed mid-air with the autopilot's GCS failsafe
 * enabled (set by the test over SITL's second port): the aircraft returns
 * on its own, as docs/vehicles.md says it will.
 *
 * Skips with one line when `../shared/sitl` is absent (a clone elsewhere).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { common, MavLinkProtocolV2 } from "node-mavlink";
import type { MavInbound } from "../../src/core/vehicle/mavlink/messages.ts";
import { MavlinkDecoder } from "../../src/runtime/mavlink/codec.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";
import { sitlHome, sitlMissing, startSitl, type Sitl } from "../support/sitl.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

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

/** skyport's failsafe hold before it returns a vehicle whose pilot left, seconds (short, to keep the test short). */
const failsafeSeconds = 3;

/** Sends a command and returns its ack or error. */
async function command(client: DroneTestClient, name: string, id: string, args?: Array<number | string>): Promise<any> {
  client.send({ type: "command", id, data: { drone: "copter", name, ...(args ? { args } : {}) } });
  return client.take((m) => (m?.type === "ack" || m?.type === "error") && m.id === id, answerWithinMs);
}

/** Metres between two lat/lon points (haversine on the WGS-84 equatorial radius: within centimetres over 10 m). */
function metresBetween(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const h = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 2 * 6_378_137 * Math.asin(Math.sqrt(h));
}

/** The smaller angle between two headings, degrees in [0, 180]. */
function angleGap(a: number, b: number): number {
  return Math.abs(((((a - b) % 360) + 540) % 360) - 180);
}

let sitl: Sitl;
let proxy: TcpProxy;
let server: ServerProcess;

beforeAll(async () => {
  if (missing !== null) return;
  sitl = await startSitl();
  proxy = startTcpProxy(sitl.port);
  server = await spawnServer(["--mavlink", `copter=tcp:127.0.0.1:${proxy.port}`, "--failsafe-seconds", String(failsafeSeconds)]);
});

afterAll(async () => {
  server?.proc.kill("SIGTERM");
  await server?.exited;
  proxy?.stop();
  await sitl?.stop();
});

test.skipIf(missing !== null)(
  "a whole flight of the real autopilot: readiness, takeoff, moves on Earth, rth, arm/disarm/mode, the pilot-loss failsafe, a cut link, two viewers, resume",
  async () => {
    const pilot = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
    const viewer = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
    expect(pilot.welcome.data.drones.map((d: { id: string }) => d.id)).toContain("copter");
    expect((await pilot.request("claim", { drone: "copter" })).type).toBe("ack");
    const frames = () => viewer.telemetry.filter((f) => f.drone === "copter");
    const frame = () => frames().at(-1);

    // Until EKF3 is ready the autopilot refuses to arm: each refusal carries its own MAV_RESULT, and its words when it said why.
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
    expect(refusals.some((refusal) => /MAV_RESULT_FAILED \((PreArm|Arm): .+\)$/.test(refusal))).toBe(true);
    // The autopilot's own texts reached the viewer, and SITL's default FS_GCS_ENABLE=0 was found and warned about.
    const said = viewer.messages.filter((m) => m?.type === "event" && m.data.kind === "autopilot").map((m) => m.data);
    expect(said.some((event: { message: string; severity: string }) => /^(PreArm|Arm): /.test(event.message) && ["critical", "error", "warning"].includes(event.severity))).toBe(true);
    expect(viewer.messages.some((m) => m?.type === "event" && m.data.kind === "vehicle_warning" && m.data.message.includes("FS_GCS_ENABLE=0"))).toBe(true);
    const health = await (await fetch(server.http("/healthz"))).json();
    expect(health.vehicles).toMatchObject([{ id: "copter", link: "up", gcsFailsafe: "disabled" }]);

    const done = await pilot.take((m) => m?.type === "done" && m.id === takeoff.id, takeoffWithinMs);
    expect(done.data).toMatchObject({ command: "takeoff", status: "completed" });
    await viewer.waitTelemetry((all) => all.some((f) => f.drone === "copter" && f.position.z >= takeoffAltitude - 1.5), 5_000);
    const heights = frames().map((f) => f.position.z);
    expect(Math.max(...heights)).toBeGreaterThan(Math.min(...heights) + 8);
    // On Earth: at SITL's home, 10 m above its altitude, armed in GUIDED with a GPS fix, heard within the last second.
    const up = frame();
    expect(up).toMatchObject({ armed: true, mode: "GUIDED", link: { status: "up" } });
    expect(["3d", "dgps", "rtk_float", "rtk_fixed"]).toContain(up.gps.fix);
    expect(metresBetween(up, sitlHome)).toBeLessThan(2);
    expect(up.altitudeMsl - sitlHome.altitudeMetres).toBeCloseTo(up.position.z, 0);
    expect(up.time - up.link.lastHeard).toBeLessThan(1_500);
    expect(up.voltage).toBeGreaterThan(10);

    const before = frame();
    const forward = await command(pilot, "forward", "forward", [10]);
    expect(forward.type).toBe("ack");
    expect((await pilot.take((m) => m?.type === "done" && m.id === "forward", manoeuvreWithinMs)).data.status).toBe("completed");
    // `done` comes within 1.5 m of the target; the aircraft then settles on it.
    await viewer.waitTelemetry((all) => all.at(-1)?.speed < settledMetresPerSecond, 10_000);
    const moved = frame();
    const travelled = Math.hypot(moved.position.x - before.position.x, moved.position.y - before.position.y);
    expect(travelled).toBeGreaterThan(9);
    expect(travelled).toBeLessThan(11);
    // The same move on Earth: lat/lon moved as far as x/y did.
    expect(Math.abs(metresBetween(before, moved) - travelled)).toBeLessThan(0.3);
    // Along the heading: the bearing of the move is within 10 degrees of it.
    const bearing = (Math.atan2(moved.position.x - before.position.x, moved.position.y - before.position.y) * 180) / Math.PI;
    expect(angleGap(bearing, before.heading)).toBeLessThan(10);

    const cw = await command(pilot, "cw", "cw", [90]);
    expect(cw.type).toBe("ack");
    expect((await pilot.take((m) => m?.type === "done" && m.id === "cw", manoeuvreWithinMs)).data.status).toBe("completed");
    // `done` comes within 5 degrees of the new heading, and a frame may trail it by a tick: let the turn settle for a second.
    const doneAt = viewer.telemetry.length;
    await viewer.waitTelemetry((all) => all.length >= doneAt + settleFrames, 5_000);
    const turned = frame();
    expect(angleGap(cw.data.target.heading, moved.heading + 90)).toBeLessThan(5);
    expect(angleGap(turned.heading, moved.heading + 90)).toBeLessThan(5);

    const rth = await command(pilot, "rth", "rth");
    expect(rth.type).toBe("ack");
    await viewer.waitTelemetry((all) => all.at(-1)?.mode === "RTL", 5_000);
    const home = await pilot.take((m) => m?.type === "done" && m.id === "rth", returnWithinMs);
    expect(home.data).toMatchObject({ command: "rth", status: "completed" });
    await viewer.waitTelemetry((all) => all.at(-1)?.state === "landed" && all.at(-1)?.armed === false, 10_000);
    const landed = frame();
    expect(landed.position.z).toBeLessThan(0.5);
    expect(Math.hypot(landed.position.x, landed.position.y)).toBeLessThan(1.5);

    // On the ground: the autopilot's own commands.
    expect((await command(pilot, "mode", "mode", ["guided"])).data).toMatchObject({ command: "mode GUIDED" });
    expect((await pilot.done("mode", answerWithinMs)).data.status).toBe("completed");
    expect((await command(pilot, "arm", "arm")).type).toBe("ack");
    await viewer.waitTelemetry((all) => all.at(-1)?.armed === true, 5_000);
    expect((await command(pilot, "disarm", "disarm")).type).toBe("ack");
    await viewer.waitTelemetry((all) => all.at(-1)?.armed === false, 5_000);

    // A second flight whose pilot leaves: skyport holds (BRAKE), then after --failsafe-seconds returns it home (RTL) to a landing.
    const again = await command(pilot, "takeoff", "again");
    expect(again.type).toBe("ack");
    expect((await pilot.take((m) => m?.type === "done" && m.id === "again", takeoffWithinMs)).data.status).toBe("completed");
    expect((await command(pilot, "forward", "out", [8])).type).toBe("ack");
    expect((await pilot.take((m) => m?.type === "done" && m.id === "out", manoeuvreWithinMs)).data.status).toBe("completed");
    pilot.close();
    const hold = await viewer.take((m) => m?.type === "event" && m.data.kind === "failsafe" && m.data.action === "hover", 5_000);
    expect(hold.data.returnInSeconds).toBe(failsafeSeconds);
    await viewer.waitTelemetry((all) => all.at(-1)?.mode === "BRAKE", 5_000);
    await viewer.take((m) => m?.type === "event" && m.data.kind === "failsafe" && m.data.action === "rth", (failsafeSeconds + 5) * 1000);
    await viewer.waitTelemetry((all) => all.at(-1)?.mode === "RTL", 5_000);
    await viewer.waitTelemetry((all) => all.at(-1)?.state === "landed" && all.at(-1)?.armed === false, returnWithinMs);
    expect(Math.hypot(frame().position.x, frame().position.y)).toBeLessThan(1.5);

    // Two viewers saw the same frames, byte for byte as parsed, for every seq both received.
    const second = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
    await second.waitTelemetry((all) => all.length >= 5, 5_000);
    const mine = new Map(frames().map((f) => [f.seq, JSON.stringify(f)]));
    const shared = second.telemetry.filter((f) => mine.has(f.seq));
    expect(shared.length).toBeGreaterThanOrEqual(3);
    for (const f of shared) expect(JSON.stringify(f)).toBe(mine.get(f.seq)!);

    // The link cut and restored: link lost, commands refused, then back with seq continuing.
    const cutAt = frame().seq;
    proxy.cut();
    await viewer.take((m) => m?.type === "event" && m.data.kind === "link_lost", 5_000);
    await viewer.waitTelemetry((all) => all.at(-1)?.link.status === "lost", 5_000);
    proxy.restore();
    await viewer.take((m) => m?.type === "event" && m.data.kind === "link_regained", 20_000);
    await viewer.waitTelemetry((all) => all.at(-1)?.link.status === "up", 5_000);
    const seqs = frames().map((f) => f.seq).filter((seq) => seq >= cutAt);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => cutAt + i));

    // A late client resumes from a seq the viewer saw and gets exactly the frames that followed it.
    const since = frames().at(-30)!.seq;
    const late = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
    const ack = await late.request("subscribe", { drone: "copter", since, epoch: late.welcome.data.drones.find((d: { id: string }) => d.id === "copter").epoch });
    expect(ack.data).toMatchObject({ drone: "copter", subscribed: true });
    await late.waitTelemetry((all) => all.some((f) => f.seq === since + 20), 5_000);
    for (const f of late.telemetry.filter((f) => f.seq > since && f.seq <= since + 20)) expect(JSON.stringify(f)).toBe(mine.get(f.seq) ?? JSON.stringify(frames().find((g) => g.seq === f.seq)));
    viewer.close();
    second.close();
    late.close();
  },
  readyWithinMs + 2 * takeoffWithinMs + 3 * manoeuvreWithinMs + 2 * returnWithinMs + 60_000,
);

/**
 * A second ground station on SITL's SERIAL1 (base port + 2), as system 254:
 * it watches the autopilot's HEARTBEATs and sets parameters, and never sends a
 * HEARTBEAT of its own, so the autopilot's GCS failsafe (which watches system
 * 255, skyport) is not kept alive by it.
 */
async function connectMonitor(port: number) {
  const heard: MavInbound[] = [];
  const decoder = new MavlinkDecoder((message) => heard.push(message));
  const socket: Socket<undefined> = await Bun.connect<undefined>({ hostname: "127.0.0.1", port, socket: { data: (_s, data) => decoder.feed(data) } });
  const protocol = new MavLinkProtocolV2(254, 190);
  return {
    heard,
    setParameter(name: string, value: number) {
      const m = new common.ParamSet();
      m.targetSystem = 1;
      m.targetComponent = 1;
      m.paramId = name;
      m.paramValue = value;
      m.paramType = common.MavParamType.INT8;
      socket.write(protocol.serialize(m, 0));
    },
    close() {
      socket.end();
      decoder.close();
    },
  };
}

test.skipIf(missing !== null)(
  "skyport killed mid-air with the autopilot's GCS failsafe on: the aircraft returns on its own (FS_GCS_ENABLE 1, RTL)",
  async () => {
    const monitor = await connectMonitor(sitl.port + 2);
    try {
      const pilot = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
      // FS_GCS_ENABLE 1: RTL when the ground station's heartbeat stops for FS_GCS_TIMEOUT (5 s).
      const deadline = Date.now() + 10_000;
      while (!monitor.heard.some((m) => m.type === "param_value" && m.paramId === "FS_GCS_ENABLE" && m.paramValue === 1)) {
        if (Date.now() > deadline) throw new Error("SITL did not confirm FS_GCS_ENABLE = 1");
        monitor.setParameter("FS_GCS_ENABLE", 1);
        await Bun.sleep(500);
      }
      expect((await pilot.request("claim", { drone: "copter" })).type).toBe("ack");
      const takeoff = await command(pilot, "takeoff", "last-takeoff");
      expect(takeoff.type).toBe("ack");
      expect((await pilot.take((m) => m?.type === "done" && m.id === "last-takeoff", takeoffWithinMs)).data.status).toBe("completed");
      const killedAt = Date.now();
      server.proc.kill("SIGKILL");
      await server.exited;
      // The autopilot stops hearing skyport; after FS_GCS_TIMEOUT it switches to RTL (or LAND, being over home) by itself.
      const modes = () => monitor.heard.flatMap((m) => (m.type === "heartbeat" && m.sysid === 1 && m.compid === 1 ? [m.customMode] : []));
      const before = modes().length;
      while (!modes().slice(before).some((mode) => mode === 6 || mode === 9)) {
        if (Date.now() - killedAt > 20_000) throw new Error(`no RTL or LAND within 20 s of skyport's death; modes heard: ${[...new Set(modes().slice(before))].join(", ")}`);
        await Bun.sleep(200);
      }
      const actedAfter = (Date.now() - killedAt) / 1000;
      console.log(`the autopilot's GCS failsafe acted ${actedAfter.toFixed(1)} s after skyport died`);
      expect(actedAfter).toBeGreaterThan(4);
    } finally {
      monitor.close();
    }
  },
  readyWithinMs + takeoffWithinMs + 40_000,
);
