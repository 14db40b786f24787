/**
 * Peer for the telemetry fan-out benchmarks: Socket.IO 4.8 on Node, written
 * the way its docs show a broadcast. Clients connect with the websocket
 * transport (`/socket.io/?EIO=4&transport=websocket`, then `40`), each joins
 * --topics rooms on connection, and the server emits one `telemetry` event
 * per room per tick with `io.to(room).emit("telemetry", frame)`: the same
 * rate and bursts as bench/reference/bun-publish.ts, a frame per room per
 * burst, so the load generator drives it exactly like bare Bun.
 *
 * Each frame is the object `{drone: "t<i>", seq, time, pad}`: the room's
 * name, a seq per room, the burst's send time (`Date.now()`, whole ms, as
 * skyport stamps a tick) and padding so that the whole WebSocket message
 * (`42["telemetry",{…}]`) has --frame-bytes bytes, the size of skyport's
 * telemetry message.
 *
 * With --redis URL the server uses the official Redis adapter
 * (@socket.io/redis-adapter, Redis pub/sub, as skyport's cluster bus is);
 * with --workers N (N > 1) a node:cluster primary forks N workers sharing the
 * port (round-robin accept, the websocket transport needs no sticky
 * session), the first of which publishes: the others get every emit through
 * Redis and deliver it to their own sockets, as skyport's relaying workers do.
 *
 * usage: node bench/reference/socketio-publish.mjs [flags]
 *   --addr host:port          address to listen on (default 127.0.0.1:0)
 *   --frame-bytes n           bytes of one telemetry message on the wire (default 128)
 *   --rate n                  frames per second; 0 = as fast as possible (default 0)
 *   --burst n                 frames emitted back to back per tick (default 1)
 *   --topics n                rooms every client joins, like a topic per drone (default 1)
 *   --backpressure-limit n    unpaced only: wait before a burst while a client has
 *                             more than this many bytes unsent (default 1048576)
 *   --ping-interval ms        Engine.IO's ping period, and how long a pong may take
 *                             (default 25000, Socket.IO's own interval)
 *   --redis url               use the Redis adapter (default: the in-memory adapter)
 *   --workers n               node:cluster workers sharing the port, needs --redis (default 1)
 *   --max-seconds n           exit after this long, whatever happens (default 600)
 *
 * Prints `socketio-publish listening on HOST:PORT` once every process
 * listens (and its adapter is connected), and with workers the line
 * `workers N processes sharing the port: pids a, b (supervisor s)` in
 * skyport's banner format, so the benchmark can read every worker's CPU.
 * Emitting waits until clients have stopped connecting (a single process
 * also for a first client in room t0, as bun-publish does).
 */
import cluster from "node:cluster";
import { createServer } from "node:http";
import { Server } from "socket.io";

/** Most bursts emitted in one macrotask when the paced loop is behind, so the event loop still accepts and reads. */
const maxBurstsPerTurn = 16;
/** How often to check again for clients while there are none, or while one is over the backpressure limit. */
const idlePollMilliseconds = 1;
/** Most rooms: frames are named t0 … t9999. */
const maxTopics = 10_000;
/** Most workers, as for skyport's --workers. */
const maxWorkers = 64;
/**
 * Emitting starts once no client has connected for this long. Unlike Bun,
 * Node cannot finish handshakes while its event loop is saturated by emits:
 * starting with the first client, 1,000 viewers at the maximum rate did not
 * all connect within the load generator's 60 s. The load generator connects
 * back to back, so a pause this long means every viewer is in; the runner's
 * warm-up (1 s) then covers it before the measured window.
 */
const connectQuietMilliseconds = 200;
/** Digits of a `Date.now()` time, for sizing the padding. */
const timeDigits = 13;

function fail(message) {
  console.error(`socketio-publish: ${message}`);
  process.exit(2);
}

function parseFlags(argv) {
  const flags = {
    hostname: "127.0.0.1",
    port: 0,
    frameBytes: 128,
    rate: 0,
    burst: 1,
    topics: 1,
    backpressureLimit: 1024 * 1024,
    pingInterval: 25_000,
    redis: null,
    workers: 1,
    maxSeconds: 600,
  };
  const integer = (name, value, min, max) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) fail(`${name} must be an integer from ${min} to ${max}: got ${JSON.stringify(value)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i];
    const value = argv[i + 1];
    if (value === undefined) fail(`${name} needs a value`);
    switch (name) {
      case "--addr": {
        const match = /^(.*):(\d+)$/.exec(value);
        if (!match) fail(`--addr must be host:port: got ${JSON.stringify(value)}`);
        flags.hostname = match[1] || "127.0.0.1";
        flags.port = Number(match[2]);
        break;
      }
      case "--frame-bytes":
        flags.frameBytes = integer(name, value, 1, 16 * 1024 * 1024);
        break;
      case "--rate": {
        const n = Number(value);
        if (!Number.isFinite(n) || n < 0) fail(`--rate must be >= 0 frames per second: got ${JSON.stringify(value)}`);
        flags.rate = n;
        break;
      }
      case "--burst":
        flags.burst = integer(name, value, 1, 1_000_000);
        break;
      case "--topics":
        flags.topics = integer(name, value, 1, maxTopics);
        break;
      case "--backpressure-limit":
        flags.backpressureLimit = integer(name, value, 1024, 2 ** 40);
        break;
      case "--ping-interval":
        flags.pingInterval = integer(name, value, 10, 3_600_000);
        break;
      case "--redis":
        if (!/^rediss?:\/\//.test(value)) fail(`--redis must be a redis:// URL: got ${JSON.stringify(value)}`);
        flags.redis = value;
        break;
      case "--workers":
        flags.workers = integer(name, value, 1, maxWorkers);
        break;
      case "--max-seconds": {
        const n = Number(value);
        if (!Number.isFinite(n) || n <= 0) fail(`--max-seconds must be > 0: got ${JSON.stringify(value)}`);
        flags.maxSeconds = n;
        break;
      }
      default:
        fail(`unknown flag ${JSON.stringify(name)}`);
    }
  }
  if (flags.workers > 1 && !flags.redis) fail(`--workers ${flags.workers} needs --redis: workers share emits through the Redis adapter`);
  return flags;
}

const flags = parseFlags(process.argv.slice(2));
const roomNames = Array.from({ length: flags.topics }, (_, i) => `t${i}`);

/** The message `42["telemetry",{…}]` for a frame, as Socket.IO writes it. */
const messageBytes = (frame) => Buffer.byteLength(`42${JSON.stringify(["telemetry", frame])}`);
/** Padding per room so that a frame with a one-digit seq and a 13-digit time has --frame-bytes bytes on the wire. */
const paddings = roomNames.map((drone) => {
  const bare = messageBytes({ drone, seq: 0, time: 10 ** (timeDigits - 1), pad: "" });
  if (bare > flags.frameBytes) fail(`--frame-bytes must be at least ${bare} for room ${drone}: got ${flags.frameBytes}`);
  return " ".repeat(flags.frameBytes - bare);
});

if (flags.workers > 1 && cluster.isPrimary) runPrimary();
else await runServer(flags.workers === 1 || cluster.worker?.id === 1);

/** node:cluster primary: forks the workers, prints the banner once all listen, stops them on SIGTERM. */
function runPrimary() {
  const listening = new Map();
  const stopAll = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    process.exit(0);
  };
  process.on("SIGTERM", stopAll);
  process.on("SIGINT", stopAll);
  setTimeout(stopAll, flags.maxSeconds * 1000).unref();
  cluster.on("exit", (worker, code, signal) => {
    console.error(`socketio-publish: worker ${worker.process.pid} exited (code ${code}, signal ${signal}); stopping`);
    stopAll();
  });
  cluster.on("message", (worker, message) => {
    if (message?.type !== "listening") return;
    listening.set(worker.id, { pid: worker.process.pid, port: message.port });
    if (listening.size < flags.workers) return;
    const workers = [...listening.entries()].sort(([a], [b]) => a - b).map(([, w]) => w);
    console.log(`socketio-publish listening on ${flags.hostname}:${workers[0].port}`);
    console.log(`  workers  ${workers.length} processes sharing the port: pids ${workers.map((w) => w.pid).join(", ")} (supervisor ${process.pid})`);
  });
  for (let i = 0; i < flags.workers; i++) cluster.fork();
}

/** One Socket.IO server; `publishes` says whether this process emits the telemetry. */
async function runServer(publishes) {
  const httpServer = createServer();
  const io = new Server(httpServer, { transports: ["websocket"], serveClient: false, pingInterval: flags.pingInterval, pingTimeout: flags.pingInterval });
  if (flags.redis) {
    const { createClient } = await import("redis");
    const { createAdapter } = await import("@socket.io/redis-adapter");
    const pub = createClient({ url: flags.redis });
    const sub = pub.duplicate();
    for (const client of [pub, sub]) client.on("error", (error) => console.error(`socketio-publish: redis: ${error.message}`));
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
  let lastConnectionAt = performance.now();
  io.on("connection", (socket) => {
    lastConnectionAt = performance.now();
    socket.join(roomNames);
  });
  await new Promise((resolve) => httpServer.listen(flags.port, flags.hostname, resolve));
  const { port } = httpServer.address();
  if (cluster.isWorker) process.send({ type: "listening", port });
  else console.log(`socketio-publish listening on ${flags.hostname}:${port}`);
  process.on("SIGTERM", () => process.exit(0));
  setTimeout(() => process.exit(0), flags.maxSeconds * 1000).unref();
  if (publishes) startPublishing(io, () => performance.now() - lastConnectionAt >= connectQuietMilliseconds);
}

/**
 * Emits bursts at --rate (or as fast as the clients take them), one frame
 * per room per burst, whenever `connectsSettled()` says clients have
 * stopped arriving.
 */
function startPublishing(io, connectsSettled) {
  const sequences = new Array(flags.topics).fill(0);
  const localSockets = io.of("/").sockets;
  // In a cluster the first worker's own clients are only a share of the viewers: it emits whether or not it has any.
  const waitsForClients = flags.workers === 1;
  const burstIntervalMilliseconds = flags.rate > 0 ? (1000 * flags.burst) / flags.rate : 0;
  let burstsSinceStart = 0;
  let rateStartedAt = performance.now();
  let idle = true;

  /** Emits one burst, every frame stamped with the same send time. */
  function emitBurst() {
    const time = Date.now();
    for (let i = 0; i < flags.burst; i++) {
      const topic = i % flags.topics;
      io.to(roomNames[topic]).emit("telemetry", { drone: roomNames[topic], seq: sequences[topic]++, time, pad: paddings[topic] });
    }
  }

  /** True while some client has more than --backpressure-limit bytes waiting (in ws's buffer or engine.io's queue). */
  function backlogged() {
    for (const socket of localSockets.values()) {
      const queued = (socket.conn.transport?.socket?.bufferedAmount ?? 0) + socket.conn.writeBuffer.length * flags.frameBytes;
      if (queued > flags.backpressureLimit) return true;
    }
    return false;
  }

  function turn() {
    const now = performance.now();
    if (!connectsSettled() || (waitsForClients && !(io.of("/").adapter.rooms.get(roomNames[0])?.size > 0))) {
      idle = true;
      setTimeout(turn, idlePollMilliseconds);
      return;
    }
    if (idle) {
      idle = false;
      rateStartedAt = now;
      burstsSinceStart = 0;
    }
    if (flags.rate === 0) {
      if (backlogged()) setTimeout(turn, idlePollMilliseconds);
      else {
        emitBurst();
        setImmediate(turn);
      }
      return;
    }
    const due = Math.floor((now - rateStartedAt) / burstIntervalMilliseconds) + 1 - burstsSinceStart;
    const count = Math.max(0, Math.min(due, maxBurstsPerTurn));
    for (let i = 0; i < count; i++) emitBurst();
    burstsSinceStart += count;
    const nextDueAt = rateStartedAt + burstsSinceStart * burstIntervalMilliseconds;
    setTimeout(turn, Math.max(0, nextDueAt - performance.now()));
  }
  turn();
}
