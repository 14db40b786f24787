/**
 * The geofence polygon given to the real autopilot: ArduCopter SITL (real
 * time, default parameters) behind a real `server.ts --geofence-polygon FILE
 * --mavlink copter=...,fence=upload`. skyport uploads the polygon through
 * the fence list on link-up, `/healthz` says it is uploaded, viewers are
 * warned that SITL's default FENCE_ENABLE=0 will not enforce it, and a second
 * ground station reading the autopilot's fence list back gets every corner.
 * Then, the fence enabled and skyport killed mid-air, that second ground
 * station's target inside the polygon is flown and its target in the field's
 * notch is not, until it disables the fence.
 *
 * Skips with one line when `../shared/sitl` is absent (a clone elsewhere).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { common, MavLinkProtocolV2, type MavLinkData } from "node-mavlink";
import { offsetFromHome, pointFromHome } from "../../src/core/vehicle/geodesy.ts";
import type { MavInbound } from "../../src/core/vehicle/mavlink/messages.ts";
import { fencePolygonVertexInclusion } from "../../src/core/vehicle/mavlink/vehicle-fence.ts";
import { MavlinkDecoder } from "../../src/runtime/mavlink/codec.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { uShapedField } from "../support/fields.ts";
import { sitlHome, sitlServerSuite } from "../support/sitl.ts";

const corners = uShapedField().map(({ x, y }) => pointFromHome(sitlHome, x, y));
/** The polygon as a GeoJSON file in a fresh folder. */
function polygonFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), "skyport-sitl-fence-")), "field.geojson");
  writeFileSync(file, JSON.stringify({ type: "Polygon", coordinates: [[...corners, corners[0]!].map(({ lat, lon }) => [lon, lat])] }));
  return file;
}
const suite = sitlServerSuite({ beforeAll, afterAll }, { vehicleOptions: ",fence=upload", args: () => ["--geofence-polygon", polygonFile()] });

/** The link comes up and the mission download ends within seconds of SITL starting; the upload follows. */
const uploadedWithinMs = 60_000;

/**
 * A second ground station on SITL's SERIAL1 (base port + 2) as system 254:
 * it reads and sets parameters, reads the fence list, asks for positions and
 * sends position targets. It never sends a HEARTBEAT, so the autopilot does
 * not take it for its ground station.
 */
async function connectMonitor(port: number) {
  const heard: MavInbound[] = [];
  const decoder = new MavlinkDecoder((message) => heard.push(message));
  const socket: Socket<undefined> = await Bun.connect<undefined>({ hostname: "127.0.0.1", port, socket: { data: (_s, data) => decoder.feed(data) } });
  const protocol = new MavLinkProtocolV2(254, 190);
  const send = (m: MavLinkData & { targetSystem: number; targetComponent: number }) => {
    m.targetSystem = 1;
    m.targetComponent = 1;
    socket.write(protocol.serialize(m, 0));
  };
  /** Sends `ask` every second until a message `match` finds arrives (10 tries). */
  const until = async <T extends MavInbound>(ask: () => void, match: (m: MavInbound) => m is T, what: string): Promise<T> => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const from = heard.length;
      ask();
      const deadline = Date.now() + 1000;
      while (Date.now() < deadline) {
        const found = heard.slice(from).find(match);
        if (found !== undefined) return found;
        await Bun.sleep(20);
      }
    }
    throw new Error(`SITL did not answer: ${what}`);
  };
  const fenceRequest = <M extends common.MissionRequestList | common.MissionRequestInt>(m: M): M => {
    m.missionType = common.MavMissionType.FENCE;
    return m;
  };
  return {
    heard,
    /** The autopilot's fence list, read as a ground station reads it. */
    async fenceList(): Promise<Array<{ command: number; x: number; y: number; param1: number }>> {
      const count = await until(() => send(fenceRequest(new common.MissionRequestList())), (m): m is Extract<MavInbound, { type: "mission_count" }> => m.type === "mission_count" && m.missionType === 1, "the fence list's count");
      const items = [];
      for (let seq = 0; seq < count.count; seq++) {
        const request = fenceRequest(new common.MissionRequestInt());
        request.seq = seq;
        const item = await until(() => send(request), (m): m is Extract<MavInbound, { type: "mission_item" }> => m.type === "mission_item" && m.missionType === 1 && m.seq === seq, `fence item ${seq}`);
        items.push({ command: item.command, x: item.x, y: item.y, param1: item.params[0] });
      }
      return items;
    },
    /** Sets an integer parameter and waits for the autopilot to confirm it. */
    async setParameter(name: string, value: number): Promise<void> {
      const set = new common.ParamSet();
      set.paramId = name;
      set.paramValue = value;
      set.paramType = common.MavParamType.INT8;
      await until(() => send(set), (m): m is Extract<MavInbound, { type: "param_value" }> => m.type === "param_value" && m.paramId === name && m.paramValue === value, `${name} = ${value}`);
    },
    /** Asks for GLOBAL_POSITION_INT five times a second on this link. */
    streamPositions(): void {
      const interval = new common.CommandLong();
      interval.command = common.MavCmd.SET_MESSAGE_INTERVAL;
      interval._param1 = 33;
      interval._param2 = 200_000;
      send(interval);
    },
    /** A GUIDED position target `x` m east and `y` m north of home, 10 m above it. */
    flyTo(x: number, y: number): void {
      const { lat, lon } = pointFromHome(sitlHome, x, y);
      const target = new common.SetPositionTargetGlobalInt();
      target.coordinateFrame = common.MavFrame.GLOBAL_RELATIVE_ALT_INT;
      target.typeMask = 0b0000_1111_1111_1000 as common.PositionTargetTypemask;
      target.latInt = Math.round(lat * 1e7);
      target.lonInt = Math.round(lon * 1e7);
      target.alt = 10;
      send(target);
    },
    /** Metres east and north of home of every position heard so far, oldest first. */
    positions(): Array<{ x: number; y: number }> {
      return heard.flatMap((m) => (m.type === "global_position_int" && m.sysid === 1 && m.lat !== 0 ? [offsetFromHome(sitlHome, { lat: m.lat / 1e7, lon: m.lon / 1e7 })] : []));
    },
    /** The custom modes of the autopilot's HEARTBEATs, oldest first. */
    modes(): number[] {
      return heard.flatMap((m) => (m.type === "heartbeat" && m.sysid === 1 && m.compid === 1 ? [m.customMode] : []));
    },
    close() {
      socket.end();
      decoder.close();
    },
  };
}

test.skipIf(suite.missing !== null)(
  "uploaded on link-up, reported by /healthz, warned about while FENCE_ENABLE=0, and read back corner for corner",
  async () => {
    const { server, sitl } = suite;
    const viewer = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
    try {
      const deadline = Date.now() + uploadedWithinMs;
      let fence = "";
      while (fence !== "uploaded") {
        if (Date.now() > deadline) throw new Error(`the fence was not uploaded within ${uploadedWithinMs} ms: /healthz says ${fence}`);
        fence = ((await (await fetch(server.http("/healthz"))).json()) as { vehicles: Array<{ fence: string }> }).vehicles[0]!.fence;
        if (fence === "failed") throw new Error(`the upload failed: ${server.stderr.join("\n")}`);
        await Bun.sleep(250);
      }
      const warning = await viewer.take((m) => m?.type === "event" && m.data.kind === "vehicle_warning" && String(m.data.message).includes("geofence polygon"), 15_000);
      expect(warning.data.message).toContain("copter holds the geofence polygon but will not enforce it (FENCE_ENABLE=0)");

      const monitor = await connectMonitor(sitl.port + 2);
      const list = await monitor.fenceList().finally(() => monitor.close());
      expect(list.map((item) => item.command)).toEqual(corners.map(() => fencePolygonVertexInclusion));
      expect(list.map((item) => item.param1)).toEqual(corners.map(() => corners.length));
      expect(list.map((item) => [item.x, item.y])).toEqual(corners.map(({ lat, lon }) => [Math.round(lat * 1e7), Math.round(lon * 1e7)]));
    } finally {
      viewer.close();
    }
  },
  uploadedWithinMs + 60_000,
);

/** Arming is refused until EKF3 uses GPS: ≈41–44 s after launch, with margin for 2 shared cores. */
const readyWithinMs = 120_000;
/** How deep into the field's notch the aircraft may stray before the fence stops it: FENCE_MARGIN (2 m) and GPS noise. */
const notchToleranceMetres = 5;

/** How far a point lies inside the U's notch (|x| < 20, y > 20), metres; 0 outside it. */
function depthInNotch({ x, y }: { x: number; y: number }): number {
  return Math.max(0, Math.min(20 - Math.abs(x), y - 20));
}

test.skipIf(suite.missing !== null)(
  "with the autopilot's fence enabled and skyport killed mid-air, a target inside the polygon is flown and one in its notch is not (until the fence is disabled)",
  async () => {
    const { server, sitl } = suite;
    const monitor = await connectMonitor(sitl.port + 2);
    try {
      await monitor.setParameter("FENCE_ENABLE", 1);
      await monitor.setParameter("FENCE_TYPE", 7);
      const pilot = await DroneTestClient.connect(server.ws("/drone?drone=copter"));
      expect((await pilot.request("claim", { drone: "copter" })).type).toBe("ack");
      const deadline = Date.now() + readyWithinMs;
      let takeoff: any = null;
      for (let attempt = 1; takeoff === null; attempt++) {
        if (Date.now() > deadline) throw new Error(`takeoff not accepted within ${readyWithinMs} ms`);
        const answer = await pilot.request("command", { drone: "copter", name: "takeoff" }, `takeoff-${attempt}`);
        if (answer.type === "ack") takeoff = answer;
        else await Bun.sleep(2_000);
      }
      expect((await pilot.take((m) => m?.type === "done" && m.id === takeoff.id, 60_000)).data.status).toBe("completed");

      // skyport dies: from here the autopilot is on its own, with the polygon it was given.
      server.proc.kill("SIGKILL");
      await server.exited;
      monitor.streamPositions();

      // The control: a target inside the polygon, 40 m west, is flown.
      const reached = Date.now() + 40_000;
      while (!monitor.positions().slice(-3).some((p) => Math.hypot(p.x + 40, p.y) < 3)) {
        if (Date.now() > reached) throw new Error(`the target inside the polygon was not reached; last position ${JSON.stringify(monitor.positions().at(-1))}`);
        monitor.flyTo(-40, 0);
        await Bun.sleep(1_000);
      }
      // The treatment: a target in the notch, outside the polygon: the autopilot refuses it, or turns back at the fence.
      const before = monitor.positions().length;
      const modesBefore = monitor.modes().length;
      const watchUntil = Date.now() + 15_000;
      while (Date.now() < watchUntil) {
        monitor.flyTo(0, 60);
        await Bun.sleep(1_000);
      }
      const after = monitor.positions().slice(before);
      expect(after.length).toBeGreaterThan(20);
      const deepest = Math.max(...after.map(depthInNotch));
      const stayed = after.every((p) => Math.hypot(p.x + 40, p.y) < 5);
      const returned = monitor.modes().slice(modesBefore).some((mode) => mode === 6 || mode === 9);
      console.log(`in the notch at most ${deepest.toFixed(1)} m; stayed at the control point: ${stayed}; RTL or LAND: ${returned}`);
      expect(deepest).toBeLessThan(notchToleranceMetres);
      expect(stayed || returned).toBe(true);
      // And it was the fence: with FENCE_ENABLE 0 the same target is flown into the notch.
      if (returned) return;
      await monitor.setParameter("FENCE_ENABLE", 0);
      const intoNotch = Date.now() + 40_000;
      while (!monitor.positions().slice(-3).some((p) => depthInNotch(p) > 10)) {
        if (Date.now() > intoNotch) throw new Error(`without the fence the target in the notch was not flown either; last position ${JSON.stringify(monitor.positions().at(-1))}`);
        monitor.flyTo(0, 60);
        await Bun.sleep(1_000);
      }
    } finally {
      monitor.close();
    }
  },
  readyWithinMs + 150_000,
);
