/**
 * The MAVLink UDP links on real loopback sockets: `udpin` answers only the
 * vehicle's own system (another system sending to the same port is never
 * sent a command), `udpout` sends skyport's HEARTBEAT to a listening vehicle
 * and hears its answers.
 */
import { afterEach, expect, test } from "bun:test";
import { common, minimal, type MavLinkPacket } from "node-mavlink";
import { MavCmd } from "../../src/core/vehicle/mavlink/messages.ts";
import { MavlinkVehicle } from "../../src/core/vehicle/mavlink/vehicle.ts";
import { collectingLogger } from "../../src/runtime/observability/log.ts";
import { MavlinkUdpLink } from "../../src/runtime/mavlink/udp-link.ts";
import { decodePackets, FakeAutopilot } from "../support/mavlink-autopilot.ts";
import { waitUntil } from "../support/sockets.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A UDP socket on an ephemeral loopback port that records what it receives. */
async function udpPeer() {
  const received: MavLinkPacket[] = [];
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    binaryType: "buffer",
    socket: { data: (_s, data) => void received.push(...decodePackets(Buffer.from(data))) },
  });
  cleanups.push(() => socket.close());
  return { socket, received, port: socket.port };
}

async function freeUdpPort(): Promise<number> {
  const probe = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const port = probe.port;
  probe.close();
  return port;
}

test("udpin: the vehicle's own packets say where to answer; another system on the port is never answered", async () => {
  const port = await freeUdpPort();
  const vehicle = new MavlinkVehicle("copter");
  const link = new MavlinkUdpLink({ vehicle, endpoint: { transport: "udpin", host: "127.0.0.1", port }, gcsSystemId: 255, nowSeconds: () => performance.now() / 1000, logger: collectingLogger() });
  link.start();
  cleanups.push(() => link.stop());
  const stranger = await udpPeer();
  const copter = await udpPeer();
  for (let i = 0; i < 50 && link.status().codec.packets === 0; i++) {
    stranger.socket.send(new FakeAutopilot(7, 1).heartbeat(), port, "127.0.0.1");
    await Bun.sleep(20);
  }
  expect(vehicle.linkUp).toBe(false);
  expect(link.status().connected).toBe(false);
  copter.socket.send(new FakeAutopilot(1, 1).heartbeat(), port, "127.0.0.1");
  await waitUntil(() => vehicle.linkUp, 3_000, "link up");
  await waitUntil(() => copter.received.some((p) => p.header.msgid === common.CommandLong.MSG_ID), 3_000, "stream requests at the copter");
  const requests = copter.received.filter((p) => p.header.msgid === common.CommandLong.MSG_ID).map((p) => p.protocol.data(p.payload, common.CommandLong));
  expect(requests.every((c) => c.command === MavCmd.SET_MESSAGE_INTERVAL && c.targetSystem === 1)).toBe(true);
  expect(stranger.received).toEqual([]);
  expect(vehicle.counters.otherSystem).toBeGreaterThan(0);
});

test("udpout: skyport's HEARTBEAT reaches the listening vehicle, whose answers bring the link up", async () => {
  const copter = await udpPeer();
  const vehicle = new MavlinkVehicle("copter");
  const link = new MavlinkUdpLink({ vehicle, endpoint: { transport: "udpout", host: "127.0.0.1", port: copter.port }, gcsSystemId: 255, nowSeconds: () => performance.now() / 1000, logger: collectingLogger() });
  link.start();
  cleanups.push(() => link.stop());
  await waitUntil(() => copter.received.some((p) => p.header.msgid === minimal.Heartbeat.MSG_ID), 3_000, "a GCS heartbeat at the vehicle");
  const beat = copter.received.find((p) => p.header.msgid === minimal.Heartbeat.MSG_ID)!;
  expect(beat.header.sysid).toBe(255);
  expect(beat.header.magic).toBe(0xfd);
  // The vehicle answers to where the heartbeat came from, as ArduPilot does.
  copter.socket.send(new FakeAutopilot(1, 1).heartbeat(), link.localPort!, "127.0.0.1");
  await waitUntil(() => vehicle.linkUp, 3_000, "link up");
});
