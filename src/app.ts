/**
 * Wires skyport together: HTTP routes, WebSocket upgrades and per-socket
 * handlers on one `Bun.serve`, plus graceful shutdown.
 *
 * Owns the Bun-specific edge (server.upgrade, websocket options, stop). The
 * behaviour of each endpoint lives in its own module; this file only routes.
 * It does not read argv, env or signals: `server.ts` does that.
 */
import type { Server } from "bun";
import page from "../client/index.html";
import type { Config } from "./config.ts";
import { ConnectionRegistry, type DroneSession, type Endpoint, type Socket, type SocketData } from "./connections.ts";
import { ControllerEndpoint } from "./controller-endpoint.ts";
import { commandsPerSecond, DroneEndpoint, droneMaxMessageBytes, newSession } from "./drone-endpoint.ts";
import { echoMessage, echoMessageWithLimit } from "./echo.ts";
import { FlightService, type Clocks } from "./flight-service.ts";
import { checkHandshake } from "./handshake.ts";
import { healthResponse, methodNotAllowed, notFound, textResponse } from "./http.ts";
import { consoleLogger, type Logger } from "./log.ts";
import { droneSubprotocol } from "./protocol.ts";

/** Close code and reason sent to every client when the server stops (RFC 6455 "going away"). */
export const closeCodeGoingAway = 1001;
export const shutdownReason = "server shutting down";

/** How long shutdown waits for clients to answer the close handshake before dropping them. */
const shutdownGraceMilliseconds = 2000;

export interface StartOptions {
  logger?: Logger;
  /** Clocks for the simulation; tests may inject their own. */
  clocks?: Clocks;
  /** Start the simulation timer (default true). Tests that step by hand turn it off. */
  autoStep?: boolean;
}

/** A started server and the handles tests and `server.ts` need. */
export interface RunningServer {
  server: Server<SocketData>;
  /** Base HTTP URL, e.g. `http://localhost:8080/`. */
  url: URL;
  connections: ConnectionRegistry;
  flight: FlightService;
  /**
   * Stops accepting, closes every socket with 1001 and resolves once they
   * are closed (or the grace period ran out). Safe to call more than once.
   */
  stop(): Promise<void>;
}

/** WebSocket paths; each accepts GET only, anything else is 405. */
const upgradePaths: Record<string, Endpoint> = { "/echo": "echo", "/drone": "drone", "/api/controller": "controller" };

/** Starts skyport with the given configuration. */
export function startServer(config: Config, options: StartOptions = {}): RunningServer {
  const logger = options.logger ?? consoleLogger;
  const connections = new ConnectionRegistry(logger);
  const flight = new FlightService(config, logger, options.clocks);
  const drone = new DroneEndpoint(flight, {
    maxMessageBytes: droneMaxMessageBytes,
    commandsPerSecond,
    telemetryHz: config.telemetryHz,
    replayBufferFrames: Math.round(config.telemetryHz * config.replaySeconds),
    failsafeSeconds: config.failsafeSeconds,
  });
  const controller = new ControllerEndpoint(flight);
  // Bun has one payload limit per server; the smaller per-endpoint limits are checked by hand.
  const maxPayloadLength = Math.max(config.echoMaxBytes, droneMaxMessageBytes);
  const echo = config.echoMaxBytes < maxPayloadLength ? echoMessageWithLimit(config.echoMaxBytes) : echoMessage;
  const startedAt = performance.now();
  let stopping: Promise<void> | null = null;

  /** The session a `/drone` or `/api/controller` socket starts with, or the refusal. */
  function sessionFor(endpoint: Endpoint, url: URL): DroneSession | Response | null {
    if (endpoint === "echo") return null;
    if (endpoint === "controller") return newSession(config.drones[0]!, []);
    const asked = url.searchParams.get("drone");
    if (asked === null) return newSession(config.drones[0]!, config.drones);
    const wanted = asked.split(",").map((id) => id.trim());
    const unknown = wanted.find((id) => !flight.fleet.has(id));
    if (unknown !== undefined) {
      return textResponse(404, `no drone ${JSON.stringify(unknown.slice(0, 40))}: this server flies ${config.drones.join(", ")}`);
    }
    return newSession(wanted[0]!, wanted);
  }

  function upgrade(endpoint: Endpoint) {
    return (req: Request, server: Server<SocketData>): Response | undefined => {
      if (stopping) return textResponse(503, "server shutting down: try again shortly", { "Retry-After": "5" });
      const refusal = checkHandshake(req.headers);
      if (refusal) return textResponse(refusal.status, refusal.message, refusal.headers);
      const headers: Record<string, string> = {};
      if (endpoint === "drone") {
        const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim()).filter(Boolean);
        if (offered.length > 0 && !offered.includes(droneSubprotocol)) {
          return textResponse(400, `unsupported subprotocol ${JSON.stringify(offered.join(", "))}: /drone speaks ${droneSubprotocol}`);
        }
        if (offered.length > 0) headers["Sec-WebSocket-Protocol"] = droneSubprotocol;
      }
      const session = sessionFor(endpoint, new URL(req.url));
      if (session instanceof Response) return session;
      const peer = server.requestIP(req);
      const data: SocketData = {
        endpoint,
        remote: peer ? `${peer.address}:${peer.port}` : "unknown",
        openedAt: performance.now(),
        messagesIn: 0,
        messagesOut: 0,
        session,
      };
      if (server.upgrade(req, { data, headers })) return undefined;
      return textResponse(400, "WebSocket upgrade failed: the handshake headers were not accepted");
    };
  }

  const routes: Record<string, unknown> = {
    "/": { GET: page },
    "/healthz": {
      GET: () =>
        healthResponse({
          status: stopping ? "draining" : "ok",
          uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
          connections: connections.counts(),
        }),
    },
  };
  for (const [path, endpoint] of Object.entries(upgradePaths)) routes[path] = { GET: upgrade(endpoint) };

  const server: Server<SocketData> = Bun.serve<SocketData>({
    hostname: config.hostname,
    port: config.port,
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
      open(ws: Socket) {
        connections.opened(ws);
        if (ws.data.endpoint === "drone") drone.open(ws);
        else if (ws.data.endpoint === "controller") controller.open(ws);
      },
      message(ws: Socket, message) {
        ws.data.messagesIn++;
        const endpoint = ws.data.endpoint;
        if (endpoint === "echo") echo(ws, message);
        else if (endpoint === "drone") drone.message(ws, message);
        else controller.message(ws, message);
      },
      close(ws: Socket, code, reason) {
        if (ws.data.endpoint === "drone") drone.close(ws);
        else if (ws.data.endpoint === "controller") controller.close(ws);
        connections.closed(ws, code, reason);
      },
    },
  });
  if (options.autoStep ?? true) flight.start(server);
  else flight.attach(server);

  async function stop(): Promise<void> {
    if (stopping) return stopping;
    stopping = (async () => {
      flight.stop();
      connections.closeAll(closeCodeGoingAway, shutdownReason);
      const deadline = performance.now() + shutdownGraceMilliseconds;
      while (connections.size > 0 && performance.now() < deadline) await Bun.sleep(10);
      await server.stop(true);
    })();
    return stopping;
  }

  return { server, url: server.url, connections, flight, stop };
}
