/**
 * What reading a socket's data costs inside a real `message` handler:
 * `bun run bench/socket-data-cost.ts [--reads 2000000] [--rounds 7]`.
 *
 * Opens one real WebSocket to a `Bun.serve` on 127.0.0.1 and, in the
 * server's `message` handler, times `reads` reads of a field through Bun's
 * native `ws.data` getter, through an own property set on the socket in
 * `open` (what `/echo` does: src/edge/endpoints/echo.ts `markEchoSocket`),
 * and through a local variable (the floor). Prints ns per read for every
 * round and the best round of each, the least disturbed by other load.
 * A 32 B echo costs the server about 0.5 µs in all (docs/benchmarks.md), so
 * a few ns per message is a percent of it.
 *
 * Owns this one measurement; nothing else reads its output.
 */
import { parseArgs } from "node:util";

interface Data {
  count: number;
}
type MarkedSocket = { data: Data; own?: Data };

const { values } = parseArgs({ options: { reads: { type: "string", default: "2000000" }, rounds: { type: "string", default: "7" } } });
const reads = Number(values.reads);
const rounds = Number(values.rounds);
if (!Number.isInteger(reads) || reads < 1000) throw new Error(`--reads must be an integer >= 1000: got ${JSON.stringify(values.reads)}`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer: got ${JSON.stringify(values.rounds)}`);

/** Nanoseconds per call of `read`, over `reads` calls (the sum is returned so that no read can be skipped). */
function nsPerRead(read: () => number): { ns: number; sum: number } {
  let sum = 0;
  const started = performance.now();
  for (let i = 0; i < reads; i++) sum += read();
  return { ns: ((performance.now() - started) * 1e6) / reads, sum };
}

function measure(ws: MarkedSocket): string {
  const best = { getter: Infinity, own: Infinity, local: Infinity };
  const lines: string[] = [];
  const local = ws.data;
  let checksum = 0;
  for (let round = 1; round <= rounds; round++) {
    const getter = nsPerRead(() => ws.data.count);
    const own = nsPerRead(() => ws.own!.count);
    const floor = nsPerRead(() => local.count);
    checksum += getter.sum + own.sum + floor.sum;
    best.getter = Math.min(best.getter, getter.ns);
    best.own = Math.min(best.own, own.ns);
    best.local = Math.min(best.local, floor.ns);
    lines.push(`round ${round}: ws.data ${getter.ns.toFixed(2)} ns, own property ${own.ns.toFixed(2)} ns, local ${floor.ns.toFixed(2)} ns`);
  }
  lines.push(`best: ws.data ${best.getter.toFixed(2)} ns, own property ${best.own.toFixed(2)} ns, local ${best.local.toFixed(2)} ns per read (checksum ${checksum})`);
  return lines.join("\n");
}

const { promise: report, resolve } = Promise.withResolvers<string>();
const server = Bun.serve<Data, never>({
  hostname: "127.0.0.1",
  port: 0,
  development: false,
  fetch: (request, server) => (server.upgrade(request, { data: { count: 1 } }) ? undefined : new Response("upgrade required", { status: 426 })),
  websocket: {
    open(ws) {
      (ws as unknown as MarkedSocket).own = ws.data;
    },
    message(ws) {
      resolve(measure(ws as unknown as MarkedSocket));
    },
  },
});
const client = new WebSocket(`ws://127.0.0.1:${server.port}/`);
client.onopen = () => client.send("measure");
console.log(`Bun ${Bun.version}, ${reads.toLocaleString("en-US")} reads per round, inside a real message handler`);
console.log(await report);
client.close();
await server.stop(true);
