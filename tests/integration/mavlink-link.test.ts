/**
 * The MAVLink TCP link against a fake autopilot on a real loopback socket:
 * skyport's GCS HEARTBEAT (v2, system 255, MAV_TYPE_GCS) at 1 Hz, the streams
 * requested when the vehicle is first heard, garbage and other systems counted
 * (never a crash, never a command to them), and a reconnect after the
 * autopilot's side closes, with the link lost meanwhile.
 */
import { afterEach, expect, test } from "bun:test";
import { minimal, common } from "node-mavlink";
import { MavCmd, MavMessageId } from "../../src/core/vehicle/mavlink/messages.ts";
import { MavlinkVehicle } from "../../src/core/vehicle/mavlink/vehicle.ts";
import { MavlinkTcpLink } from "../../src/runtime/mavlink/link.ts";
import { collectingLogger } from "../../src/runtime/observability/log.ts";
import { FakeAutopilot } from "../support/mavlink-autopilot.ts";
import { startAutopilotServer } from "../support/autopilot-server.ts";
import { waitUntil } from "../support/sockets.ts";
import { startTestServer } from "../support/server.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function rig() {
  const autopilot = startAutopilotServer();
  const vehicle = new MavlinkVehicle("copter");
  const logger = collectingLogger();
  const link = new MavlinkTcpLink({ vehicle, endpoint: { transport: "tcp", host: "127.0.0.1", port: autopilot.port }, gcsSystemId: 255, nowSeconds: () => performance.now() / 1000, logger, random: () => 0 });
  link.start();
  cleanups.push(() => link.stop(), () => autopilot.stop());
  return { autopilot, vehicle, link, logger };
}

test("skyport sends its own v2 HEARTBEAT as a GCS (system 255) once a second while connected", async () => {
  const { autopilot } = rig();
  await waitUntil(() => autopilot.received.filter((r) => r.packet.header.msgid === minimal.Heartbeat.MSG_ID).length >= 3, 4_000, "three GCS heartbeats");
  const beats = autopilot.received.filter((r) => r.packet.header.msgid === minimal.Heartbeat.MSG_ID);
  for (const beat of beats) {
    expect(beat.packet.header.magic).toBe(0xfd);
    expect(beat.packet.header.sysid).toBe(255);
    expect(beat.packet.protocol.data(beat.packet.payload, minimal.Heartbeat).type).toBe(minimal.MavType.GCS);
  }
  const gap = beats[2]!.at - beats[1]!.at;
  expect(gap).toBeGreaterThan(800);
  expect(gap).toBeLessThan(1300);
});

test("garbage and another system are counted, the vehicle's own heartbeat brings the link up and its streams are requested from it alone", async () => {
  const { autopilot, vehicle, link } = rig();
  const copter = new FakeAutopilot(1, 1);
  const stranger = new FakeAutopilot(7, 1);
  await waitUntil(() => autopilot.connections === 1 && autopilot.received.length > 0, 3_000, "connected");
  const broken = copter.heartbeat();
  broken[broken.length - 2] = broken[broken.length - 2]! ^ 0x55;
  autopilot.send(Buffer.concat([Buffer.from("\x00\x01garbage bytes\r\n"), broken, stranger.heartbeat(), copter.heartbeat()]));
  await waitUntil(() => vehicle.linkUp, 3_000, "link up");
  await waitUntil(() => autopilot.received.filter((r) => r.packet.header.msgid === common.CommandLong.MSG_ID).length >= 4, 3_000, "stream requests");
  const requests = autopilot.received
    .filter((r) => r.packet.header.msgid === common.CommandLong.MSG_ID)
    .map((r) => r.packet.protocol.data(r.packet.payload, common.CommandLong));
  expect(requests.every((c) => c.command === MavCmd.SET_MESSAGE_INTERVAL && c.targetSystem === 1)).toBe(true);
  expect(requests.map((c) => c._param1)).toContain(MavMessageId.EXTENDED_SYS_STATE);
  const status = link.status();
  expect(status.codec.crcErrors).toBe(1);
  expect(status.otherSystem).toBe(1);
  expect(status.connected).toBe(true);
});

test("when the autopilot's side closes, the link is lost at once and skyport reconnects", async () => {
  const { autopilot, vehicle, link, logger } = rig();
  const copter = new FakeAutopilot(1, 1);
  await waitUntil(() => autopilot.connections === 1 && autopilot.received.length > 0, 3_000, "connected");
  autopilot.send(copter.heartbeat());
  await waitUntil(() => vehicle.linkUp, 3_000, "link up");
  vehicle.takeEvents();
  autopilot.dropConnection();
  await waitUntil(() => !vehicle.linkUp, 3_000, "link lost");
  expect(vehicle.takeEvents()).toEqual([{ type: "link_lost", reason: "the connection closed" }]);
  await waitUntil(() => autopilot.connections === 2, 3_000, "reconnected");
  await waitUntil(() => link.status().connected, 3_000, "connected again");
  autopilot.send(copter.heartbeat());
  await waitUntil(() => vehicle.linkUp, 3_000, "link regained");
  expect(link.status().reconnects).toBe(1);
  expect(logger.lines.some((line) => line.event === "mavlink_disconnected")).toBe(true);
});

test("nothing listening: connection failures are retried with backoff and logged once per streak", async () => {
  const autopilot = startAutopilotServer();
  const port = autopilot.port;
  autopilot.stop();
  const vehicle = new MavlinkVehicle("copter");
  const logger = collectingLogger();
  const link = new MavlinkTcpLink({ vehicle, endpoint: { transport: "tcp", host: "127.0.0.1", port }, gcsSystemId: 255, nowSeconds: () => performance.now() / 1000, logger, random: () => 0 });
  link.start();
  cleanups.push(() => link.stop());
  await waitUntil(() => link.status().connectFailures >= 3, 5_000, "three failed attempts");
  expect(logger.lines.filter((line) => line.event === "mavlink_connect_failed")).toHaveLength(1);
  expect(vehicle.linkUp).toBe(false);
});

test("a connection that stays silent is dropped and made anew (a half-open link must not keep the vehicle lost)", async () => {
  const autopilot = startAutopilotServer();
  const vehicle = new MavlinkVehicle("copter");
  const logger = collectingLogger();
  const link = new MavlinkTcpLink({
    vehicle,
    endpoint: { transport: "tcp", host: "127.0.0.1", port: autopilot.port },
    gcsSystemId: 255,
    nowSeconds: () => performance.now() / 1000,
    logger,
    random: () => 0,
    silentMilliseconds: 1_500,
  });
  link.start();
  cleanups.push(() => link.stop(), () => autopilot.stop());
  await waitUntil(() => autopilot.connections === 2, 5_000, "a second connection after the first stayed silent");
  expect(logger.lines.find((line) => line.event === "mavlink_disconnected")?.reason).toMatch(/^no bytes from the vehicle for \d+ s$/);
});

test("a vehicle whose GCS failsafe is off: skyport reads FS_GCS_ENABLE, and /healthz and the log say what to set", async () => {
  const autopilot = startAutopilotServer();
  cleanups.push(() => autopilot.stop());
  const url = `tcp:127.0.0.1:${autopilot.port}`;
  const server = startTestServer({ mavlink: [{ name: "copter", url, endpoint: { transport: "tcp", host: "127.0.0.1", port: autopilot.port }, systemId: 1, takeoffAltitudeMetres: 10, uploadFence: false }] });
  cleanups.push(() => void server.stop());
  const copter = new FakeAutopilot(1, 1);
  const health = async () => (await (await fetch(server.http("/healthz"))).json()) as { vehicles: Array<{ id: string; url: string; link: string; gcsFailsafe: string; fence: string; warnings: string[] }> };
  expect((await health()).vehicles).toEqual([{ id: "copter", url, link: "lost", gcsFailsafe: "unknown", fence: "off", warnings: [] }]);

  await waitUntil(() => autopilot.connections === 1, 3_000, "connected");
  autopilot.send(copter.heartbeat());
  await waitUntil(() => autopilot.received.some((r) => r.packet.header.msgid === common.ParamRequestRead.MSG_ID), 3_000, "FS_GCS_ENABLE asked");
  const asked = autopilot.received.find((r) => r.packet.header.msgid === common.ParamRequestRead.MSG_ID)!;
  expect(asked.packet.protocol.data(asked.packet.payload, common.ParamRequestRead)).toMatchObject({ targetSystem: 1, paramId: "FS_GCS_ENABLE", paramIndex: -1 });
  autopilot.send(copter.paramValue("FS_GCS_ENABLE", 0));
  let vehicles = (await health()).vehicles;
  for (let i = 0; i < 100 && vehicles[0]!.gcsFailsafe !== "disabled"; i++) {
    await Bun.sleep(20);
    vehicles = (await health()).vehicles;
  }
  expect(vehicles[0]).toMatchObject({ id: "copter", link: "up", gcsFailsafe: "disabled" });
  expect(vehicles[0]!.warnings).toEqual(["GCS failsafe off (FS_GCS_ENABLE=0): if skyport or the link dies, copter will not act on its own; set FS_GCS_ENABLE to 1 (RTL) or 5 (Land)"]);
});

test("a link this node may not command (its cluster claim lapsed) writes nothing, heartbeats included, and counts what it held back", async () => {
  const autopilot = startAutopilotServer();
  cleanups.push(() => autopilot.stop());
  const vehicle = new MavlinkVehicle("copter");
  let mayCommand = true;
  const link = new MavlinkTcpLink({
    vehicle,
    endpoint: { transport: "tcp", host: "127.0.0.1", port: autopilot.port },
    gcsSystemId: 255,
    nowSeconds: () => performance.now() / 1000,
    logger: collectingLogger(),
    mayCommand: () => mayCommand,
  });
  link.start();
  cleanups.push(() => link.stop());
  await waitUntil(() => autopilot.received.length >= 1, 3_000, "the first heartbeat");
  mayCommand = false;
  const fencedAt = performance.now();
  autopilot.send(new FakeAutopilot(1, 1).heartbeat());
  await waitUntil(() => vehicle.linkUp && link.status().fencedWrites >= 3, 5_000, "writes held back");
  // The link came up (stream requests, FS_GCS_ENABLE, heartbeats were all due) and not one byte reached the aircraft.
  expect(autopilot.received.filter((r) => r.at > fencedAt)).toEqual([]);
  mayCommand = true;
  await waitUntil(() => autopilot.received.some((r) => r.at > fencedAt), 3_000, "heartbeats again once allowed");
});
