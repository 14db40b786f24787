/**
 * The geofence polygon given to the real autopilot: ArduCopter SITL (real
 * time, default parameters) behind a real `server.ts --geofence-polygon FILE
 * --mavlink copter=...,fence=upload`. skyport uploads the polygon through
 * the fence list on link-up, `/healthz` says it is uploaded, viewers are
 * warned that SITL's default FENCE_ENABLE=0 will not enforce it, and a second
 * ground station reading the autopilot's fence list back gets every corner.
 *
 * Skips with one line when `../shared/sitl` is absent (a clone elsewhere).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { common, MavLinkProtocolV2 } from "node-mavlink";
import { pointFromHome } from "../../src/core/vehicle/geodesy.ts";
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
 * A second ground station on SITL's SERIAL1 (base port + 2) as system 254,
 * reading the autopilot's fence list: MISSION_REQUEST_LIST, then each item.
 */
async function readFenceList(port: number): Promise<Array<{ command: number; x: number; y: number; param1: number }>> {
  const heard: MavInbound[] = [];
  const decoder = new MavlinkDecoder((message) => heard.push(message));
  const socket: Socket<undefined> = await Bun.connect<undefined>({ hostname: "127.0.0.1", port, socket: { data: (_s, data) => decoder.feed(data) } });
  const protocol = new MavLinkProtocolV2(254, 190);
  const send = (m: common.MissionRequestList | common.MissionRequestInt) => {
    m.targetSystem = 1;
    m.targetComponent = 1;
    m.missionType = common.MavMissionType.FENCE;
    socket.write(protocol.serialize(m, 0));
  };
  /** Sends `ask` every second until a message `match` finds arrives (10 s at most). */
  const until = async <T extends MavInbound>(ask: () => void, match: (m: MavInbound) => m is T): Promise<T> => {
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
    throw new Error("SITL did not answer the fence list request");
  };
  try {
    const count = await until(() => send(new common.MissionRequestList()), (m): m is Extract<MavInbound, { type: "mission_count" }> => m.type === "mission_count" && m.missionType === 1);
    const items = [];
    for (let seq = 0; seq < count.count; seq++) {
      const item = await until(
        () => {
          const request = new common.MissionRequestInt();
          request.seq = seq;
          send(request);
        },
        (m): m is Extract<MavInbound, { type: "mission_item" }> => m.type === "mission_item" && m.missionType === 1 && m.seq === seq,
      );
      items.push({ command: item.command, x: item.x, y: item.y, param1: item.params[0] });
    }
    return items;
  } finally {
    socket.end();
    decoder.close();
  }
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

      const list = await readFenceList(sitl.port + 2);
      expect(list.map((item) => item.command)).toEqual(corners.map(() => fencePolygonVertexInclusion));
      expect(list.map((item) => item.param1)).toEqual(corners.map(() => corners.length));
      expect(list.map((item) => [item.x, item.y])).toEqual(corners.map(({ lat, lon }) => [Math.round(lat * 1e7), Math.round(lon * 1e7)]));
    } finally {
      viewer.close();
    }
  },
  uploadedWithinMs + 60_000,
);
