/**
 * What each idle socket costs on skyport's JavaScript heap: starts skyport
 * in this process, opens `--connections` sockets from a load generator
 * child (so the clients' heap is not counted), collects garbage
 * (`Bun.gc(true)`), and prints, per object type, how many more objects of it
 * the heap holds per socket, next to the heap and RSS growth per socket.
 *
 * Owns the census only; the benchmark's RSS figures come from the memory
 * scenarios (scenarios.ts). Never asserts: it is the tool that finds what
 * an idle session allocates.
 *
 * usage: bun run bench/heap-census.ts [--endpoint drone|echo|viewer] [--connections 5000]
 */
import { heapStats } from "bun:jsc";
import { parseArgs } from "node:util";
import { startServer } from "../src/edge/app.ts";
import { parseConfig } from "../src/edge/config.ts";
import type { Logger } from "../src/runtime/observability/log.ts";
import { LoadGroup, type ListenPlan } from "./driver.ts";
import { subscribeMessage } from "./servers.ts";

const { values } = parseArgs({ options: { endpoint: { type: "string", default: "drone" }, connections: { type: "string", default: "5000" } } });
const connections = Number(values.connections);
if (!Number.isInteger(connections) || connections < 1) throw new Error(`--connections must be a positive integer: received ${values.connections}`);
const endpoint = values.endpoint;
if (endpoint !== "drone" && endpoint !== "echo" && endpoint !== "viewer") throw new Error(`--endpoint must be drone, echo or viewer: received ${endpoint}`);

/** Object types whose count per socket is below this are left out of the table. */
const minPerSocket = 0.05;

const config = parseConfig(["--addr", "127.0.0.1:0", "--max-connections", "20000", "--max-connections-per-ip", "20000", "--no-record", "--drones", "alpha", "--telemetry-hz", "10"]);
/** One log line per open and close would be counted as the sockets' cost: nothing is logged. */
const quiet: Logger = { info() {}, warn() {}, error() {} };
const server = startServer(config, { logger: quiet });
const path = endpoint === "echo" ? "/echo" : endpoint === "viewer" ? "/drone?drone=alpha" : "/drone";
const behaviour: ListenPlan =
  endpoint === "echo"
    ? { mode: "listen", send: [], replies: 0, graceMilliseconds: 0 }
    : endpoint === "viewer"
      ? { mode: "listen", send: [subscribeMessage("alpha")], replies: 2, graceMilliseconds: 0 }
      : { mode: "listen", send: [JSON.stringify({ type: "unsubscribe", id: "u", data: { drone: "alpha" } })], replies: 2, graceMilliseconds: 0 };

function census(): { counts: Record<string, number>; heap: number; capacity: number; extra: number; rss: number } {
  Bun.gc(true);
  const stats = heapStats();
  return { counts: { ...stats.objectTypeCounts }, heap: stats.heapSize, capacity: stats.heapCapacity, extra: stats.extraMemorySize, rss: process.memoryUsage().rss };
}

const plan = { port: Number(server.url.port), path, processes: 1, core: 0, behaviour };
const warm = await LoadGroup.open({ ...plan, connections: 100 });
const before = census();
const held = await LoadGroup.open({ ...plan, connections });
await Bun.sleep(1000);
const after = census();
const rows = Object.keys(after.counts)
  .map((type) => ({ type, perSocket: ((after.counts[type] ?? 0) - (before.counts[type] ?? 0)) / connections }))
  .filter(({ perSocket }) => Math.abs(perSocket) >= minPerSocket)
  .sort((a, b) => b.perSocket - a.perSocket);
const perSocket = (key: "heap" | "capacity" | "extra" | "rss") => `${((after[key] - before[key]) / connections).toFixed(0)} B`;
console.log(`${connections} idle ${path} sockets, per socket: heap ${perSocket("heap")} (capacity ${perSocket("capacity")}, extra memory ${perSocket("extra")}), RSS ${perSocket("rss")}`);
for (const { type, perSocket } of rows) console.log(`${perSocket.toFixed(2).padStart(8)}  ${type}`);
await held.close();
await warm.close();
await server.stop();
process.exit(0);
