/**
 * Load generator child process: opens WebSocket connections over raw TCP,
 * then runs one behaviour on all of them:
 * - echo (load-echo.ts): K messages in flight per connection, round-trip latency;
 * - listen (load-listen.ts): send opening messages (e.g. `subscribe`), then
 *   read; telemetry deliveries are counted, timed and checked for loss. With
 *   no opening messages it just holds idle connections.
 *
 * Why raw `Bun.connect` rather than Bun's WebSocket client: frames are
 * pre-encoded and received bytes are skipped or scanned in place, with no
 * per-message allocation, event or unmasking. See docs/benchmarks.md for the
 * measured difference.
 *
 * Owns connecting, the upgrade, and the stdio protocol with the runner, one
 * JSON object per stdout line:
 *   stdout {"type":"ready"}  once every connection is upgraded and settled
 *   stdin  start             begin sending (echo)
 *   stdin  mark              start the measured window: reset counters
 *   stdin  stop              end the window, print {"type":"result",...}, exit
 * It exits on stdin EOF (the runner died) and after --max-seconds regardless.
 *
 * usage: bun run bench/loadgen.ts --port N [--host 127.0.0.1] [--path /echo]
 *          [--mode echo|listen] [--connections 64] [--connect-concurrency 128] [--max-seconds 300]
 *          echo:   [--inflight 16] [--payload-bytes 32]
 *          listen: [--send TEXT]... [--replies N] [--grace-ms 500] [--stop-reading 0|1] [--deflate 1] [--reader direct|bun]
 * --deflate 1 offers permessage-deflate; compressed messages are inflated
 * before they are read, and their bytes on the wire are what is counted.
 * --reader: once the opening exchange is over, a listener reads its sockets
 * with recv(2) into one reused buffer (direct-reader.ts; the default where
 * it can run) or through Bun's `data` callback, which copies every chunk.
 */
import type { Socket } from "bun";
import type { HistogramSnapshot } from "./histogram.ts";
import type { Connection, LoadBehaviour, TelemetryTally } from "./load-behaviour.ts";
import { DirectReader } from "./direct-reader.ts";
import { EchoLoad } from "./load-echo.ts";
import { ListenLoad } from "./load-listen.ts";
import { lines } from "./streams.ts";
import { endOfHttpHead, upgradeRequest } from "./wire.ts";

/** Messages the runner receives from a load generator. */
export type LoadgenMessage =
  | { type: "ready"; connections: number; connectSeconds: number }
  | {
      type: "result";
      messages: number;
      windowSeconds: number;
      latency: HistogramSnapshot;
      connectionsLost: number;
      telemetry?: TelemetryTally;
    }
  | { type: "error"; message: string };

export type LoadMode = "echo" | "listen";
/** How a listener reads once its opening exchange is over: recv(2) into one buffer (direct-reader.ts), or Bun's `data` callback. */
export type ReaderKind = "direct" | "bun";

export interface LoadgenOptions {
  host: string;
  port: number;
  path: string;
  mode: LoadMode;
  connections: number;
  /** echo: messages kept in flight per connection. */
  inflight: number;
  /** echo: bytes per message. */
  payloadBytes: number;
  /** listen: text messages each connection sends once upgraded. */
  send: string[];
  /** listen: non-telemetry replies each connection waits for before it is ready. */
  replies: number;
  /** listen: how long to keep reading after stop before judging loss. */
  graceMs: number;
  /** listen: 1 to stop reading once the opening replies arrived (a viewer that does not read: what it is sent piles up unread), 0 to keep reading. */
  stopReading: number;
  /** Handshakes in progress at once, to stay well under the server's listen backlog. */
  connectConcurrency: number;
  /** Hard limit on this process's lifetime. */
  maxSeconds: number;
  /** listen: 1 to offer permessage-deflate (and inflate what arrives compressed), 0 not to. */
  deflate: number;
  /** listen: how sockets are read after the opening exchange. */
  reader: ReaderKind;
}

/** Upper bound on connecting and upgrading all connections, and separately on their opening exchange. */
const connectTimeoutMilliseconds = 60_000;
/** Largest HTTP response head accepted before the upgrade counts as failed. */
const maxResponseHeadBytes = 8192;

/** Numeric flags and the option each sets. */
const numericFlags = {
  "--port": "port",
  "--connections": "connections",
  "--inflight": "inflight",
  "--payload-bytes": "payloadBytes",
  "--replies": "replies",
  "--grace-ms": "graceMs",
  "--stop-reading": "stopReading",
  "--connect-concurrency": "connectConcurrency",
  "--max-seconds": "maxSeconds",
  "--deflate": "deflate",
} as const satisfies Record<string, keyof LoadgenOptions>;

export function parseLoadgenArgs(argv: string[]): LoadgenOptions {
  const options: LoadgenOptions = {
    host: "127.0.0.1",
    port: 0,
    path: "/",
    mode: "echo",
    connections: 64,
    inflight: 16,
    payloadBytes: 32,
    send: [],
    replies: 0,
    graceMs: 500,
    stopReading: 0,
    connectConcurrency: 128,
    maxSeconds: 300,
    deflate: 0,
    reader: DirectReader.supported() ? "direct" : "bun",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (name === "--host") options.host = value;
    else if (name === "--path") options.path = value;
    else if (name === "--send") options.send.push(value);
    else if (name === "--mode") {
      if (value !== "echo" && value !== "listen") throw new Error(`--mode must be echo or listen: got ${JSON.stringify(value)}`);
      options.mode = value;
    } else if (name === "--reader") {
      if (value !== "direct" && value !== "bun") throw new Error(`--reader must be direct or bun: got ${JSON.stringify(value)}`);
      if (value === "direct" && !DirectReader.supported()) throw new Error(`--reader direct needs Linux on x86-64: this is ${process.platform} on ${process.arch}`);
      options.reader = value;
    } else if (name in numericFlags) {
      const number = Number(value);
      if (!Number.isInteger(number) || number < 0) throw new Error(`${name} must be a non-negative integer: got ${JSON.stringify(value)}`);
      options[numericFlags[name as keyof typeof numericFlags]] = number;
    } else throw new Error(`unknown flag ${JSON.stringify(name)}`);
  }
  if (options.port <= 0) throw new Error(`--port must be given: got ${options.port}`);
  if (options.connections <= 0) throw new Error(`--connections must be positive: got ${options.connections}`);
  if (options.stopReading > 1) throw new Error(`--stop-reading must be 0 or 1: got ${options.stopReading}`);
  if (options.connectConcurrency <= 0) throw new Error(`--connect-concurrency must be positive: got ${options.connectConcurrency}`);
  return options;
}

function behaviourFor(options: LoadgenOptions): LoadBehaviour<unknown> {
  const behaviour =
    options.mode === "echo"
      ? new EchoLoad(options.inflight, options.payloadBytes)
      : new ListenLoad({ openingMessages: options.send, replies: options.replies, graceMilliseconds: options.graceMs });
  return behaviour as LoadBehaviour<unknown>;
}

async function main(options: LoadgenOptions): Promise<void> {
  const lifetime = setTimeout(() => {
    console.error(`loadgen: --max-seconds ${options.maxSeconds} reached without "stop"; exiting`);
    process.exit(3);
  }, options.maxSeconds * 1000);
  lifetime.unref();

  const behaviour = behaviourFor(options);
  const request = upgradeRequest(options.host, options.port, options.path, options.deflate === 1);
  let lost = 0;
  const connections: Connection<unknown>[] = [];

  function onHandshakeBytes(c: Connection<unknown>, chunk: Uint8Array): void {
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
    behaviour.upgraded(c, head.subarray(end));
  }

  function open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const c: Connection<unknown> = {
        socket: null,
        upgraded: false,
        head: new Uint8Array(0),
        onUpgrade: (error) => (error ? reject(error) : resolve()),
        state: behaviour.newState(),
      };
      connections.push(c);
      Bun.connect<Connection<unknown>>({
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
            if (conn.upgraded) behaviour.data(conn, chunk);
            else onHandshakeBytes(conn, chunk);
          },
          drain(socket) {
            if (socket.data.upgraded) behaviour.drain(socket.data);
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
  await behaviour.settled(connections, connectTimeoutMilliseconds);
  if (options.stopReading === 1) for (const c of connections) c.socket?.pause();
  else if (options.mode === "listen" && options.reader === "direct") {
    // A socket the server closed is terminated, so that Bun's close handler counts it as lost, once.
    const reader = new DirectReader<Connection<unknown>>((c, bytes) => behaviour.data(c, bytes), (c) => c.socket?.terminate());
    for (const c of connections) reader.add(c.socket!, c);
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  await report({ type: "ready", connections: connections.length, connectSeconds });

  let lostAtMark = 0;
  let markAt = performance.now();
  for await (const command of lines(Bun.stdin.stream())) {
    if (command === "start") {
      behaviour.start(connections);
    } else if (command === "mark") {
      markAt = performance.now();
      lostAtMark = lost;
      behaviour.mark(connections);
    } else if (command === "stop") {
      const windowSeconds = (performance.now() - markAt) / 1000;
      const connectionsLost = lost - lostAtMark;
      const result = await behaviour.stop(connections);
      await report({ type: "result", windowSeconds, connectionsLost, ...result });
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
