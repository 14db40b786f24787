/**
 * What one socket's unfinished message costs a real `server.ts` process
 * (issue 19 #9).
 *
 * Bun 1.4.5 has one `maxPayloadLength` per server (no per-route or
 * per-socket limit: bun-types' `WebSocketHandler` and `server.upgrade`
 * offer none), and `/echo`'s contract needs 16 MiB, so a `/drone` socket can
 * make Bun buffer up to 16 MiB of a message before skyport sees it is over
 * 64 KiB. These tests measure that cost and its bound: 16 sockets each part
 * way into a 16 MiB message raise the server's RSS by about their bytes (the
 * bound is `--max-connections-per-ip` × the server-wide limit per address),
 * and with `--echo-max-bytes 65536` Bun refuses such a frame from its header
 * (1009) without buffering it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { maskKeyBytes, opcodes } from "../support/frames.ts";
import { mebibytes, rssBytes, settledRssBytes, stopServer } from "../support/process-stats.ts";
import { closeCodeOf, rawConnect, type RawConnection } from "../support/raw.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";

const sockets = 16;
/** The message each socket announces: just under Bun's server-wide 16 MiB limit. */
const announcedBytes = 16 * 1024 * 1024 - 1;
/** How much of it each socket sends before it stops, bytes. */
const sentBytes = 12 * 1024 * 1024;
/** Longest to wait for RSS to show the buffered bytes, milliseconds. */
const growTimeoutMs = 15_000;

const started: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((server) => stopServer(server)));
});

/** The header of a masked text frame of `length` bytes (64-bit length form) and its mask. */
function frameHeader(length: number): Uint8Array {
  const header = new Uint8Array(10 + maskKeyBytes);
  header[0] = 0x80 | opcodes.text;
  header[1] = 0x80 | 127;
  new DataView(header.buffer).setBigUint64(2, BigInt(length));
  return header; // mask key 0: the payload goes as sent
}

/** Opens a raw /drone socket and sends the header and the first `bytes` of an `announcedBytes` message. */
async function startLargeMessage(server: ServerProcess, bytes: number): Promise<RawConnection> {
  const conn = await rawConnect(server.port, { path: "/drone" });
  expect(conn.status).toBe(101);
  conn.send(frameHeader(announcedBytes));
  const chunk = new Uint8Array(1024 * 1024).fill(0x20);
  for (let sent = 0; sent < bytes; sent += chunk.length) conn.send(chunk);
  return conn;
}

describe("receive buffering before a /drone message reaches skyport (issue 19 #9)", () => {
  test(`${sockets} sockets part way into a 16 MiB /drone message: RSS grows by about their bytes, bounded by sockets × the server-wide limit`, async () => {
    const server = await spawnServer();
    started.push(server);
    const pid = server.proc.pid;
    const baseline = await settledRssBytes(pid);
    const open = await Promise.all(Array.from({ length: sockets }, () => startLargeMessage(server, sentBytes)));
    const buffered = sockets * sentBytes;
    const deadline = Date.now() + growTimeoutMs;
    let peak = rssBytes(pid);
    while (peak - baseline < buffered * 0.75 && Date.now() < deadline) {
      await Bun.sleep(100);
      peak = Math.max(peak, rssBytes(pid));
    }
    console.log(`receive buffering: ${sockets} sockets × ${mebibytes(sentBytes)} MiB unfinished: RSS ${mebibytes(baseline)} -> ${mebibytes(peak)} MiB`);
    // The cost is real (this is what #9 reports) and bounded by what the sockets could announce.
    expect(peak - baseline).toBeGreaterThanOrEqual(buffered * 0.75);
    expect(peak - baseline).toBeLessThanOrEqual(sockets * (announcedBytes + 1) * 1.5);
    for (const conn of open) conn.close();
  }, 60_000);

  test("with --echo-max-bytes 65536 the server-wide limit is /drone's: a 16 MiB frame is refused from its header with 1009, nothing buffered", async () => {
    const server = await spawnServer(["--echo-max-bytes", "65536"]);
    started.push(server);
    const pid = server.proc.pid;
    const baseline = await settledRssBytes(pid);
    const open = await Promise.all(Array.from({ length: sockets }, () => startLargeMessage(server, 1024 * 1024)));
    for (const conn of open) {
      // The welcome comes first; then the close, before the message is complete.
      let frame = await conn.nextFrame(5000);
      for (let skipped = 0; frame.opcode !== opcodes.close && skipped < 10; skipped++) frame = await conn.nextFrame(5000);
      expect(frame.opcode).toBe(opcodes.close);
      expect(closeCodeOf(frame)).toBe(1009);
    }
    const after = rssBytes(pid);
    console.log(`receive buffering with --echo-max-bytes 65536: RSS ${mebibytes(baseline)} -> ${mebibytes(after)} MiB`);
    expect(after - baseline).toBeLessThan(sockets * 1024 * 1024);
    for (const conn of open) conn.close();
  }, 60_000);
});
