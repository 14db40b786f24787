/**
 * `.tlog` exports of a MAVLink vehicle: the packets a fake ArduCopter sends
 * while its reports say it flies are recorded raw (through the decoder's
 * packet tap, as the links wire it) and exported as QGroundControl writes
 * `.tlog`s: a 64-bit big-endian microsecond time, then the packet, which
 * node-mavlink parses with a valid CRC. A simulated drone's flight has none: 404.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { CopterMode, MavLandedState } from "../../../src/core/vehicle/mavlink/messages.ts";
import { MavlinkVehicle } from "../../../src/core/vehicle/mavlink/vehicle.ts";
import { MavlinkDecoder } from "../../../src/runtime/mavlink/codec.ts";
import { MavlinkTcpLink } from "../../../src/runtime/mavlink/link.ts";
import { collectingLogger } from "../../../src/runtime/observability/log.ts";
import { openSqliteStore } from "../../../src/runtime/recorder/sqlite-store.ts";
import { decodePackets, FakeAutopilot } from "../../support/mavlink-autopilot.ts";
import { emptyBatch } from "../../../src/runtime/recorder/store.ts";
import { flightRow, tempDataDir } from "../../support/recorder.ts";
import { startSimServer } from "../../support/server.ts";
import { waitUntil } from "../../support/sockets.ts";

const dir = tempDataDir();
let server: ReturnType<typeof startSimServer>;
let decoder: MavlinkDecoder;
const autopilot = new FakeAutopilot(1, 1);
/** The packets fed while the copter's flight was open, in order. */
const inFlight: Buffer[] = [];

beforeAll(async () => {
  const copter = new MavlinkVehicle("copter");
  server = startSimServer({}, { vehicles: [copter], recording: { store: openSqliteStore(dir.path), recovery: [] } });
  decoder = new MavlinkDecoder((message) => copter.receive(message, server.flight.nowSeconds()), (bytes) => server.recorder!.mavlinkPacket("copter", bytes));
  const hear = (...packets: Buffer[]) => {
    // The flight is open from the first airborne frame (the advance after the reports) to the landed one.
    const open = server.flight.fleet.state("copter").state !== "landed";
    for (const packet of packets) {
      decoder.feed(packet);
      if (open) inFlight.push(packet);
    }
    server.advance(0.1);
  };
  hear(autopilot.heartbeat({ customMode: CopterMode.GUIDED }), autopilot.home(), autopilot.position(0, 0, 0), autopilot.landedState(MavLandedState.ON_GROUND));
  hear(autopilot.heartbeat({ armed: true, customMode: CopterMode.GUIDED }), autopilot.landedState(MavLandedState.IN_AIR), autopilot.position(0, 0, 10));
  expect(server.flight.fleet.state("copter").state).not.toBe("landed");
  for (let y = 1; y <= 20; y++) hear(autopilot.position(0, y, 10), ...(y % 10 === 0 ? [autopilot.heartbeat({ armed: true, customMode: CopterMode.GUIDED })] : []));
  hear(autopilot.landedState(MavLandedState.ON_GROUND), autopilot.position(0, 20, 0), autopilot.heartbeat({ customMode: CopterMode.GUIDED }));
  expect(server.flight.fleet.state("copter").state).toBe("landed");
  server.advance(1);
  await server.recorder!.flush();
});
afterAll(async () => {
  decoder.close();
  await server.stop();
  dir.remove();
});

/** Splits a `.tlog` into (time µs, packet bytes) records, reading each MAVLink v2 frame's length from its header. */
function tlogRecords(bytes: Uint8Array): { timeUs: bigint; packet: Buffer }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: { timeUs: bigint; packet: Buffer }[] = [];
  for (let at = 0; at < bytes.length; ) {
    const timeUs = view.getBigUint64(at, false);
    expect(bytes[at + 8]).toBe(0xfd);
    const signed = (bytes[at + 10]! & 0x01) === 1;
    const length = 10 + bytes[at + 9]! + 2 + (signed ? 13 : 0);
    records.push({ timeUs, packet: Buffer.from(bytes.subarray(at + 8, at + 8 + length)) });
    at += 8 + length;
  }
  return records;
}

test("a MAVLink flight exports its packets as a .tlog that parses with valid CRCs, in order, timed", async () => {
  const { flights } = await (await fetch(server.http("/api/flights?drone=copter"))).json();
  expect(flights).toHaveLength(1);
  const response = await fetch(server.http(`/api/flights/${flights[0].id}/export?format=tlog`));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/octet-stream");
  expect(response.headers.get("content-disposition")).toBe(`attachment; filename="${flights[0].id}.tlog"`);
  const records = tlogRecords(new Uint8Array(await response.arrayBuffer()));
  expect(records.map((record) => record.packet.toString("hex"))).toEqual(inFlight.map((packet) => packet.toString("hex")));
  expect(decodePackets(Buffer.concat(records.map((record) => record.packet)))).toHaveLength(inFlight.length);
  const times = records.map((record) => Number(record.timeUs / 1000n));
  expect(times).toEqual([...times].sort((a, b) => a - b));
  expect(times[0]!).toBeGreaterThanOrEqual(flights[0].startedAt);
  expect(times.at(-1)!).toBeLessThanOrEqual(flights[0].endedAt);
  expect(server.recorder!.counters.packetsWritten).toBe(inFlight.length);
});

test("packets on the ground are not kept, and a flight without packets has no .tlog", async () => {
  const store = server.recorder!.store;
  const [flight] = await store.flights({ limit: 1 });
  expect((await store.packets(flight!.id, null, 10_000)).length).toBe(inFlight.length);
  const batch = emptyBatch();
  batch.flights.push(flightRow("alpha-1000", "alpha", 1000));
  await store.write(batch);
  const response = await fetch(server.http("/api/flights/alpha-1000/export?format=tlog"));
  expect(response.status).toBe(404);
  expect((await response.json()).error).toMatchObject({ code: "no_tlog", message: expect.stringContaining(".tlog is for MAVLink vehicles") });
});

test("the TCP link taps every valid packet it hears, as sent (what --mavlink hands the recorder)", async () => {
  const heartbeat = autopilot.heartbeat({ customMode: CopterMode.GUIDED });
  const position = autopilot.position(0, 1, 2);
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    // Garbage first: counted by the codec, never tapped.
    socket: { open: (socket) => void socket.write(Buffer.concat([Buffer.from("not mavlink"), heartbeat, position])), data() {} },
  });
  const tapped: Buffer[] = [];
  const link = new MavlinkTcpLink({
    vehicle: new MavlinkVehicle("copter"),
    endpoint: { transport: "tcp", host: "127.0.0.1", port: listener.port },
    gcsSystemId: 255,
    nowSeconds: () => performance.now() / 1000,
    logger: collectingLogger(),
    onPacket: (bytes) => tapped.push(Buffer.from(bytes)),
  });
  link.start();
  try {
    await waitUntil(() => tapped.length >= 2, 3000, "two packets tapped");
    expect(tapped.map((packet) => packet.toString("hex"))).toEqual([heartbeat.toString("hex"), position.toString("hex")]);
  } finally {
    link.stop();
    listener.stop(true);
  }
});
