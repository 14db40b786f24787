/**
 * One socket's flood of tiny frames against a real `server.ts` process must
 * not starve other viewers (issue 19 #10).
 *
 * Three viewers watch alpha's telemetry at 10 Hz over `/drone`. One raw
 * socket then writes tiny masked frames as fast as TCP takes them (and reads
 * whatever comes back), on `/drone` (a text line that is not a command, and
 * a JSON ping) or on `/echo`, for the whole measured window or until the
 * server closes it. Every viewer must receive at least 90 % of the frames the
 * window holds at 10 Hz, and the flooder must be closed with 1008 saying why.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { encodeFrame, opcodes } from "../support/frames.ts";
import { stopServer } from "../support/process-stats.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";
import { openSocket } from "../support/sockets.ts";

/** Telemetry rate of the server under test, frames per second (the default). */
const telemetryHz = 10;
/** How long viewers are measured while the flood runs, milliseconds. */
const windowMs = 4000;
/** Share of the window's frames every viewer must receive. */
const minimumShare = 0.9;
const viewers = 3;
/** Tiny frames pre-encoded per write: ~7 bytes each, so one write is ~0.7 MB. */
const framesPerWrite = 100_000;
/** Longest the test may take in all, milliseconds. */
const testTimeoutMs = 30_000;

const started: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((server) => stopServer(server)));
});

/** A viewer of alpha counting the telemetry frames it receives. */
async function viewer(server: ServerProcess) {
  const ws = await openSocket(server.ws("/drone?drone=alpha"));
  const state = { ws, frames: 0 };
  ws.onmessage = (event) => {
    if (typeof event.data === "string" && event.data.startsWith('{"type":"telemetry"')) state.frames++;
  };
  return state;
}

/** The upgrade request of a raw client. */
function upgradeRequest(port: number, path: string): string {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    "",
    "",
  ].join("\r\n");
}

/**
 * Floods `path` with copies of `payload` until `stopAt` or until the server
 * closes the socket. Resolves with the close code the server sent (null if
 * none), the frames written and whether the server ended the connection.
 */
function flood(port: number, path: string, payload: string, stopAt: number): Promise<{ closeCode: number | null; closeReason: string; framesWritten: number; ended: boolean }> {
  const one = encodeFrame({ opcode: opcodes.text, payload, maskKey: new Uint8Array([1, 2, 3, 4]) });
  const batch = Buffer.alloc(one.length * framesPerWrite);
  for (let i = 0; i < framesPerWrite; i++) batch.set(one, i * one.length);
  return new Promise((resolve) => {
    const socket: Socket = connect(port, "127.0.0.1");
    let upgraded = false;
    let head = Buffer.alloc(0);
    let tail = Buffer.alloc(0);
    let framesWritten = 0;
    let ended = false;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve({ ...closeFrameIn(tail), framesWritten, ended });
    };
    const pump = () => {
      while (!ended && Date.now() < stopAt) {
        framesWritten += framesPerWrite;
        if (!socket.write(batch)) return void socket.once("drain", pump);
      }
      finish();
    };
    socket.on("data", (chunk: Buffer) => {
      if (!upgraded) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        upgraded = true;
        if (!head.subarray(0, 12).toString().includes("101")) throw new Error(`flood upgrade refused: ${head.toString()}`);
        tail = head.subarray(end + 4);
        return pump();
      }
      // Keep only the last bytes: the close frame, if any, is at the end.
      tail = Buffer.concat([tail, chunk]).subarray(-4096);
    });
    const onEnd = () => {
      ended = true;
      finish();
    };
    socket.on("end", onEnd);
    socket.on("close", onEnd);
    socket.on("error", onEnd);
    socket.once("connect", () => socket.write(upgradeRequest(port, path)));
    setTimeout(finish, stopAt - Date.now() + 2000);
  });
}

/** The last close frame in the bytes a flooder kept: its code and reason. */
function closeFrameIn(bytes: Buffer): { closeCode: number | null; closeReason: string } {
  for (let i = bytes.length - 4; i >= 0; i--) {
    if (bytes[i] !== 0x88) continue;
    const length = bytes[i + 1]!;
    if (length < 2 || length > 125 || i + 2 + length !== bytes.length) continue;
    return { closeCode: bytes.readUInt16BE(i + 2), closeReason: bytes.subarray(i + 4, i + 2 + length).toString() };
  }
  return { closeCode: null, closeReason: "" };
}

describe("a single-socket flood of tiny frames leaves other viewers >= 90 % of their telemetry", () => {
  const cases: Array<{ name: string; path: string; payload: string }> = [
    { name: "/drone text lines", path: "/drone", payload: "x" },
    { name: "/drone JSON pings", path: "/drone", payload: '{"type":"ping"}' },
    { name: "/echo", path: "/echo", payload: "x" },
  ];
  test.each(cases)(
    "$name",
    async ({ path, payload }) => {
      const server = await spawnServer();
      started.push(server);
      const watching = await Promise.all(Array.from({ length: viewers }, () => viewer(server)));
      // Every viewer is receiving before the flood starts.
      const readyBy = Date.now() + 5000;
      while (watching.some((v) => v.frames === 0) && Date.now() < readyBy) await Bun.sleep(20);
      for (const v of watching) v.frames = 0;
      const startedAt = Date.now();
      const flooding = flood(server.port, path, payload, startedAt + windowMs);
      while (Date.now() < startedAt + windowMs) await Bun.sleep(50);
      const counts = watching.map((v) => v.frames);
      const flooder = await flooding;
      for (const v of watching) v.ws.close();
      await stopServer(server);
      const expected = (windowMs / 1000) * telemetryHz;
      console.log(`${path} flood of ${JSON.stringify(payload)}: ${flooder.framesWritten} frames written, close ${flooder.closeCode} ${JSON.stringify(flooder.closeReason)}; viewers got ${counts.join("/")} of ${expected} frames`);
      for (const count of counts) expect(count).toBeGreaterThanOrEqual(Math.floor(expected * minimumShare));
      expect(flooder.closeCode).toBe(1008);
    },
    testTimeoutMs,
  );
});
