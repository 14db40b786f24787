/**
 * The viewer behind the slow link (slow-link.ts runs it inside the shaped
 * network namespace): it watches every drone with `maxHz` through a relay
 * that holds back what the server sends by `--delay-ms` (this kernel has no
 * netem to delay packets), with Bun's WebSocket client, which offers
 * permessage-deflate.
 *
 * Owns the relay and the viewer. Frame age is the receipt time minus the
 * `time` the batch carries (the server's wall clock, the same machine's).
 * Reads `stop` on stdin, then prints one JSON line: frames, ages, the
 * extension negotiated and the subscribe ack's rate; errors go to stderr
 * with exit code 1.
 *
 * usage: bun run bench/slow-viewer.ts --server HOST:PORT [--max-hz 1] [--delay-ms 100]
 */
import { parseArgs } from "node:util";
import type { Socket, TCPSocketListener } from "bun";
import { lines } from "./streams.ts";

/** The viewer's report, one JSON line on stdout. */
export interface SlowViewerReport {
  /** Batches received after the subscribe ack. */
  batches: number;
  /** Seconds from the ack to `stop`. */
  seconds: number;
  /** Frame age (receipt minus the batch's time), milliseconds: median, 99th percentile, largest. */
  ageP50Millis: number;
  ageP99Millis: number;
  ageMaxMillis: number;
  /** The `Sec-WebSocket-Extensions` the server accepted (empty when none). */
  extensions: string;
  /** The rate the subscribe ack confirmed. */
  ackMaxHz: number | null;
}

/** How long the viewer waits for its welcome and ack, milliseconds. */
const handshakeTimeoutMilliseconds = 20_000;

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { server: { type: "string" }, "max-hz": { type: "string", default: "1" }, "delay-ms": { type: "string", default: "100" } },
});
if (values.server === undefined || !/^[\d.]+:\d+$/.test(values.server)) throw new Error(`--server must be HOST:PORT: received ${JSON.stringify(values.server)}`);
const [serverHost, serverPort] = values.server.split(":") as [string, string];
const maxHz = Number(values["max-hz"]);
const delayMs = Number(values["delay-ms"]);

/** One relayed connection: the viewer's side and the server's. */
interface Pair {
  viewer: Socket<Pair> | null;
  server: Socket<Pair> | null;
  /** Bytes for the server before its connection opened. */
  early: Uint8Array[];
}

/**
 * Relays 127.0.0.1:<port> to the server: the viewer's bytes at once, the
 * server's `delayMs` later, in order (a one-way delay, as netem's on the
 * downlink). Backpressure is not modelled: the shaped link's queue is the tbf's.
 */
function startRelay(): TCPSocketListener<Pair> {
  return Bun.listen<Pair>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(viewer) {
        const pair: Pair = { viewer, server: null, early: [] };
        viewer.data = pair;
        void Bun.connect<Pair>({
          hostname: serverHost,
          port: Number(serverPort),
          data: pair,
          socket: {
            open(server) {
              pair.server = server;
              for (const bytes of pair.early) server.write(bytes);
              pair.early = [];
            },
            data(_server, chunk) {
              const copy = new Uint8Array(chunk);
              setTimeout(() => pair.viewer?.write(copy), delayMs);
            },
            close() {
              setTimeout(() => pair.viewer?.end(), delayMs);
            },
          },
        });
      },
      data(viewer, chunk) {
        const pair = viewer.data;
        if (pair.server) pair.server.write(chunk);
        else pair.early.push(new Uint8Array(chunk));
      },
      close(viewer) {
        viewer.data.server?.end();
      },
    },
  });
}

function percentile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]!;
}

const relay = startRelay();
const ages: number[] = [];
let subscribedAt = 0;
let ackMaxHz: number | null = null;
const socket = new WebSocket(`ws://127.0.0.1:${relay.port}/drone?drone=*`, "skyport.v1.json");
const subscribed = Promise.withResolvers<void>();
const timer = setTimeout(() => subscribed.reject(new Error(`no subscribe ack within ${handshakeTimeoutMilliseconds} ms`)), handshakeTimeoutMilliseconds);
socket.addEventListener("message", (event) => {
  const message = JSON.parse(String(event.data));
  if (message.type === "welcome") socket.send(JSON.stringify({ type: "subscribe", id: "slow", data: { drone: "*", maxHz } }));
  else if (message.type === "error") subscribed.reject(new Error(`the server refused: ${message.data.message}`));
  else if (message.type === "ack" && message.id === "slow") {
    ackMaxHz = message.data.maxHz ?? null;
    subscribedAt = performance.now();
    subscribed.resolve();
  } else if (message.type === "telemetry_batch" && subscribedAt > 0) ages.push(Date.now() - message.data.time);
});
socket.addEventListener("close", (event) => subscribed.reject(new Error(`closed ${event.code} ${event.reason}`)));
try {
  await subscribed.promise;
} catch (error) {
  console.error(`slow-viewer: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
clearTimeout(timer);
console.log(JSON.stringify({ type: "ready" }));
for await (const line of lines(Bun.stdin.stream())) if (line.trim() === "stop") break;
const seconds = (performance.now() - subscribedAt) / 1000;
const sorted = [...ages].sort((a, b) => a - b);
const report: SlowViewerReport = {
  batches: ages.length,
  seconds,
  ageP50Millis: percentile(sorted, 0.5),
  ageP99Millis: percentile(sorted, 0.99),
  ageMaxMillis: sorted.at(-1) ?? Number.NaN,
  extensions: socket.extensions,
  ackMaxHz,
};
console.log(JSON.stringify(report));
socket.close();
relay.stop(true);
process.exit(0);
