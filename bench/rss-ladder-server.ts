/**
 * One rung of the RSS ladder (bench/rss-ladder.ts): a `Bun.serve` WebSocket
 * server built up step by step from bare Bun towards skyport's `/drone`,
 * each step adding one of skyport's real parts (its own modules, not copies)
 * to the step before. The ladder measures every step with the memory
 * scenarios' protocol; the step where RSS per socket jumps is what costs.
 *
 * Every step builds the same parts at start (so every step's process holds
 * the same fixed memory) and uses them only from its own step on.
 *
 * Owns the steps' servers only; it measures nothing. `--mode viewer`
 * publishes frames of `--frame-bytes` at 10 Hz to the topic every socket
 * joins (bare Bun's telemetry reference does the same); `--mode idle`
 * publishes nothing. On SIGUSR2 it collects garbage (`Bun.gc(true)`) and
 * writes `bun:jsc` heap statistics to `--stats-file`, so the ladder can
 * tell live objects from what the allocator keeps.
 *
 * usage: bun run bench/rss-ladder-server.ts --step <name> --mode idle|viewer
 *          [--frame-bytes n] [--stats-file path] [--addr host:port]
 * Prints `rss-ladder listening on HOST:PORT` once listening.
 */
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { heapStats } from "bun:jsc";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { openIdentity } from "../src/core/identity/rights.ts";
import { startServer } from "../src/edge/app.ts";
import { ConnectionRegistry, type SocketData } from "../src/edge/connections.ts";
import { parseConfig } from "../src/edge/config.ts";
import { DroneEndpoint } from "../src/edge/endpoints/drone.ts";
import { ConnectionLimiter } from "../src/edge/security.ts";
import { SessionRegistry } from "../src/edge/sessions/registry.ts";
import { newSession } from "../src/edge/sessions/session.ts";
import { decideUpgrade } from "../src/edge/upgrade.ts";
import { FlightService } from "../src/runtime/flight-service.ts";
import type { Logger } from "../src/runtime/observability/log.ts";
import { Metrics } from "../src/runtime/observability/metrics.ts";
import { telemetryTopic } from "../src/runtime/topics.ts";
import { ladderSteps, type LadderStep } from "./rss-ladder-steps.ts";

/** Frames a second published to a viewer's topic: memory-viewer's rate. */
const viewerHz = 10;
/** The drone skyport's benchmarks fly; the topic viewers join. */
const droneId = "alpha";

const { values } = parseArgs({
  options: {
    step: { type: "string" },
    mode: { type: "string", default: "idle" },
    "frame-bytes": { type: "string", default: "491" },
    "stats-file": { type: "string" },
    addr: { type: "string", default: "127.0.0.1:0" },
  },
});
const stepIndex = ladderSteps.indexOf(values.step as LadderStep);
if (stepIndex < 0) fail(`--step must be one of ${ladderSteps.join(", ")}: received ${JSON.stringify(values.step)}`);
const mode = values.mode;
if (mode !== "idle" && mode !== "viewer") fail(`--mode must be idle or viewer: received ${JSON.stringify(mode)}`);
const frameBytes = Number(values["frame-bytes"]);
if (!Number.isInteger(frameBytes) || frameBytes < 32) fail(`--frame-bytes must be an integer >= 32: received ${values["frame-bytes"]}`);
const addr = /^(.*):(\d+)$/.exec(values.addr!) ?? fail(`--addr must be host:port: received ${JSON.stringify(values.addr)}`);

/** Whether this server includes `step`'s part. */
const has = (step: LadderStep) => stepIndex >= ladderSteps.indexOf(step);

function fail(message: string): never {
  console.error(`rss-ladder-server: ${message}`);
  process.exit(2);
}

// skyport's configuration as the benchmark starts it (bench/servers.ts), so the parts are configured alike.
const config = parseConfig([
  "--addr", values.addr!, "--max-connections", "20000", "--max-connections-per-ip", "20000", "--no-record", "--drones", droneId,
  "--telemetry-hz", String(viewerHz), "--slow-consumer-bytes", String(1024 * 1024),
]);
/** Nothing is logged: logging is not a per-socket cost (measured in issue 18), and every step would pay it alike. */
const quiet: Logger = { info() {}, warn() {}, error() {} };
const metrics = new Metrics();
// The flight service is built, never started: no tick runs, so the steps differ only in the part each adds.
const flight = new FlightService(config, quiet, metrics);
const admission = new ConnectionLimiter(config.maxConnections, config.maxConnectionsPerIp);
const sessions = new SessionRegistry(flight, config, metrics, quiet);
const connections = new ConnectionRegistry(quiet, () => flight.nowMs(), () => sessions.sockets());
const endpoint = new DroneEndpoint(flight, config, metrics);
const topic = telemetryTopic(droneId);
/** The two short replies of the `exchange` step (the load generator waits for two replies before the socket counts as open). */
const shortReplies = ['{"type":"welcome"}', '{"type":"ack"}'];

type LadderSocket = ServerWebSocket<SocketData | undefined>;

/** `ws.data` for the `data` step: skyport's shape, filled without its upgrade checks. */
function plainData(server: Server<SocketData | undefined>, request: Request): SocketData {
  const peer = server.requestIP(request);
  const wanted = mode === "viewer" ? [droneId] : flight.fleet.ids.slice(0, config.maxSubscriptions);
  return {
    endpoint: "drone",
    address: peer?.address ?? "",
    port: peer?.port ?? 0,
    openedAt: flight.nowMs(),
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    session: newSession(droneId, wanted, openIdentity),
  };
}

function upgrade(request: Request, server: Server<SocketData | undefined>): Response | undefined {
  if (!has("data-empty")) return server.upgrade(request, { data: undefined }) ? undefined : new Response("upgrade failed", { status: 400 });
  if (!has("data")) return server.upgrade(request, { data: {} as SocketData }) ? undefined : new Response("upgrade failed", { status: 400 });
  if (!has("upgrade")) return server.upgrade(request, { data: plainData(server, request) }) ? undefined : new Response("upgrade failed", { status: 400 });
  const decision = decideUpgrade(request, "drone", { config, admission, draining: false, fleet: flight.fleet, peer: server.requestIP(request), nowMs: flight.nowMs() });
  if ("refuse" in decision) return decision.refuse;
  return server.upgrade(request, decision) ? undefined : new Response("upgrade failed", { status: 400 });
}

const handlers: WebSocketHandler<SocketData | undefined> = {
  open(ws: LadderSocket) {
    const socket = ws as ServerWebSocket<SocketData>;
    if (has("registries")) {
      connections.opened(socket);
      sessions.register(socket);
    }
    if (has("welcome")) return endpoint.open(socket);
    if (mode === "viewer") ws.subscribe(topic);
  },
  message(ws: LadderSocket, message) {
    if (has("endpoint")) return endpoint.message(ws as ServerWebSocket<SocketData>, message);
    // The welcome step sent its welcome on open: one short reply more makes the two the client waits for.
    if (has("welcome")) ws.send(shortReplies[1]!);
    else if (has("exchange")) for (const reply of shortReplies) ws.send(reply);
  },
  close(ws: LadderSocket) {
    if (!has("registries")) return;
    const socket = ws as ServerWebSocket<SocketData>;
    sessions.unregister(socket);
    admission.release(socket.data.address);
    connections.closed(socket, 1000, "");
  },
  ...(has("options")
    ? {
        maxPayloadLength: Math.max(config.echoMaxBytes, config.droneMaxBytes),
        idleTimeout: config.idleTimeoutSeconds,
        sendPings: true,
        backpressureLimit: Math.max(16 * 1024 * 1024, config.slowConsumerBytes * 4),
        closeOnBackpressureLimit: false,
        perMessageDeflate: config.compression !== "off",
      }
    : {}),
};

/** The steps up to `options` serve from here; `app` is skyport's own server. */
function serveStep(): Server<SocketData | undefined> {
  if (has("app")) return startServer(config, { logger: quiet }).server as Server<SocketData | undefined>;
  const server = Bun.serve<SocketData | undefined, string>({
    hostname: addr[1] || "127.0.0.1",
    port: Number(addr[2]),
    development: false,
    ...(has("options") ? { routes: { "/drone": { GET: upgrade } } } : {}),
    fetch: (request, server) => upgrade(request, server),
    websocket: handlers,
  });
  if (has("welcome")) flight.attach(server, sessions);
  return server;
}
const server = serveStep();

if (mode === "viewer" && !has("app")) {
  // Frames the size of skyport's, at its rate; padded like bare Bun's reference (the load generator counts them as telemetry).
  const padding = " ".repeat(frameBytes - 31);
  let seq = 0;
  setInterval(() => {
    const time = String(Math.round((performance.timeOrigin + performance.now()) * 1000)).padStart(16, "0");
    server.publish(topic, `R${time}0000${String(seq++).padStart(10, "0")}${padding}`);
  }, 1000 / viewerHz);
}

if (values["stats-file"] !== undefined) {
  const statsFile = values["stats-file"];
  let collections = 0;
  process.on("SIGUSR2", () => {
    Bun.gc(true);
    const stats = heapStats();
    collections++;
    writeFileSync(statsFile, JSON.stringify({ collection: collections, heapSize: stats.heapSize, heapCapacity: stats.heapCapacity, extraMemorySize: stats.extraMemorySize, objectTypeCounts: stats.objectTypeCounts }));
  });
}

console.log(`rss-ladder listening on ${server.hostname}:${server.port}`);
