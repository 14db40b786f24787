/**
 * Wires skyport together on one `Bun.serve`: the plain HTTP routes, the
 * WebSocket upgrades, the per-socket handlers, metrics, and graceful
 * shutdown.
 *
 * Owns the Bun-specific edge (server.upgrade, websocket options, stop) and
 * nothing else: the upgrade decision is `upgrade.ts`, the HTTP routes are
 * `routes.ts`, each endpoint's behaviour is its own module under
 * `endpoints/`, and every rule is in a pure module. It does not read argv,
 * env or signals: `server.ts` does that.
 */
import type { Serve, Server, WebSocketHandler } from "bun";
import { hostname } from "node:os";
import { closeCodes } from "../../protocol/index.ts";
import type { Config } from "./config.ts";
import { ConnectionRegistry, type Socket, type SocketData } from "./connections.ts";
import { settlesWithin } from "./deadline.ts";
import { ControllerEndpoint } from "./endpoints/controller.ts";
import { DroneEndpoint } from "./endpoints/drone.ts";
import { chargeEchoRemainder, echoDataOf, echoHandler, markEchoSocket } from "./endpoints/echo.ts";
import { healthReport, readiness } from "./health.ts";
import { textResponse } from "./http.ts";
import { endpointPaths, endpointRoutes, type Endpoint } from "./paths.ts";
import { fallback, httpRoutes } from "./routes.ts";
import { flightsRoutes } from "./flights-api.ts";
import { mapTilesOf } from "./map-tiles.ts";
import { addressKey, AuthBackoff, ConnectionLimiter, hostAllowed, hostRefusalMessage } from "./security.ts";
import { SessionRegistry } from "./sessions/registry.ts";
import { bearerToken, decideUpgrade, jwtMode, upgradeFailed, type UpgradeRefusal } from "./upgrade.ts";
import { clientAddress, parseOfferedProtocols } from "./security.ts";
import { ServerGroup } from "./server-group.ts";
import { readTlsPair, TlsError, type TlsPair } from "./tls.ts";
import type { KeyStore } from "../runtime/identity/keys.ts";
import { TokenVerifier, type Verdict } from "../runtime/identity/verifier.ts";
import { SharedBuckets } from "../core/flow/rate-limit.ts";
import { SimulatedVehicle } from "../core/vehicle/simulated.ts";
import type { Vehicle } from "../core/vehicle/vehicle.ts";
import { systemClocks, type Clocks } from "../runtime/clock.ts";
import { RedisBroker } from "../runtime/cluster/redis-broker.ts";
import { FlightService } from "../runtime/flight-service.ts";
import { MavlinkLinks } from "../runtime/mavlink/links.ts";
import { registerClusterMetrics } from "../runtime/observability/cluster-metrics.ts";
import { consoleLogger, type Logger } from "../runtime/observability/log.ts";
import { Metrics } from "../runtime/observability/metrics.ts";
import { buildInfo } from "../runtime/observability/build-info.ts";
import { registerProcessMetrics } from "../runtime/observability/process-metrics.ts";
import { registerVehicleMetrics, type VehicleGauges } from "../runtime/observability/vehicle-metrics.ts";
import { MetricsRegistry } from "../runtime/observability/registry.ts";
import { Recorder } from "../runtime/recorder/recorder.ts";
import { RetentionSweeper } from "../runtime/recorder/retention.ts";
import type { VehicleRecovery } from "../runtime/recorder/recovery.ts";
import type { RecorderStore } from "../runtime/recorder/store.ts";

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
  /** The public keys of `config.jwtKeysFile`, loaded by the caller (`KeyStore.open`: loading is asynchronous, and a bad file must stop the start). */
  keys?: KeyStore;
  /**
   * Record flights into this store, carrying each vehicle on from what it
   * kept (`server.ts` opens it from --data-dir; in-process servers record
   * only when a test passes one).
   */
  recording?: { store: RecorderStore; recovery: readonly VehicleRecovery[] };
}

/** A started server and the handles tests and `server.ts` need. */
export interface RunningServer {
  /** The server listening now (a TLS reload replaces it). */
  readonly server: Server<SocketData>;
  /** Base HTTP URL, e.g. `http://localhost:8080/`. */
  url: URL;
  connections: ConnectionRegistry;
  flight: FlightService;
  /** The Redis broker when started with --redis, else null. */
  cluster: RedisBroker | null;
  /** The flight recorder when recording, else null. */
  recorder: Recorder | null;
  metrics: Metrics;
  /**
   * Reads `--tls-cert` and `--tls-key` again and serves new connections with
   * them; open connections keep theirs and stay open. Returns the new pair.
   * @throws TlsError when the server has no TLS, is stopping, or a file cannot be served (the old pair stays).
   */
  reloadTls(): TlsPair;
  /**
   * Drains: tells flying drones to hover, closes every socket with 1001,
   * stops listening (an upgrade already in flight gets 503 "draining") and
   * resolves once every connection is closed or the grace period ran out,
   * whichever comes first. Safe to call more than once.
   */
  stop(): Promise<void>;
}

/** Starts skyport with the given configuration. */
export function startServer(config: Config, options: StartOptions = {}): RunningServer {
  const logger = options.logger ?? consoleLogger;
  const startedAt = performance.now();
  const startedAtUnixSeconds = Date.now() / 1000;
  const metrics = new Metrics();
  const admission = new ConnectionLimiter(config.maxConnections, config.maxConnectionsPerIp);
  const authBackoff = new AuthBackoff();
  // `--mavlink` vehicles fly beside the simulated drones; tests that bring their own vehicles fly only those.
  const mavlink = options.vehicles === undefined && config.mavlink.length > 0 ? new MavlinkLinks(config.mavlink, config.gcsSystemId, config.geofencePolygon) : null;
  const vehicles = mavlink === null ? options.vehicles : [...config.drones.map((id) => new SimulatedVehicle(id, {}, config.home, config.geofencePolygon)), ...mavlink.vehicles];
  const flight = new FlightService(config, logger, metrics, options.clocks, vehicles);
  if (config.jwtKeysFile !== null && options.keys === undefined) throw new Error(`--jwt-keys ${config.jwtKeysFile}: the caller must load the key file (KeyStore.open) and pass it as options.keys`);
  const verifier = jwtMode(config)
    ? new TokenVerifier({ ...config, keys: options.keys ?? null }, { monotonicMs: () => flight.nowMs(), wallMs: () => flight.wallMs() })
    : null;
  // One clock for every socket: durations, deadlines and rates all read the flight service's.
  const sessions = new SessionRegistry(flight, config, metrics, logger);
  // One table per socket: sessions are found in the session registry's.
  const connections = new ConnectionRegistry(logger, () => flight.nowMs(), () => sessions.sockets());
  const cluster = config.redisUrl === null ? null : newClusterBroker(config, config.redisUrl, flight.fleet.ids, logger);
  let stopping: Promise<void> | null = null;
  const recorder = options.recording ? startRecording(options.recording, flight, config, logger, options.clocks) : null;
  const retention = recorder ? new RetentionSweeper(recorder.store, { retentionDays: config.retentionDays, maxBytes: config.recordMaxBytes }, logger, () => Date.now()) : null;
  retention?.start();

  const registry = new MetricsRegistry();
  metrics.registerIn(registry, () => connections.openTraffic());
  registerProcessMetrics(registry, { uptimeSeconds: () => secondsSince(startedAt), startTimeSeconds: startedAtUnixSeconds, build: buildInfo });
  registerVehicleMetrics(registry, () => vehicleGauges(flight));
  if (cluster) registerClusterMetrics(registry, () => cluster.status());
  if (mavlink) registry.register(() => mavlink.families());
  if (recorder) registry.register(() => recorder.families());

  const draining = () => stopping !== null;
  const vehicleLinks = () => flight.fleet.ids.map((id) => ({ id, linkUp: flight.fleet.vehicle(id).linkUp }));
  const health = () =>
    healthReport({
      draining: draining(),
      uptimeSeconds: secondsSince(startedAt),
      connections: connections.counts(),
      vehicles: vehicleLinks(),
      cluster: cluster?.status() ?? null,
      mavlink: mavlink?.health() ?? [],
      version: buildInfo.version,
      pid: process.pid,
    });
  const ready = () => readiness({ draining: draining(), vehicles: vehicleLinks(), cluster: cluster?.status() ?? null });
  const hostRefusal = (request: Request) => rebindingRefusal(request, config, metrics);
  const routes: Serve.RoutesWithUpgrade<SocketData, string> = httpRoutes({ health, readiness: ready, metrics: registry, hostRefusal, mapTiles: mapTilesOf(config) });
  if (recorder) Object.assign(routes, flightsRoutes({ store: recorder.store, viewerToken: config.viewerToken, pilotToken: config.pilotToken, verifier, hostRefusal }));
  for (const { endpoint, path } of endpointRoutes) routes[path] = { GET: upgradeRoute(endpoint, { config, admission, authBackoff, metrics, flight, draining, verifier }) };
  const knownPaths = new Set(Object.keys(routes));

  const tls = config.tlsCertFile === null || config.tlsKeyFile === null ? null : readTlsPair(config.tlsCertFile, config.tlsKeyFile);
  /** The pair new connections get: the one read at start, then each reloaded one. */
  let served = tls;
  if (tls) {
    registry.single("skyport_tls_certificate_expiry_timestamp_seconds", "gauge", "When the certificate new connections get expires, Unix seconds (alert well before it).", () => Date.parse(served!.notAfter) / 1000);
  }
  const serveOptions = (port: number, pair: TlsPair | null): Serve.Options<SocketData, string> => ({
    hostname: config.hostname,
    port,
    // Worker processes (`--workers`) share one port, the kernel spreading connections over them; with TLS a
    // reload starts the new server on the port before the old one stops listening (server-group.ts).
    reusePort: config.workers > 1 || pair !== null,
    ...(pair === null ? {} : { tls: { cert: pair.cert, key: pair.key } }),
    development: false,
    routes,
    fetch: (request) => fallback(request, knownPaths, hostRefusal),
    error(error) {
      logger.error({ event: "http_error", message: error.message });
      return textResponse(500, "internal server error");
    },
    websocket: handlers,
  });
  const handlers = socketHandlers(config, { connections, admission, authBackoff, metrics, flight, sessions, clocks: options.clocks, verifier });
  const compressPublished = config.compression === "drone" || config.compression === "all";
  const servers = new ServerGroup<SocketData>(Bun.serve<SocketData, string>(serveOptions(config.port, tls)), compressPublished);
  if (tls) logger.info({ event: "tls", subject: tls.subject, notAfter: tls.notAfter });
  // In a cluster only the node that owns a vehicle holds its link (and every write is fenced by that ownership).
  const holds = cluster ? (drone: string) => cluster.owns(drone) : undefined;
  mavlink?.start(() => flight.nowSeconds(), logger, holds, recorder ? (vehicle, bytes) => recorder.mavlinkPacket(vehicle, bytes) : undefined);
  if (options.autoStep ?? true) flight.start(servers, sessions);
  else flight.attach(servers, sessions);
  cluster?.start(flight).catch((error) => logger.error({ event: "cluster_start_failed", message: error instanceof Error ? error.message : String(error) }));

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      flight.hoverAll(shutdownReason);
      flight.stop();
      // The vehicles' own GCS failsafe takes over once skyport's HEARTBEAT stops (docs/vehicles.md).
      mavlink?.stop();
      connections.closeAll(closeCodes.goingAway, shutdownReason);
      // Stops listening; resolves once every connection is closed (Bun ends a socket right after its close frame).
      await settlesWithin(Promise.all(servers.all.map((server) => server.stop())), shutdownGraceMilliseconds);
      // Hands this node's drones to the others at once instead of after the owner lease.
      await cluster?.stop();
      await Promise.all(servers.all.map((server) => server.stop(true)));
      // The last frames and the hover commands above are written before the database closes.
      await retention?.stop();
      await recorder?.stop();
    })());

  const reloadTls = (): TlsPair => {
    if (config.tlsCertFile === null || config.tlsKeyFile === null) throw new TlsError("no TLS to reload: the server was started without --tls-cert and --tls-key");
    if (stopping !== null) throw new TlsError("the server is shutting down");
    const pair = readTlsPair(config.tlsCertFile, config.tlsKeyFile);
    servers.handOver(Bun.serve<SocketData, string>(serveOptions(servers.current.port!, pair)));
    served = pair;
    logger.info({ event: "tls_reloaded", subject: pair.subject, notAfter: pair.notAfter });
    return pair;
  };

  return {
    get server() {
      return servers.current;
    },
    url: servers.current.url,
    connections,
    flight,
    cluster,
    recorder,
    metrics,
    stop,
    reloadTls,
  };
}

/** Records every vehicle flown here into the store, after carrying each one on from what the store kept. */
function startRecording(recording: NonNullable<StartOptions["recording"]>, flight: FlightService, config: Config, logger: Logger, clocks: Clocks | undefined): Recorder {
  const recorder = new Recorder(recording.store, { recordHz: config.recordHz ?? config.telemetryHz }, logger, clocks ?? systemClocks);
  for (const vehicle of recording.recovery) {
    if (vehicle.openFlight !== null && vehicle.last.state !== "landed") recorder.resumeFlight(vehicle.openFlight, vehicle.last.position, vehicle.stream);
  }
  // Recording first: the failsafe a restored vehicle engages is recorded too.
  flight.record(recorder);
  flight.replayFrom(recording.store);
  for (const vehicle of recording.recovery) flight.restore(vehicle);
  recorder.start();
  return recorder;
}

/** With --redis this node joins a cluster; it serves its own sockets whether Redis is up or not. */
function newClusterBroker(config: Config, redisUrl: string, droneIds: readonly string[], logger: Logger): RedisBroker {
  return new RedisBroker({
    url: redisUrl,
    nodeId: config.nodeId ?? `${hostname()}-${process.pid}`,
    droneIds,
    ownerLeaseSeconds: config.ownerLeaseSeconds,
    replayFrames: Math.max(1, Math.round(config.telemetryHz * config.replaySeconds)),
    logger,
  });
}

/** Each vehicle's gauges as the fleet sees it now, for a scrape. */
function vehicleGauges(flight: FlightService): VehicleGauges[] {
  return flight.fleet.ids.map((id) => {
    const vehicle = flight.fleet.vehicle(id);
    const { state, battery } = vehicle.state();
    return { id, kind: vehicle.kind, state, battery, linkUp: vehicle.linkUp, pilotPresent: flight.fleet.pilotOf(id) !== null };
  });
}

/** The DNS-rebinding guard for plain HTTP: a 403 counted like a refused upgrade, or null when Host names this server. */
function rebindingRefusal(request: Request, config: Config, metrics: Metrics): Response | null {
  const host = request.headers.get("host");
  if (hostAllowed(host, config.hostname, config.allowedHosts)) return null;
  metrics.refuseUpgrade("host");
  return textResponse(403, hostRefusalMessage(host!));
}

/** What an upgrade route reads and counts. */
interface UpgradeServices {
  config: Config;
  admission: ConnectionLimiter;
  authBackoff: AuthBackoff;
  metrics: Metrics;
  flight: FlightService;
  draining(): boolean;
  /** Verifies a carried JWT before the decision; null when the server accepts none. */
  verifier: TokenVerifier | null;
}

/**
 * The GET handler of one WebSocket path: the pure decision, then Bun's
 * upgrade; every refusal is counted under its reason.
 */
function upgradeRoute(endpoint: Endpoint, { config, admission, authBackoff, metrics, flight, draining, verifier }: UpgradeServices) {
  const refused = ({ refuse, reason, authReason }: UpgradeRefusal): Response => {
    metrics.refuseUpgrade(reason);
    if (authReason !== undefined) metrics.countAuthFailure(authReason);
    return refuse;
  };
  const decide = (request: Request, server: Server<SocketData>, tokenVerdict: Verdict | undefined): Response | undefined => {
    const decision = decideUpgrade(request, endpoint, {
      config,
      admission,
      draining: draining(),
      fleet: flight.fleet,
      peer: server.requestIP(request),
      nowMs: flight.nowMs(),
      authBackoff,
      ...(tokenVerdict === undefined ? {} : { tokenVerdict }),
    });
    if ("refuse" in decision) return refused(decision);
    if (server.upgrade(request, decision)) return undefined;
    admission.release(decision.data.address);
    return refused(upgradeFailed());
  };
  return (request: Request, server: Server<SocketData>): Response | undefined | Promise<Response | undefined> => {
    const token = verifier === null || endpoint === "echo" ? null : carriedToken(request, endpoint);
    // An address that must wait is refused (429) without the cost of a signature check.
    if (token === null || authBackoff.waitMs(clientAddress(request.headers.get("x-forwarded-for"), server.requestIP(request)?.address ?? null, config.trustProxy), flight.nowMs()) > 0) {
      return decide(request, server, undefined);
    }
    // A JWT is verified (asynchronously) before the decision, which stays pure.
    return verifier!.verify(token).then((verdict) => decide(request, server, verdict));
  };
}

/** The token an upgrade request carries: in `Sec-WebSocket-Protocol`, or (`/api/controller`) `Authorization: Bearer`. */
function carriedToken(request: Request, endpoint: Endpoint): string | null {
  const token = parseOfferedProtocols(request.headers.get("sec-websocket-protocol")).token;
  return token ?? (endpoint === "controller" ? bearerToken(request.headers.get("authorization")) : null);
}

/** What the per-socket handlers share with the rest of the server. */
interface SocketServices {
  connections: ConnectionRegistry;
  admission: ConnectionLimiter;
  authBackoff: AuthBackoff;
  metrics: Metrics;
  flight: FlightService;
  /** The `/drone` and `/api/controller` sessions: registered on open, backpressure on drain. */
  sessions: SessionRegistry;
  /** The injected clocks, if any: the `/drone` endpoint answers pings on them. */
  clocks: Clocks | undefined;
  /** Verifies JWTs in `hello`; null when the server accepts none. */
  verifier: TokenVerifier | null;
}

/** Bun's per-socket handlers: each message goes to its endpoint; open and close are booked here. */
function socketHandlers(config: Config, { connections, admission, authBackoff, metrics, flight, sessions, clocks, verifier }: SocketServices): WebSocketHandler<SocketData> {
  const drone = new DroneEndpoint(flight, config, metrics, clocks, authBackoff, verifier);
  const controller = new ControllerEndpoint(flight, config, metrics);
  // Bun has one payload limit per server; the smaller per-endpoint limits are checked by hand.
  const maxPayloadLength = Math.max(config.echoMaxBytes, config.droneMaxBytes);
  const echo = echoHandler({ maxBytes: config.echoMaxBytes, serverMaxBytes: maxPayloadLength, perAddressPerSecond: config.echoMessagesPerSecond, compress: config.compression === "all" });
  const echoBudgets = config.echoMessagesPerSecond > 0 ? new SharedBuckets(config.echoMessagesPerSecond) : null;
  return {
    maxPayloadLength,
    idleTimeout: config.idleTimeoutSeconds,
    sendPings: true,
    backpressureLimit: Math.max(minimumBackpressureLimitBytes, config.slowConsumerBytes * 4),
    closeOnBackpressureLimit: false,
    // One setting per server (as maxPayloadLength): negotiated on every endpoint; each chooses per send whether to compress.
    // Shared: one compressor for all sockets, no per-socket window memory (config.ts `compressionModes`).
    perMessageDeflate: config.compression !== "off",
    open(ws: Socket) {
      if (ws.data.endpoint === "echo") {
        if (echoBudgets) ws.data.echoBudget = echoBudgets.open(addressKey(ws.data.address));
        markEchoSocket(ws);
      }
      connections.opened(ws);
      if (ws.data.session && !sessions.register(ws)) return;
      if (ws.data.endpoint === "drone") drone.open(ws);
    },
    message(ws: Socket, message) {
      // `/echo` first, its data an own property of the socket (echo.ts `markEchoSocket`): millions of messages a second.
      const echoData = echoDataOf(ws);
      if (echoData !== undefined) {
        echoData.messagesIn++;
        return echo(ws, message, echoData);
      }
      // `ws.data` is a native getter: read it once.
      const data = ws.data;
      data.messagesIn++;
      if (data.session !== null) SessionRegistry.heard(data.session);
      const endpoint = data.endpoint;
      if (endpoint === "drone") drone.message(ws, message);
      else if (endpoint === "controller") controller.message(ws, message);
      // An `/echo` socket whose `open` did not get as far as marking it is still an echo.
      else echo(ws, message, data);
    },
    pong(ws: Socket) {
      // A pong to the registry's ping is a pilot's liveness (sessions/registry.ts).
      const session = ws.data.session;
      if (session !== null) SessionRegistry.heard(session);
    },
    drain(ws: Socket) {
      if (ws.data.session) sessions.drained(ws);
    },
    close(ws: Socket, code, reason) {
      if (ws.data.session) sessions.unregister(ws);
      admission.release(ws.data.address);
      if (ws.data.echoBudget) {
        chargeEchoRemainder(ws.data, config.echoMessagesPerSecond, performance.now());
        echoBudgets?.close(addressKey(ws.data.address));
      }
      const { messagesIn, messagesOut, bytesIn, bytesOut } = ws.data;
      metrics.addClosedTraffic(endpointPaths[ws.data.endpoint], { messagesIn, messagesOut, bytesIn, bytesOut });
      connections.closed(ws, code, reason);
    },
  };
}

/** Whole seconds from `startMs` (a `performance.now()` reading) to now. */
function secondsSince(startMs: number): number {
  return Math.round((performance.now() - startMs) / 1000);
}
