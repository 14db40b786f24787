/**
 * Tests for bench/direct-reader.ts over real loopback sockets: every byte a
 * server writes reaches its socket's handler once and in order, however the
 * writes are cut, with many sockets read in turn; a socket the server closes
 * ends once; Bun no longer reads a socket handed over.
 */
import { afterEach, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { DirectReader } from "./direct-reader.ts";

const supported = DirectReader.supported();
/** Upper bound on a test's waits for bytes to arrive. */
const arrivalTimeoutMilliseconds = 10_000;

let listener: TCPSocketListener<undefined> | undefined;
let reader: DirectReader<number> | undefined;
afterEach(() => {
  reader?.close();
  listener?.stop(true);
  reader = undefined;
  listener = undefined;
});

/** A deterministic byte pattern per socket, so that a byte out of order or from another socket shows. */
function pattern(socket: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + socket * 7 + (i >> 8)) & 0xff;
  return out;
}

/** Polls `done` until it holds, failing after the timeout with `what`. */
async function until(done: () => boolean, what: () => string): Promise<void> {
  const deadline = performance.now() + arrivalTimeoutMilliseconds;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what()}`);
    await Bun.sleep(5);
  }
}

/** Writes `bytes` to `socket` in pieces of varying size, resuming on drain. */
function writeInPieces(socket: Socket<undefined>, bytes: Uint8Array, pending: Map<Socket<undefined>, Uint8Array>): void {
  let rest = bytes;
  let piece = 1;
  while (rest.length > 0) {
    const size = Math.min(rest.length, piece);
    const written = socket.write(rest.subarray(0, size));
    rest = rest.subarray(Math.max(0, written));
    if (written < size) break;
    piece = (piece * 7 + 13) % 70_000;
  }
  if (rest.length > 0) pending.set(socket, rest);
}

test.skipIf(!supported)("every byte arrives once, in order, on many sockets", async () => {
  const sockets = 20;
  const bytesPerSocket = 600_000;
  const pending = new Map<Socket<undefined>, Uint8Array>();
  listener = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      // Each client says which it is in its one byte; the server answers with that client's pattern.
      data(socket, bytes) {
        writeInPieces(socket, pattern(bytes[0]!, bytesPerSocket), pending);
      },
      drain(socket) {
        const rest = pending.get(socket);
        if (!rest) return;
        pending.delete(socket);
        writeInPieces(socket, rest, pending);
      },
    },
  });
  const received = Array.from({ length: sockets }, () => [] as Uint8Array[]);
  const receivedBytes = new Array<number>(sockets).fill(0);
  const readByBun = new Array<number>(sockets).fill(0);
  reader = new DirectReader<number>(
    (index, bytes) => {
      received[index]!.push(Uint8Array.prototype.slice.call(bytes));
      receivedBytes[index]! += bytes.length;
    },
    () => {},
  );
  const clients: Socket<number>[] = [];
  for (let i = 0; i < sockets; i++) {
    const client = await Bun.connect<number>({
      hostname: "127.0.0.1",
      port: listener.port,
      data: i,
      socket: { data: (s) => void readByBun[s.data]!++ },
    });
    reader.add(client, i);
    client.write(new Uint8Array([i]));
    clients.push(client);
  }
  await until(
    () => receivedBytes.every((n) => n === bytesPerSocket),
    () => `received ${receivedBytes.join(", ")} of ${bytesPerSocket} each`,
  );
  for (let i = 0; i < sockets; i++) expect(Buffer.concat(received[i]!).equals(Buffer.from(pattern(i, bytesPerSocket)))).toBe(true);
  expect(readByBun.every((n) => n === 0)).toBe(true);
  for (const client of clients) client.end();
}, 30_000);

test.skipIf(!supported)("a socket the server closes ends once, after its last bytes", async () => {
  let serverSide: Socket<undefined> | undefined;
  listener = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data() {},
      open(socket) {
        serverSide = socket;
      },
    },
  });
  const events: string[] = [];
  reader = new DirectReader<number>(
    (_, bytes) => events.push(`data ${bytes.toString()}`),
    (_, reason) => events.push(`end: ${reason}`),
  );
  const client = await Bun.connect<number>({ hostname: "127.0.0.1", port: listener.port, data: 0, socket: { data() {} } });
  reader.add(client, 0);
  await until(() => serverSide !== undefined, () => "no server socket");
  serverSide!.end("last words");
  await until(() => events.some((e) => e.startsWith("end")), () => `events: ${JSON.stringify(events)}`);
  await Bun.sleep(50);
  expect(events.join("")).toBe("data last wordsend: closed by the server");
  client.end();
});

test("a socket without a descriptor is refused, saying what was wrong", () => {
  if (!supported) return expect(() => new DirectReader(() => {}, () => {})).toThrow(/Linux on x86-64/);
  reader = new DirectReader<number>(() => {}, () => {});
  expect(() => reader!.add({ pause() {} }, 0)).toThrow("direct reading needs the socket's file descriptor (Bun's socket.fd): got undefined");
});
