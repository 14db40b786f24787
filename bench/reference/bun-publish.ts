/**
 * Reference for the telemetry fan-out benchmarks: the thinnest Bun publish
 * loop. Subscribers connect to any path and are subscribed to --topics
 * topics (one by default); the server publishes fixed-size frames at a
 * fixed rate, or as fast as it can, in bursts of --burst frames, frame i of
 * a burst to topic i mod --topics (skyport publishes one frame per drone per
 * tick, back to back, each on its drone's topic, and uWebSockets sends a
 * burst to each subscriber in one write, so the reference must burst the
 * same way).
 *
 * usage: bun run bench/reference/bun-publish.ts [flags]
 *   --addr host:port          address to listen on (default 127.0.0.1:0)
 *   --frame-bytes n           bytes per published frame, >= 27 (default 64)
 *   --format text|binary      frame opcode (default text, like skyport's JSON)
 *   --rate n                  frames per second; 0 = as fast as possible (default 0)
 *   --burst n                 frames published back to back per tick (default 1)
 *   --topics n                topics every subscriber joins, like a topic per drone (default 1)
 *   --topic name              topic name prefix (default telemetry)
 *   --backpressure-limit n    unsent bytes per socket beyond which Bun drops
 *                             frames for it (default 16777216, Bun's own default)
 *   --max-seconds n           exit after this long, whatever happens (default 600)
 *
 * Prints `bun-publish listening on HOST:PORT` once listening. Each frame
 * carries its send time (epoch microseconds, read once per burst), its
 * topic's number and a sequence number per topic, so subscribers can measure
 * delivery latency and loss; the rest is padding. Text frames are `R`, the
 * time in 16 digits, the topic in 4, the seq in 10, then spaces; binary
 * frames start with the time (float64 LE, epoch milliseconds), the seq
 * (uint32 LE) and the topic (uint16 LE), then zeros. Text is the default
 * because skyport sends text: publishing a Uint8Array cost Bun 1.4.5 about
 * twice the CPU of publishing a string of the same size for 28 KB frames
 * (measured here). Publishing only runs while the topic has at least one
 * subscriber.
 */

/** Bytes of the text header: `R` + 16 digits of epoch µs + 4 of topic + 10 of seq (the binary header needs 14). */
const textHeaderBytes = 31;
/** Most topics the 4-digit topic number can name. */
const maxTopics = 10_000;
/** Most bursts published in one macrotask when the paced loop is behind, so the event loop still accepts and reads. */
const maxBurstsPerTurn = 16;
/** How often to check again for subscribers while there are none. */
const idlePollMilliseconds = 10;

interface Flags {
  hostname: string;
  port: number;
  frameBytes: number;
  format: "text" | "binary";
  rate: number;
  burst: number;
  topics: number;
  topic: string;
  backpressureLimit: number;
  maxSeconds: number;
}

function fail(message: string): never {
  console.error(`bun-publish: ${message}`);
  process.exit(2);
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = {
    hostname: "127.0.0.1",
    port: 0,
    frameBytes: 64,
    format: "text",
    rate: 0,
    burst: 1,
    topics: 1,
    topic: "telemetry",
    backpressureLimit: 16 * 1024 * 1024,
    maxSeconds: 600,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i];
    const value = argv[i + 1];
    if (value === undefined) fail(`${name} needs a value`);
    const number = Number(value);
    switch (name) {
      case "--addr": {
        const match = /^(.*):(\d+)$/.exec(value);
        if (!match) fail(`--addr must be host:port: got ${JSON.stringify(value)}`);
        flags.hostname = match[1] || "127.0.0.1";
        flags.port = Number(match[2]);
        break;
      }
      case "--frame-bytes":
        if (!Number.isInteger(number) || number < textHeaderBytes) fail(`--frame-bytes must be an integer >= ${textHeaderBytes}: got ${value}`);
        flags.frameBytes = number;
        break;
      case "--format":
        if (value !== "text" && value !== "binary") fail(`--format must be text or binary: got ${JSON.stringify(value)}`);
        flags.format = value;
        break;
      case "--rate":
        if (!Number.isFinite(number) || number < 0) fail(`--rate must be >= 0 frames per second: got ${value}`);
        flags.rate = number;
        break;
      case "--burst":
        if (!Number.isInteger(number) || number < 1) fail(`--burst must be an integer >= 1: got ${value}`);
        flags.burst = number;
        break;
      case "--topics":
        if (!Number.isInteger(number) || number < 1 || number > maxTopics) fail(`--topics must be an integer from 1 to ${maxTopics}: got ${value}`);
        flags.topics = number;
        break;
      case "--topic":
        flags.topic = value;
        break;
      case "--backpressure-limit":
        if (!Number.isInteger(number) || number < 1024) fail(`--backpressure-limit must be an integer >= 1024 bytes: got ${value}`);
        flags.backpressureLimit = number;
        break;
      case "--max-seconds":
        if (!Number.isFinite(number) || number <= 0) fail(`--max-seconds must be > 0: got ${value}`);
        flags.maxSeconds = number;
        break;
      default:
        fail(`unknown flag ${JSON.stringify(name)}`);
    }
  }
  return flags;
}

const flags = parseFlags(process.argv.slice(2));
const binaryFrame = new Uint8Array(flags.frameBytes);
const binaryHeader = new DataView(binaryFrame.buffer);
const textPadding = " ".repeat(flags.frameBytes - textHeaderBytes);
const topicNames = Array.from({ length: flags.topics }, (_, i) => `${flags.topic}${i}`);
const topicNumbers = topicNames.map((_, i) => String(i).padStart(4, "0"));
/** Next seq of each topic. */
const sequences = new Uint32Array(flags.topics);

const server = Bun.serve({
  hostname: flags.hostname,
  port: flags.port,
  development: false,
  fetch(req, server) {
    if (server.upgrade(req)) return undefined;
    return new Response("WebSocket upgrade required\n", { status: 426, headers: { Upgrade: "websocket" } });
  },
  websocket: {
    backpressureLimit: flags.backpressureLimit,
    closeOnBackpressureLimit: false,
    open(ws) {
      for (const topic of topicNames) ws.subscribe(topic);
    },
    message() {},
  },
});

/** Publishes one burst, all frames stamped with the same send time (skyport stamps a tick once). */
function publishBurst(): void {
  const nowMs = performance.timeOrigin + performance.now();
  if (flags.format === "binary") binaryHeader.setFloat64(0, nowMs, true);
  const time = String(Math.round(nowMs * 1000)).padStart(16, "0");
  for (let i = 0; i < flags.burst; i++) {
    const topic = i % flags.topics;
    const seq = sequences[topic]!++;
    if (flags.format === "binary") {
      binaryHeader.setUint32(8, seq, true);
      binaryHeader.setUint16(12, topic, true);
      server.publish(topicNames[topic]!, binaryFrame);
    } else {
      server.publish(topicNames[topic]!, `R${time}${topicNumbers[topic]}${String(seq).padStart(10, "0")}${textPadding}`);
    }
  }
}

const startedAt = performance.now();
/** Milliseconds between bursts when paced. */
const burstIntervalMilliseconds = flags.rate > 0 ? (1000 * flags.burst) / flags.rate : 0;
/** Bursts published since the paced loop started (or restarted after an idle spell). */
let burstsSinceStart = 0;
let rateStartedAt = startedAt;
let idle = true;

/**
 * One turn of the publish loop: publishes what is due (as fast as possible:
 * one burst), then schedules the next turn for when the next burst is due.
 * Ends the process after --max-seconds.
 */
function turn(): void {
  const now = performance.now();
  if (now - startedAt > flags.maxSeconds * 1000) {
    server.stop(true);
    process.exit(0);
  }
  if (server.subscriberCount(topicNames[0]!) === 0) {
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
    publishBurst();
    setImmediate(turn);
    return;
  }
  const due = Math.floor((now - rateStartedAt) / burstIntervalMilliseconds) + 1 - burstsSinceStart;
  const count = Math.min(due, maxBurstsPerTurn);
  for (let i = 0; i < count; i++) publishBurst();
  burstsSinceStart += count;
  const nextDueAt = rateStartedAt + burstsSinceStart * burstIntervalMilliseconds;
  setTimeout(turn, Math.max(0, nextDueAt - performance.now()));
}

turn();
console.log(`bun-publish listening on ${server.hostname}:${server.port}`);
