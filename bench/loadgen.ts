/**
 * Load generator child process: opens WebSocket connections over raw TCP
 * and, in echo mode, keeps K messages in flight on each (send K, then one more
 * for every echo received); in idle mode it just holds the connections open.
 *
 * Why raw `Bun.connect` rather than Bun's WebSocket client: the frames are
 * pre-encoded once (masked, K copies back to back), so topping up n messages
 * is one `write` of a slice of that buffer, and reading echoes only skips
 * headers; no per-message allocation, event or unmasking. See
 * docs/benchmarks.md for the measured difference.
 *
 * Latency: echo preserves order, so each connection keeps a FIFO of send
 * times and pairs the i-th echo with the i-th send. One clock read per TCP
 * chunk received.
 *
 * Driven by the runner over stdio, one JSON object per stdout line:
 *   stdout {"type":"ready"}  once every connection is upgraded
 *   stdin  start             begin sending (echo mode)
 *   stdin  mark              start the measured window: reset counters
 *   stdin  stop              end the window, print {"type":"result",...}, exit
 * It exits on stdin EOF (the runner died) and after --max-seconds regardless.
 *
 * usage: bun run bench/loadgen.ts --port N [--host 127.0.0.1] [--path /echo]
 *          [--connections 64] [--inflight 16] [--payload-bytes 32]
 *          [--connect-concurrency 128] [--max-seconds 300]
 * --inflight 0 is idle mode.
 */
import type { Socket } from "bun";
import { LatencyHistogram, type HistogramSnapshot } from "./histogram.ts";
import { lines } from "./streams.ts";
import { encodeClientFrame, endOfHttpHead, FrameCounter, opcodeBinary, repeatFrame, upgradeRequest } from "./wire.ts";

/** Messages the runner receives from a load generator. */
export type LoadgenMessage =
  | { type: "ready"; connections: number; connectSeconds: number }
  | { type: "result"; messages: number; windowSeconds: number; latency: HistogramSnapshot; connectionsLost: number }
  | { type: "error"; message: string };

export interface LoadgenOptions {
  host: string;
  port: number;
  path: string;
  connections: number;
  /** Messages kept in flight per connection; 0 = idle connections. */
  inflight: number;
  payloadBytes: number;
  /** Handshakes in progress at once, to stay well under the server's listen backlog. */
  connectConcurrency: number;
  /** Hard limit on this process's lifetime. */
  maxSeconds: number;
}

/** Upper bound on connecting and upgrading all connections. */
const connectTimeoutMilliseconds = 60_000;
/** Largest HTTP response head accepted before the upgrade counts as failed. */
const maxResponseHeadBytes = 8192;

/** One client connection's state. Invariant: sends - echoes <= inflight, so the ring never overflows. */
interface Connection {
  socket: Socket<Connection> | null;
  upgraded: boolean;
  head: Uint8Array;
  counter: FrameCounter;
  /** Send times (Bun.nanoseconds) of messages in flight, oldest at `oldest`. */
  sendTimes: Float64Array;
  oldest: number;
  newest: number;
  /** Messages owed to the server but not yet handed to `write` (waiting for drain). */
  owed: number;
  /** Bytes [pendingStart, pendingEnd) of the shared batch buffer not yet written. */
  pendingStart: number;
  pendingEnd: number;
  onUpgrade: (error?: Error) => void;
}

/** Numeric flags and the option each sets. */
const numericFlags = {
  "--port": "port",
  "--connections": "connections",
  "--inflight": "inflight",
  "--payload-bytes": "payloadBytes",
  "--connect-concurrency": "connectConcurrency",
  "--max-seconds": "maxSeconds",
} as const satisfies Record<string, keyof LoadgenOptions>;

export function parseLoadgenArgs(argv: string[]): LoadgenOptions {
  const options: LoadgenOptions = {
    host: "127.0.0.1",
    port: 0,
    path: "/",
    connections: 64,
    inflight: 16,
    payloadBytes: 32,
    connectConcurrency: 128,
    maxSeconds: 300,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (name === "--host") options.host = value;
    else if (name === "--path") options.path = value;
    else if (name in numericFlags) {
      const number = Number(value);
      if (!Number.isInteger(number) || number < 0) throw new Error(`${name} must be a non-negative integer: got ${JSON.stringify(value)}`);
      options[numericFlags[name as keyof typeof numericFlags]] = number;
    } else throw new Error(`unknown flag ${JSON.stringify(name)}`);
  }
  if (options.port <= 0) throw new Error(`--port must be given: got ${options.port}`);
  if (options.connections <= 0) throw new Error(`--connections must be positive: got ${options.connections}`);
  if (options.connectConcurrency <= 0) throw new Error(`--connect-concurrency must be positive: got ${options.connectConcurrency}`);
  return options;
}

async function main(options: LoadgenOptions): Promise<void> {
  const lifetime = setTimeout(() => {
    console.error(`loadgen: --max-seconds ${options.maxSeconds} reached without "stop"; exiting`);
    process.exit(3);
  }, options.maxSeconds * 1000);
  lifetime.unref();

  const maskKey = crypto.getRandomValues(new Uint8Array(4));
  const payload = new Uint8Array(options.payloadBytes);
  for (let i = 0; i < payload.length; i++) payload[i] = 0x61 + (i % 26);
  const frame = encodeClientFrame(payload, opcodeBinary, maskKey);
  const frameBytes = frame.length;
  const inflight = options.inflight;
  const batch = repeatFrame(frame, Math.max(inflight, 1));
  const histogram = new LatencyHistogram();
  const request = upgradeRequest(options.host, options.port, options.path);

  let sending = false;
  let received = 0;
  let lost = 0;
  const connections: Connection[] = [];

  /** Writes what the connection owes; stops at a short write and resumes on drain. */
  function flush(c: Connection): void {
    const socket = c.socket!;
    for (;;) {
      if (c.pendingStart === c.pendingEnd) {
        if (c.owed === 0) return;
        const n = Math.min(c.owed, inflight);
        c.owed -= n;
        c.pendingStart = 0;
        c.pendingEnd = n * frameBytes;
      }
      const written = socket.write(batch, c.pendingStart, c.pendingEnd - c.pendingStart);
      if (written <= 0) return;
      c.pendingStart += written;
      if (c.pendingStart < c.pendingEnd) return;
    }
  }

  function send(c: Connection, n: number, now: number): void {
    const ring = c.sendTimes;
    for (let i = 0; i < n; i++) {
      ring[c.newest] = now;
      c.newest = c.newest + 1 === inflight ? 0 : c.newest + 1;
    }
    c.owed += n;
    if (c.pendingStart === c.pendingEnd) flush(c);
  }

  function onEchoes(c: Connection, chunk: Uint8Array): void {
    const n = c.counter.feed(chunk);
    if (n === 0) return;
    const now = Bun.nanoseconds();
    const ring = c.sendTimes;
    for (let i = 0; i < n; i++) {
      histogram.record((now - ring[c.oldest]!) / 1000);
      c.oldest = c.oldest + 1 === inflight ? 0 : c.oldest + 1;
    }
    received += n;
    if (sending) send(c, n, now);
  }

  function onHandshakeBytes(c: Connection, chunk: Uint8Array): void {
    const head = new Uint8Array(c.head.length + chunk.length);
    head.set(c.head);
    head.set(chunk, c.head.length);
    const end = endOfHttpHead(head);
    if (end < 0) {
      if (head.length > maxResponseHeadBytes) c.onUpgrade(new Error(`no end of HTTP response head in ${head.length} bytes`));
      c.head = head;
      return;
    }
    const statusLine = new TextDecoder().decode(head.subarray(0, head.indexOf(0x0d)));
    if (!/^HTTP\/1\.1 101\b/.test(statusLine)) {
      c.onUpgrade(new Error(`upgrade refused: ${statusLine}`));
      return;
    }
    c.upgraded = true;
    c.head = new Uint8Array(0);
    c.onUpgrade();
    if (end < head.length) onEchoes(c, head.subarray(end));
  }

  function open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const c: Connection = {
        socket: null,
        upgraded: false,
        head: new Uint8Array(0),
        counter: new FrameCounter(),
        sendTimes: new Float64Array(Math.max(inflight, 1)),
        oldest: 0,
        newest: 0,
        owed: 0,
        pendingStart: 0,
        pendingEnd: 0,
        onUpgrade: (error) => (error ? reject(error) : resolve()),
      };
      connections.push(c);
      Bun.connect<Connection>({
        hostname: options.host,
        port: options.port,
        data: c,
        socket: {
          open(socket) {
            socket.setNoDelay(true);
            socket.data.socket = socket;
            socket.write(request);
          },
          data(socket, chunk) {
            const conn = socket.data;
            if (conn.upgraded) onEchoes(conn, chunk);
            else onHandshakeBytes(conn, chunk);
          },
          drain(socket) {
            flush(socket.data);
          },
          close(socket) {
            const conn = socket.data;
            if (conn.upgraded) lost++;
            else conn.onUpgrade(new Error("connection closed during the handshake"));
          },
          error(socket, error) {
            if (!socket.data.upgraded) socket.data.onUpgrade(error);
          },
          connectError(_socket, error) {
            reject(new Error(`cannot connect to ${options.host}:${options.port}: ${error.message}`));
          },
        },
      }).catch((error: Error) => reject(new Error(`cannot connect to ${options.host}:${options.port}: ${error.message}`)));
    });
  }

  const connectStarted = performance.now();
  let nextIndex = 0;
  const workers = Array.from({ length: Math.min(options.connectConcurrency, options.connections) }, async () => {
    while (nextIndex < options.connections) {
      nextIndex++;
      await open();
    }
  });
  let deadline: Timer | undefined;
  const connectDeadline = new Promise<never>((_, reject) => {
    deadline = setTimeout(() => reject(new Error(`could not open ${options.connections} connections within ${connectTimeoutMilliseconds} ms`)), connectTimeoutMilliseconds);
  });
  try {
    await Promise.race([Promise.all(workers), connectDeadline]);
  } finally {
    clearTimeout(deadline);
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  await report({ type: "ready", connections: connections.length, connectSeconds });

  let markReceived = 0;
  let markLost = 0;
  let markAt = performance.now();
  for await (const command of lines(Bun.stdin.stream())) {
    if (command === "start") {
      if (inflight > 0 && !sending) {
        sending = true;
        const now = Bun.nanoseconds();
        for (const c of connections) send(c, inflight, now);
      }
    } else if (command === "mark") {
      markAt = performance.now();
      markReceived = received;
      markLost = lost;
      histogram.reset();
    } else if (command === "stop") {
      const windowSeconds = (performance.now() - markAt) / 1000;
      sending = false;
      const echoedBytes = connections.reduce((sum, c) => sum + c.counter.dataBytes, 0);
      if (echoedBytes !== received * options.payloadBytes) {
        throw new Error(`echoes are not the size sent: ${received} echoes carried ${echoedBytes} bytes, expected ${options.payloadBytes} each`);
      }
      await report({
        type: "result",
        messages: received - markReceived,
        windowSeconds,
        latency: histogram.snapshot(),
        connectionsLost: lost - markLost,
      });
      process.exit(0);
    } else {
      await report({ type: "error", message: `unknown command ${JSON.stringify(command)}` });
    }
  }
  // stdin closed: the runner is gone.
  process.exit(0);
}

async function report(message: LoadgenMessage): Promise<void> {
  await Bun.write(Bun.stdout, JSON.stringify(message) + "\n");
}

if (import.meta.main) {
  try {
    await main(parseLoadgenArgs(process.argv.slice(2)));
  } catch (error) {
    await report({ type: "error", message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
}
