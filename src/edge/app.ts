/**
 * Wires skyport together: HTTP routes, WebSocket upgrades and per-socket
 * handlers on one `Bun.serve`, admission control, metrics, and graceful
 * shutdown.
 *
 * Owns the Bun-specific edge (server.upgrade, websocket options, stop). The
 * behaviour of each endpoint lives in its own module and every rule in a
 * pure one; this file only routes and admits. It does not read argv, env or
 * signals: `server.ts` does that.
 */
import type { Server } from "bun";
import page from "../../client/web/index.html";
import type { Config } from "./config.ts";
import { closeCodes, ConnectionRegistry, endpointPaths, type DroneSession, type Endpoint, type Socket, type SocketData } from "./connections.ts";
import { ControllerEndpoint } from "./endpoints/controller.ts";
import { DroneEndpoint } from "./endpoints/drone.ts";
import { newSession } from "./sessions/session.ts";
import { echoMessage, echoMessageWithLimit } from "./endpoints/echo.ts";
import type { Clocks } from "../runtime/clock.ts";
import { FlightService } from "../runtime/flight-service.ts";
import { SessionRegistry } from "./sessions/registry.ts";
import type { Vehicle } from "../core/vehicle/vehicle.ts";
import { checkHandshake } from "./handshake.ts";
import { healthResponse, methodNotAllowed, notFound, textResponse } from "./http.ts";
import { consoleLogger, type Logger } from "../runtime/observability/log.ts";
import { Metrics, type Traffic } from "../runtime/observability/metrics.ts";
import { allDrones, droneSubprotocol } from "../../protocol/index.ts";
import { RedisBroker } from "../runtime/cluster/redis-broker.ts";
import { hostname } from "node:os";
import { ConnectionLimiter, originAllowed, parseOfferedProtocols, tokensEqual } from "./security.ts";

/** Reason sent with 1001 ("going away") to every client when the server stops. */
export const shutdownReason = "server shutting down";

/** How long shutdown waits for clients to answer the close handshake before dropping them. */
const shutdownGraceMilliseconds = 2000;

/**
 * Bun's hard per-socket send buffer, bytes. Past it Bun drops messages, so it
 * sits far above the slow-consumer limit where skyport itself stops sending
 * telemetry: acks and replies are never dropped.
 */
const minimumBackpressureLimitBytes = 16 * 1024 * 1024;

export interface StartOptions {
  logger?: Logger;
  /** Clocks for the simulation; tests may inject their own. */
  clocks?: Clocks;
  /** Start the simulation timer (default true). Tests that step by hand turn it off. */
  autoStep?: boolean;
  /** The vehicles to fly instead of one simulated drone per `config.drones` id (tests fly other kinds). */
  vehicles?: readonly Vehicle[];
}

/** A started server and the handles tests and `server.ts` need. */
export interface RunningServer {
  server: Server<SocketData>;
  /** Base HTTP URL, e.g. `http://localhost:8080/`. */
  url: URL;
  connections: ConnectionRegistry;
  flight: FlightService;
  /** The Redis broker when started with --redis, else null. */
  cluster: RedisBroker | null;
  metrics: Metrics;
  /**
   * Drains: refuses new upgrades, tells flying drones to hover, closes every
   * socket with 1001 and resolves once they are closed (or the grace period
   * ran out). Safe to call more than once.
   */
  stop(): Promise<void>;
}

/** WebSocket paths; each accepts GET only, anything else is 405. */
const upgradePaths: Record<string, Endpoint> = { "/echo": "echo", "/drone": "drone", "/api/controller": "controller" };

/** Starts skyport with the given configuration. */
export function startServer(config: Config, options: StartOptions = {}): RunningServer {
  const logger = options.logger ?? consoleLogger;
  const connections = new ConnectionRegistry(logger);
  const metrics = new Metrics();
  const admission = new ConnectionLimiter(config.maxConnections, config.maxConnectionsPerIp);
  const flight = new FlightService(config, logger, metrics, options.clocks, options.vehicles);
  const sessions = new SessionRegistry(flight, config, metrics, logger);
  const droneIds = flight.fleet.ids;
  const drone = new DroneEndpoint(flight, config, metrics, options.clocks);
  const controller = new ControllerEndpoint(flight, config, metrics);
  // With --redis this node joins a cluster; it serves its own sockets whether Redis is up or not.
  const cluster = config.redisUrl === null ? null : new RedisBroker({
    url: config.redisUrl,
    nodeId: config.nodeId ?? `${hostname()}-${process.pid}`,
    droneIds,
    ownerLeaseSeconds: config.ownerLeaseSeconds,
    replayFrames: Math.max(1, Math.round(config.telemetryHz * config.replaySeconds)),
    logger,
  });
  // Bun has one payload limit per server; the smaller per-endpoint limits are checked by hand.
  const maxPayloadLength = Math.max(config.echoMaxBytes, config.droneMaxBytes);
  const echo = config.echoMaxBytes < maxPayloadLength ? echoMessageWithLimit(config.echoMaxBytes) : echoMessage;
  const startedAt = performance.now();
  let stopping: Promise<void> | null = null;

  /** Refuses an upgrade before the handshake, counting the reason. */
  function refuse(reason: string, status: number, message: string, headers?: Record<string, string>): Response {
    metrics.refuseUpgrade(reason);
    return textResponse(status, message, headers);
  }

  /** The session a `/drone` or `/api/controller` socket starts with, or the refusal. */
  function sessionFor(endpoint: Endpoint, requestUrl: string, viewerToken: string | null): DroneSession | Response | null {
    if (endpoint === "echo") return null;
    // The tutorial dialect cannot present a viewer token and receives no telemetry; it flies under the pilot rules.
    if (endpoint === "controller") return newSession(droneIds[0]!, [], true);
    // A wrong token in the header was refused before this point; a missing one must come in `hello`.
    const authenticated = config.viewerToken === null || viewerToken !== null;
    const asked = new URL(requestUrl).searchParams.get("drone");
    const wanted = asked === null ? droneIds.slice(0, config.maxSubscriptions) : asked.split(",").map((id) => id.trim());
    const unknown = wanted.find((id) => id !== allDrones && !flight.fleet.has(id));
    if (unknown !== undefined) {
      return refuse("unknown_drone", 404, `no drone ${JSON.stringify(unknown.slice(0, 40))}: this server flies ${droneIds.join(", ")}`);
    }
    if (wanted.length > config.maxSubscriptions) {
      return refuse("too_many_subscriptions", 400, `?drone= names ${wanted.length} drones: a socket may watch at most ${config.maxSubscriptions}`);
    }
    // Commands without data.drone address the first drone named, or the fleet's first for `*`.
    const defaultDrone = wanted.find((id) => id !== allDrones) ?? droneIds[0]!;
    return newSession(defaultDrone, wanted, authenticated);
  }

  function upgrade(endpoint: Endpoint) {
    return (req: Request, server: Server<SocketData>): Response | undefined => {
      if (stopping) return refuse("draining", 503, "server shutting down: try again shortly", { "Retry-After": "5" });
      if (!originAllowed(req.headers.get("origin"), req.headers.get("host"), config.allowedOrigins)) {
        return refuse("origin", 403, `origin ${JSON.stringify(req.headers.get("origin")!.slice(0, 100))} may not open WebSockets here`);
      }
      const refusal = checkHandshake(req.headers);
      if (refusal) return refuse("bad_handshake", refusal.status, refusal.message, refusal.headers);

      const headers: Record<string, string> = {};
      let viewerToken: string | null = null;
      if (endpoint === "drone") {
        const offered = parseOfferedProtocols(req.headers.get("sec-websocket-protocol"));
        viewerToken = offered.token;
        if (offered.protocols.length > 0 && !offered.protocols.includes(droneSubprotocol)) {
          return refuse("subprotocol", 400, `unsupported subprotocol ${JSON.stringify(offered.protocols.join(", ").slice(0, 100))}: /drone speaks ${droneSubprotocol}`);
        }
        if (offered.token !== null && (config.viewerToken === null || !tokensEqual(offered.token, config.viewerToken))) {
          return refuse("unauthorized", 401, "unauthorized: the viewer token in Sec-WebSocket-Protocol is wrong");
        }
        // Select our subprotocol whenever the client offered any value (a token alone included), never the token.
        if (offered.protocols.length > 0 || offered.token !== null) headers["Sec-WebSocket-Protocol"] = droneSubprotocol;
      }
      const session = sessionFor(endpoint, req.url, viewerToken);
      if (session instanceof Response) return session;

      const peer = server.requestIP(req);
      const address = peer?.address ?? "unknown";
      const limit = admission.admit(address);
      if (limit === "max_connections") {
        return refuse(limit, 503, `server full: ${config.maxConnections} connections are open`, { "Retry-After": "10" });
      }
      if (limit === "max_connections_per_ip") {
        return refuse(limit, 429, `too many connections from ${address}: at most ${config.maxConnectionsPerIp}`, { "Retry-After": "10" });
      }
      const data: SocketData = {
        endpoint,
        address,
        port: peer?.port ?? 0,
        openedAt: performance.now(),
        messagesIn: 0,
        messagesOut: 0,
        bytesIn: 0,
        bytesOut: 0,
        session,
      };
      if (server.upgrade(req, { data, headers })) return undefined;
      admission.release(address);
      return refuse("bad_handshake", 400, "WebSocket upgrade failed: the handshake headers were not accepted");
    };
  }

  function renderMetrics(): Response {
    const open = new Map<string, { connections: number; traffic: Traffic }>();
    for (const endpoint of Object.keys(endpointPaths) as Endpoint[]) {
      const traffic: Traffic = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
      const sockets = connections.sockets(endpoint);
      for (const ws of sockets) {
        traffic.messagesIn += ws.data.messagesIn;
        traffic.messagesOut += ws.data.messagesOut;
        traffic.bytesIn += ws.data.bytesIn;
        traffic.bytesOut += ws.data.bytesOut;
      }
      open.set(endpointPaths[endpoint], { connections: sockets.size, traffic });
    }
    const status = cluster?.status();
    const text = metrics.render(open, {
      process_resident_memory_bytes: { help: "Resident set size of the server process.", value: process.memoryUsage.rss() },
      skyport_uptime_seconds: { help: "Seconds since the server started.", value: Math.round((performance.now() - startedAt) / 1000) },
      ...(status === undefined
        ? {}
        : {
            skyport_redis_up: { help: "1 while this node is connected to Redis, 0 while degraded (serving its own sockets only).", value: status.redis === "up" ? 1 : 0 },
            skyport_redis_reconnects_total: { help: "Reconnections to Redis after a lost connection.", value: status.reconnects },
            skyport_drones_owned: { help: "Drones this node simulates.", value: status.ownedDrones.length },
            skyport_ops_forwarded_total: { help: "Claims, releases and commands forwarded to the node simulating the drone.", value: status.forwardedOps },
            skyport_ops_forward_failures_total: { help: "Forwarded operations answered with an error or not answered in time.", value: status.forwardFailures },
            skyport_cluster_ticks_published_total: { help: "Ticks of telemetry this node published to Redis.", value: status.ticksPublished },
            skyport_cluster_ticks_received_total: { help: "Ticks of telemetry received from other nodes.", value: status.ticksReceived },
          }),
    });
    return new Response(text, { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" } });
  }

  const routes: Record<string, unknown> = {
    "/": { GET: page },
    "/healthz": {
      GET: () => {
        const status = cluster?.status();
        return healthResponse({
          status: stopping ? "draining" : status?.redis === "down" ? "degraded" : "ok",
          pid: process.pid,
          uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
          connections: connections.counts(),
          ...(status ? { cluster: status } : {}),
        });
      },
    },
    "/metrics": { GET: renderMetrics },
  };
  for (const [path, endpoint] of Object.entries(upgradePaths)) routes[path] = { GET: upgrade(endpoint) };

  const server: Server<SocketData> = Bun.serve<SocketData>({
    hostname: config.hostname,
    port: config.port,
    // Worker processes (`--workers`) share one port; the kernel spreads connections over them.
    reusePort: config.workers > 1,
    development: false,
    routes: routes as never,
    fetch(req) {
      const url = new URL(req.url);
      if (url.pathname in routes) return methodNotAllowed(req.method, url, ["GET"]);
      return notFound(url);
    },
    error(error) {
      logger.error({ event: "http_error", message: error.message });
      return textResponse(500, "internal server error");
    },
    websocket: {
      maxPayloadLength,
      idleTimeout: config.idleTimeoutSeconds,
      sendPings: true,
      backpressureLimit: Math.max(minimumBackpressureLimitBytes, config.slowConsumerBytes * 4),
      closeOnBackpressureLimit: false,
      open(ws: Socket) {
        connections.opened(ws);
        if (ws.data.session) sessions.register(ws);
        if (ws.data.endpoint === "drone") drone.open(ws);
      },
      message(ws: Socket, message) {
        // `ws.data` is a native getter: read it once on this hot path.
        const data = ws.data;
        data.messagesIn++;
        const endpoint = data.endpoint;
        if (endpoint === "echo") echo(ws, message);
        else if (endpoint === "drone") drone.message(ws, message);
        else controller.message(ws, message);
      },
      drain(ws: Socket) {
        if (ws.data.session) sessions.drained(ws);
      },
      close(ws: Socket, code, reason) {
        if (ws.data.session) sessions.unregister(ws);
        admission.release(ws.data.address);
        const { messagesIn, messagesOut, bytesIn, bytesOut } = ws.data;
        metrics.addClosedTraffic(endpointPaths[ws.data.endpoint], { messagesIn, messagesOut, bytesIn, bytesOut });
        connections.closed(ws, code, reason);
      },
    },
  });
  if (options.autoStep ?? true) flight.start(server, sessions);
  else flight.attach(server, sessions);
  if (cluster) {
    cluster.start(flight).catch((error) => logger.error({ event: "cluster_start_failed", message: error instanceof Error ? error.message : String(error) }));
  }

  async function stop(): Promise<void> {
    if (stopping) return stopping;
    stopping = (async () => {
      flight.hoverAll("server shutting down");
      flight.stop();
      connections.closeAll(closeCodes.goingAway, shutdownReason);
      const deadline = performance.now() + shutdownGraceMilliseconds;
      while (connections.size > 0 && performance.now() < deadline) await Bun.sleep(10);
      // Hands this node's drones to the others at once instead of after the owner lease.
      await cluster?.stop();
      await server.stop(true);
    })();
    return stopping;
  }

  return { server, url: server.url, connections, flight, cluster, metrics, stop };
}
