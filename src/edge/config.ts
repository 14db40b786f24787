/**
 * Server configuration: defaults, a TOML file, command-line flags and
 * environment variables.
 *
 * Owns parsing and validating every knob, and the usage text generated from
 * the same table, so help and behaviour cannot drift apart. It reads the argv
 * and env it is given, never `process` itself, reads the `--config` file
 * through the reader it is given, and never starts anything.
 * Precedence: flag > environment variable > config file > default.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isValidDroneId } from "../../protocol/index.ts";
import { hostNameOf, isSubprotocolSafe, normalizeOrigin, type AllowedHosts, type AllowedOrigins } from "./security.ts";
import { defaultGcsSystemId, defaultVehicleSettings, type MavlinkVehicleSpec } from "../runtime/mavlink/links.ts";
import { parseMavlinkUrl } from "../runtime/mavlink/url.ts";
import { insideBoundary } from "../core/drone/boundary.ts";
import { geoPositionProblem, type GeoPosition, type LatLon } from "../core/vehicle/geodesy.ts";
import { boundaryFromHome, parseGeofencePolygon } from "../core/vehicle/geofence-polygon.ts";
import { defaultSimulatedHome } from "../core/vehicle/simulated.ts";
import { defaultMapTilesUrl, mapTilesUrlProblem } from "./map-tiles.ts";
import { missionFailsafes, type MissionFailsafe } from "../core/mission/mission.ts";

/** Everything the server needs to know to start. */
export interface Config {
  /** Interface to listen on. */
  hostname: string;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Largest message `/echo` accepts, in bytes; larger closes with 1009. */
  echoMaxBytes: number;
  /** Messages per second all `/echo` sockets of one address may send together (burst the same); more closes with 1008; 0 for no budget. */
  echoMessagesPerSecond: number;
  /** Ids of the simulated drones, in order; the first is the default drone. */
  drones: string[];
  /** Where the simulated drones' home is on Earth: their x/y/z metres are placed from it. */
  home: GeoPosition;
  /** The file `--geofence-polygon` names, or null. */
  geofencePolygonFile: string | null;
  /** The polygon every vehicle must stay inside as well as the radius (read from `geofencePolygonFile`), or null. */
  geofencePolygon: LatLon[] | null;
  /** Telemetry frames per second per drone (also the simulation step rate). */
  telemetryHz: number;
  /** Seconds of telemetry each drone keeps for resume with `since`. */
  replaySeconds: number;
  /** Seconds a flying drone without a pilot hovers before it returns home. */
  failsafeSeconds: number;
  /** Seconds without a frame (message or pong) from a pilot's session before it loses its leases. */
  pilotTimeoutSeconds: number;
  /** Seconds a lost pilot's lease stays reserved for it to reclaim with its resume token (0: no reservation). */
  leaseGraceSeconds: number;
  /** What losing the pilot does to a mission that runs: fly on, hold (then return), or return home at once. */
  missionFailsafe: MissionFailsafe;
  /** Browser origins allowed to open WebSockets besides the server's own, or `*` for any. */
  allowedOrigins: AllowedOrigins;
  /** `Host` names that may reach the server besides loopback names, IP literals and the bound name, or `*` for any (DNS rebinding guard). */
  allowedHosts: AllowedHosts;
  /** Token `claim` must carry, or null when anyone may fly. */
  pilotToken: string | null;
  /** Token a `/drone` client must present before anything else, or null when anyone may watch. */
  viewerToken: string | null;
  /** HS256 secret JWTs may be signed with (`--jwt-secret`), or null. */
  jwtSecret: string | null;
  /** File of public keys (PEM or JWKS) JWTs may be signed with (`--jwt-keys`, reloaded on SIGHUP), or null. */
  jwtKeysFile: string | null;
  /** The `iss` every JWT must carry, or null for any. */
  jwtIssuer: string | null;
  /** The `aud` every JWT must name, or null for any. */
  jwtAudience: string | null;
  /** Open WebSocket connections in total; more get 503 before the upgrade. */
  maxConnections: number;
  /** Take the client's address from X-Forwarded-For's last hop (for limits and logs): only behind a proxy that sets it. */
  trustProxy: boolean;
  /** Open WebSocket connections per remote address (an IPv6 /64 counts as one); more get 429 before the upgrade. */
  maxConnectionsPerIp: number;
  /** Largest message `/drone` and `/api/controller` accept, bytes; larger closes with 1009. */
  droneMaxBytes: number;
  /** Messages a `/drone` socket may send per second (burst of the same size). */
  commandsPerSecond: number;
  /** Drones one socket may subscribe to at once. */
  maxSubscriptions: number;
  /** Seconds without traffic before Bun pings, then closes, a connection (0 disables). */
  idleTimeoutSeconds: number;
  /** Unsent bytes queued for a socket above which it stops receiving telemetry. */
  slowConsumerBytes: number;
  /** Seconds a socket may stay over `slowConsumerBytes` before it is closed. */
  stallSeconds: number;
  /** permessage-deflate: negotiated with clients that offer it, and which endpoints compress what they send (`compressionModes`). */
  compression: CompressionMode;
  /** Redis to share drones, telemetry and leases with other nodes (`redis://host:port`), or null to run alone. */
  redisUrl: string | null;
  /** Name of this node in the cluster, or null for `<hostname>-<pid>`. */
  nodeId: string | null;
  /** Seconds a node's claim on a drone lasts unless renewed: how soon another node takes over a dead node's drones. */
  ownerLeaseSeconds: number;
  /** Server processes sharing the port (`reusePort`); more than 1 needs Redis. */
  workers: number;
  /** MAVLink vehicles flown beside the simulated drones (`--mavlink NAME=URL`, repeatable). */
  mavlink: MavlinkVehicleSpec[];
  /** skyport's own MAVLink system id as a ground station (what the autopilot's SYSID_MYGCS must name). */
  gcsSystemId: number;
  /** Whether the flight recorder keeps flights, frames, commands and events (docs/recorder.md). */
  record: boolean;
  /** Directory of the recorder's SQLite database. */
  dataDir: string;
  /** PostgreSQL for the recorder instead of SQLite (`postgres://...`): one database a cluster's nodes share; null for SQLite. */
  databaseUrl: string | null;
  /** Frames recorded per second per flying vehicle, or null for every frame (the telemetry rate). */
  recordHz: number | null;
  /** Days a finished flight is kept before the background sweep deletes it. */
  retentionDays: number;
  /** Largest the recorder's database may grow, bytes: past it the oldest flights are deleted first; 0 for no cap. */
  recordMaxBytes: number;
  /** PEM certificate chain file for https:// and wss://, or null for plain http (issue 17). */
  tlsCertFile: string | null;
  /** PEM private key file of `tlsCertFile`, or null. */
  tlsKeyFile: string | null;
  /** The dashboard map's raster tiles, a URL template (`--map-tiles`). */
  mapTilesUrl: string;
  /** The tiles' attribution (`--map-attribution`), or null for the default tiles' own (none for other tiles). */
  mapAttribution: string | null;
}

/**
 * The `--compression` modes. Bun negotiates permessage-deflate per server,
 * not per route, so any socket whose client offers it gets it unless `off`.
 * Bun deflates each message once per compressing socket (2.2-2.7x the CPU
 * per delivery, docs/benchmarks.md), so by default (`throttled`) `/drone`
 * compresses what it sends one socket at a time (replies, and the frames of
 * `maxHz` subscriptions: the slow links) but not what it publishes to every
 * viewer (full-rate telemetry, leases, events); `drone` compresses that too;
 * `all` also `/echo`'s replies, which are never compressed otherwise.
 */
export const compressionModes = ["throttled", "drone", "all", "off"] as const;
export type CompressionMode = (typeof compressionModes)[number];

/** Sixteen mebibytes, the echo endpoint's default message limit. */
const sixteenMebibytes = 16 * 1024 * 1024;

export const defaultConfig: Readonly<Config> = Object.freeze({
  hostname: "localhost",
  port: 8080,
  echoMaxBytes: sixteenMebibytes,
  echoMessagesPerSecond: 10_000,
  drones: ["alpha"],
  home: defaultSimulatedHome,
  geofencePolygonFile: null,
  geofencePolygon: null,
  telemetryHz: 10,
  replaySeconds: 60,
  failsafeSeconds: 10,
  // ArduPilot's ground-station failsafe (FS_GCS_TIMEOUT) is 5 s.
  pilotTimeoutSeconds: 5,
  // Long enough for a link blip and the SDK's first reconnect (0.5 s backoff), short enough that nobody waits long.
  leaseGraceSeconds: 3,
  missionFailsafe: "continue",
  allowedOrigins: new Set<string>(),
  allowedHosts: new Set<string>(),
  pilotToken: null,
  viewerToken: null,
  jwtSecret: null,
  jwtKeysFile: null,
  jwtIssuer: null,
  jwtAudience: null,
  maxConnections: 10_000,
  maxConnectionsPerIp: 100,
  trustProxy: false,
  droneMaxBytes: 64 * 1024,
  commandsPerSecond: 50,
  maxSubscriptions: 1000,
  idleTimeoutSeconds: 120,
  slowConsumerBytes: 1024 * 1024,
  stallSeconds: 30,
  compression: "throttled",
  redisUrl: null,
  nodeId: null,
  ownerLeaseSeconds: 3,
  workers: 1,
  mavlink: [],
  gcsSystemId: defaultGcsSystemId,
  record: true,
  dataDir: "./data",
  databaseUrl: null,
  recordHz: null,
  retentionDays: 30,
  recordMaxBytes: 0,
  tlsCertFile: null,
  tlsKeyFile: null,
  mapTilesUrl: defaultMapTilesUrl,
  mapAttribution: null,
});

/** Most worker processes `--workers` starts. */
const maxWorkers = 64;

/** Longest `--node-id`; a worker's id appends `-w<index>` within the same limit (src/edge/workers.ts). */
export const maxNodeIdLength = 64;

/** Shortest `--jwt-secret`, bytes: an HS256 key at least as long as its hash (RFC 7518 section 3.2). */
export const minJwtSecretBytes = 32;

/** Exit code for bad flags or environment, as getopt-style tools use. */
export const exitUsage = 2;

/** Upper bounds that keep a typo from turning into a runaway server. */
const maxDrones = 1000;
/** Longest map attribution, characters: a licence line with a link or two. */
const maxMapAttributionChars = 500;
const maxTelemetryHz = 100;
const maxReplaySeconds = 3600;
/** Longest pilot timeout, seconds: past a minute a silent pilot is a lost aircraft. */
const maxPilotTimeoutSeconds = 60;
/** Longest lease reservation, seconds: a reserved drone has no pilot and cannot be flown by anyone else. */
const maxLeaseGraceSeconds = 60;

/** A user mistake in flags or environment: the CLI prints it with the usage and exits 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Thrown for `--help`: not an error, the caller prints the usage and exits 0. */
export class HelpRequested extends Error {
  override name = "HelpRequested";
}

interface Setting {
  /** Flag name without dashes, if it can be given on the command line. */
  flag?: string;
  /** The flag takes no value (`--no-record`): given alone, it applies `true`. */
  switch?: true;
  /** Environment variable that sets it, if any. */
  env?: string;
  /** Placeholder for the value in the usage text. */
  valueName: string;
  help: string;
  apply(config: Config, raw: string, source: string): void;
}

/** A node id: letters, digits, `.`, `_` and `-`, at most `maxNodeIdLength` of them. */
const nodeIdPattern = new RegExp(`^[A-Za-z0-9._-]{1,${maxNodeIdLength}}$`);

/** The flag (and env) naming the TOML file; read before everything else, so it has no `apply`. */
const configFileFlag = "config";
const configFileEnv = "SKYPORT_CONFIG";

/** Every setting, in the order the usage text lists them. */
const settings: Setting[] = [
  {
    flag: configFileFlag,
    env: configFileEnv,
    valueName: "file.toml",
    help: "read settings from a TOML file: every flag is a key (telemetry-hz = 20), vehicles a list of tables; flags and env override it (default: none)",
    apply() {},
  },
  {
    flag: "addr",
    valueName: "host:port",
    help: `address to listen on (default ${defaultConfig.hostname}:${defaultConfig.port})`,
    apply(config, raw, source) {
      const { hostname, port } = parseAddr(raw, source);
      config.hostname = hostname;
      config.port = port;
    },
  },
  {
    env: "HOST",
    valueName: "host",
    help: "interface to listen on; --addr overrides it",
    apply(config, raw, source) {
      if (raw.trim() === "") throw new ConfigError(`${source} must be a host name or IP address: received an empty value`);
      config.hostname = raw.trim();
    },
  },
  {
    env: "PORT",
    valueName: "port",
    help: "port to listen on; --addr overrides it",
    apply(config, raw, source) {
      config.port = parseInteger(raw, source, 0, 65535);
    },
  },
  {
    flag: "echo-max-bytes",
    env: "SKYPORT_ECHO_MAX_BYTES",
    valueName: "bytes",
    help: `largest message /echo accepts; larger closes with 1009 (default ${sixteenMebibytes})`,
    apply(config, raw, source) {
      config.echoMaxBytes = parseInteger(raw, source, 1, 0xffffffff);
    },
  },
  {
    flag: "echo-messages-per-second",
    env: "SKYPORT_ECHO_MESSAGES_PER_SECOND",
    valueName: "n",
    help: `messages per second all /echo sockets of one address may send; more closes with 1008; 0 for no budget (default ${defaultConfig.echoMessagesPerSecond})`,
    apply(config, raw, source) {
      config.echoMessagesPerSecond = parseInteger(raw, source, 0, 100_000_000);
    },
  },
  {
    flag: "drones",
    env: "SKYPORT_DRONES",
    valueName: "id,id,...",
    help: `simulated drones; the first is the default (default ${defaultConfig.drones.join(",")})`,
    apply(config, raw, source) {
      config.drones = parseDroneIds(raw, source);
    },
  },
  {
    flag: "home",
    env: "SKYPORT_HOME",
    valueName: "lat,lon,alt",
    help: `the simulated drones' home: degrees latitude and longitude, metres above sea level (default ${defaultSimulatedHome.lat},${defaultSimulatedHome.lon},${defaultSimulatedHome.altitudeMsl}: the CMAC field near Canberra, ArduPilot SITL's home)`,
    apply(config, raw, source) {
      config.home = parseHome(raw, source);
    },
  },
  {
    flag: "geofence-polygon",
    env: "SKYPORT_GEOFENCE_POLYGON",
    valueName: "file",
    help: "a polygon every vehicle must stay inside, besides the 500 m radius and the ceiling: a GeoJSON Polygon (a geometry, Feature, or FeatureCollection holding one) or a QGroundControl .plan's inclusion fence; it must hold the simulated drones' home; goto, moves and every mission leg leaving it are refused (default: none)",
    apply(config, raw, source) {
      config.geofencePolygonFile = parsePath(raw, source);
    },
  },
  {
    flag: "mavlink",
    valueName: "name=url",
    help: "fly a MAVLink vehicle (ArduCopter) as drone NAME over URL: tcp:HOST:PORT, udpin:HOST:PORT or udpout:HOST:PORT, e.g. copter=tcp:127.0.0.1:5760; append ,sysid=N (default 1), ,takeoff-altitude=M (default 10) or ,fence=upload (give the autopilot --geofence-polygon on every link-up, so it holds the fence without skyport; default check: skyport checks its own targets only); repeatable (default: none)",
    apply(config, raw, source) {
      config.mavlink.push(parseMavlinkVehicle(raw, source, config.mavlink));
    },
  },
  {
    flag: "gcs-system-id",
    env: "SKYPORT_GCS_SYSTEM_ID",
    valueName: "n",
    help: `skyport's MAVLink system id as a ground station, 1 to 255: the autopilot's SYSID_MYGCS must name it for its GCS failsafe (default ${defaultGcsSystemId})`,
    apply(config, raw, source) {
      config.gcsSystemId = parseInteger(raw, source, 1, 255);
    },
  },
  // ---- map (issue 15): the dashboard map's tiles
  {
    flag: "map-tiles",
    env: "SKYPORT_MAP_TILES",
    valueName: "url",
    help: `the dashboard map's raster tiles, a URL template with {z} {x} {y} (and {s} for a subdomain); the page's CSP admits images from its origin (default ${defaultMapTilesUrl})`,
    apply(config, raw, source) {
      const url = raw.trim();
      const problem = mapTilesUrlProblem(url);
      if (problem !== null) throw new ConfigError(`${source} ${problem}`);
      config.mapTilesUrl = url;
    },
  },
  {
    flag: "map-attribution",
    env: "SKYPORT_MAP_ATTRIBUTION",
    valueName: "html",
    help: "the attribution the map's tiles need, shown in the map's corner (HTML: text and links) (default OpenStreetMap's)",
    apply(config, raw, source) {
      if (raw.length > maxMapAttributionChars) throw new ConfigError(`${source} must be at most ${maxMapAttributionChars} characters: received ${raw.length}`);
      config.mapAttribution = raw.trim();
    },
  },
  // ---- end map
  {
    flag: "telemetry-hz",
    env: "SKYPORT_TELEMETRY_HZ",
    valueName: "hz",
    help: `telemetry frames per second per drone, 1 to ${maxTelemetryHz} (default ${defaultConfig.telemetryHz})`,
    apply(config, raw, source) {
      config.telemetryHz = parseNumber(raw, source, 1, maxTelemetryHz);
    },
  },
  {
    flag: "replay-seconds",
    env: "SKYPORT_REPLAY_SECONDS",
    valueName: "seconds",
    help: `telemetry history kept per drone for resume with since (default ${defaultConfig.replaySeconds})`,
    apply(config, raw, source) {
      config.replaySeconds = parseNumber(raw, source, 1, maxReplaySeconds);
    },
  },
  {
    flag: "failsafe-seconds",
    env: "SKYPORT_FAILSAFE_SECONDS",
    valueName: "seconds",
    help: `a flying drone left without a pilot hovers this long, then returns home (default ${defaultConfig.failsafeSeconds})`,
    apply(config, raw, source) {
      config.failsafeSeconds = parseNumber(raw, source, 0.1, 3600);
    },
  },
  {
    flag: "pilot-timeout-seconds",
    env: "SKYPORT_PILOT_TIMEOUT_SECONDS",
    valueName: "seconds",
    help: `a pilot that sends nothing (no message, no pong to the server's ping) this long loses its lease (default ${defaultConfig.pilotTimeoutSeconds})`,
    apply(config, raw, source) {
      config.pilotTimeoutSeconds = parseInteger(raw, source, 1, maxPilotTimeoutSeconds);
    },
  },
  {
    flag: "lease-grace-seconds",
    env: "SKYPORT_LEASE_GRACE_SECONDS",
    valueName: "seconds",
    help: `a lost pilot's lease is reserved this long for it to reclaim with its resume token; 0 disables (default ${defaultConfig.leaseGraceSeconds})`,
    apply(config, raw, source) {
      config.leaseGraceSeconds = parseNumber(raw, source, 0, maxLeaseGraceSeconds);
    },
  },
  {
    flag: "mission-failsafe",
    env: "SKYPORT_MISSION_FAILSAFE",
    valueName: "continue|hold|rth",
    help: `what a vehicle flying its mission does when its pilot is lost: continue the mission (checked as a whole before it was accepted), hold then return as without one, or rth at once (default ${defaultConfig.missionFailsafe})`,
    apply(config, raw, source) {
      const value = raw.trim();
      if (!(missionFailsafes as readonly string[]).includes(value)) {
        throw new ConfigError(`${source} must be one of ${missionFailsafes.join(", ")}: received ${JSON.stringify(raw)}`);
      }
      config.missionFailsafe = value as MissionFailsafe;
    },
  },
  {
    flag: "allowed-origins",
    env: "SKYPORT_ALLOWED_ORIGINS",
    valueName: "origin,...",
    help: "browser origins that may connect besides this server's own, or * for any (default: own origin only)",
    apply(config, raw, source) {
      config.allowedOrigins = parseOrigins(raw, source);
    },
  },
  {
    flag: "allowed-hosts",
    env: "SKYPORT_ALLOWED_HOSTS",
    valueName: "host,...",
    help: "Host names this server answers to besides loopback, IP literals and --addr's; .example.com admits subdomains; * for any (default: none)",
    apply(config, raw, source) {
      config.allowedHosts = parseHosts(raw, source);
    },
  },
  {
    flag: "pilot-token",
    env: "SKYPORT_PILOT_TOKEN",
    valueName: "token",
    help: "claim must carry this token (prefer the env var: flags show in ps)",
    apply(config, raw, source) {
      config.pilotToken = parseToken(raw, source, false);
    },
  },
  {
    flag: "viewer-token",
    env: "SKYPORT_VIEWER_TOKEN",
    valueName: "token",
    help: "/drone clients must present this token (hello or subprotocol) before anything else",
    apply(config, raw, source) {
      config.viewerToken = parseToken(raw, source, true);
    },
  },
  // ---- identity (issue 14): signed tokens
  {
    flag: "jwt-secret",
    env: "SKYPORT_JWT_SECRET",
    valueName: "secret",
    help: `accept HS256 JWTs signed with this secret, at least ${minJwtSecretBytes} bytes (prefer the env var: flags show in ps)`,
    apply(config, raw, source) {
      const bytes = new TextEncoder().encode(raw).length;
      if (bytes < minJwtSecretBytes) throw new ConfigError(`${source} must be at least ${minJwtSecretBytes} bytes (256 bits, RFC 7518 3.2): received ${bytes}`);
      config.jwtSecret = raw;
    },
  },
  {
    flag: "jwt-keys",
    env: "SKYPORT_JWT_KEYS",
    valueName: "file",
    help: "accept RS256/ES256/EdDSA JWTs signed by the public keys in this PEM or JWKS file; reloaded on SIGHUP",
    apply(config, raw, source) {
      if (raw.trim() === "") throw new ConfigError(`${source} must name a PEM or JWKS file: received an empty value`);
      config.jwtKeysFile = raw.trim();
    },
  },
  {
    flag: "jwt-issuer",
    env: "SKYPORT_JWT_ISSUER",
    valueName: "iss",
    help: "JWTs must carry this iss claim",
    apply(config, raw, source) {
      if (raw.trim() === "") throw new ConfigError(`${source} must not be empty`);
      config.jwtIssuer = raw.trim();
    },
  },
  {
    flag: "jwt-audience",
    env: "SKYPORT_JWT_AUDIENCE",
    valueName: "aud",
    help: "JWTs must name this audience in their aud claim",
    apply(config, raw, source) {
      if (raw.trim() === "") throw new ConfigError(`${source} must not be empty`);
      config.jwtAudience = raw.trim();
    },
  },
  // ---- end identity
  {
    flag: "max-connections",
    env: "SKYPORT_MAX_CONNECTIONS",
    valueName: "n",
    help: `open WebSocket connections in total; more get 503 (default ${defaultConfig.maxConnections})`,
    apply(config, raw, source) {
      config.maxConnections = parseInteger(raw, source, 1, 1_000_000);
    },
  },
  {
    flag: "max-connections-per-ip",
    env: "SKYPORT_MAX_CONNECTIONS_PER_IP",
    valueName: "n",
    help: `open WebSocket connections per remote address; more get 429 (default ${defaultConfig.maxConnectionsPerIp})`,
    apply(config, raw, source) {
      config.maxConnectionsPerIp = parseInteger(raw, source, 1, 1_000_000);
    },
  },
  {
    flag: "trust-proxy",
    env: "SKYPORT_TRUST_PROXY",
    valueName: "true|false",
    help: "behind a reverse proxy: the client's address for limits and logs is X-Forwarded-For's last hop, and the Origin check uses X-Forwarded-Host (default false)",
    apply(config, raw, source) {
      config.trustProxy = parseBoolean(raw, source);
    },
  },
  {
    flag: "drone-max-bytes",
    env: "SKYPORT_DRONE_MAX_BYTES",
    valueName: "bytes",
    help: `largest message /drone accepts; larger closes with 1009 (default ${defaultConfig.droneMaxBytes})`,
    apply(config, raw, source) {
      config.droneMaxBytes = parseInteger(raw, source, 256, sixteenMebibytes);
    },
  },
  {
    flag: "commands-per-second",
    env: "SKYPORT_COMMANDS_PER_SECOND",
    valueName: "n",
    help: `messages a /drone socket may send per second (default ${defaultConfig.commandsPerSecond})`,
    apply(config, raw, source) {
      config.commandsPerSecond = parseNumber(raw, source, 1, 100_000);
    },
  },
  {
    flag: "max-subscriptions",
    env: "SKYPORT_MAX_SUBSCRIPTIONS",
    valueName: "n",
    help: `drones one socket may watch at once (default ${defaultConfig.maxSubscriptions})`,
    apply(config, raw, source) {
      config.maxSubscriptions = parseInteger(raw, source, 1, maxDrones);
    },
  },
  {
    flag: "idle-timeout",
    env: "SKYPORT_IDLE_TIMEOUT",
    valueName: "seconds",
    help: `silent connections are pinged, then closed, after this long; 0 disables (default ${defaultConfig.idleTimeoutSeconds})`,
    apply(config, raw, source) {
      config.idleTimeoutSeconds = parseInteger(raw, source, 0, 960);
    },
  },
  {
    flag: "slow-consumer-bytes",
    env: "SKYPORT_SLOW_CONSUMER_BYTES",
    valueName: "bytes",
    help: `unsent bytes above which a socket stops getting telemetry (default ${defaultConfig.slowConsumerBytes})`,
    apply(config, raw, source) {
      config.slowConsumerBytes = parseInteger(raw, source, 1024, sixteenMebibytes);
    },
  },
  {
    flag: "stall-seconds",
    env: "SKYPORT_STALL_SECONDS",
    valueName: "seconds",
    help: `a socket over --slow-consumer-bytes this long is closed with 1008 (default ${defaultConfig.stallSeconds})`,
    apply(config, raw, source) {
      config.stallSeconds = parseNumber(raw, source, 1, 3600);
    },
  },
  {
    flag: "compression",
    env: "SKYPORT_COMPRESSION",
    valueName: "mode",
    help: `permessage-deflate for clients that offer it: throttled (/drone compresses its replies and maxHz subscriptions' frames, not full-rate telemetry, which would cost 2.2-2.7x the CPU per delivery), drone (all it sends), all (/echo's replies too; otherwise /echo negotiates it, as Bun has one setting per server, but replies uncompressed), or off (never negotiated) (default ${defaultConfig.compression})`,
    apply(config, raw, source) {
      const value = raw.trim();
      if (!(compressionModes as readonly string[]).includes(value)) {
        throw new ConfigError(`${source} must be one of ${compressionModes.join(", ")}: received ${JSON.stringify(raw)}`);
      }
      config.compression = value as CompressionMode;
    },
  },
  {
    flag: "redis",
    env: "REDIS_URL",
    valueName: "url",
    help: "share drones, telemetry and leases with other nodes through this Redis, e.g. redis://127.0.0.1:6379 (default: none, one process alone)",
    apply(config, raw, source) {
      config.redisUrl = parseRedisUrl(raw, source);
    },
  },
  {
    flag: "node-id",
    env: "SKYPORT_NODE_ID",
    valueName: "name",
    help: "this node's name in the cluster, unique per process (default <hostname>-<pid>)",
    apply(config, raw, source) {
      if (!nodeIdPattern.test(raw)) {
        throw new ConfigError(`${source} must be 1 to ${maxNodeIdLength} letters, digits, . _ or -: received ${JSON.stringify(raw)}`);
      }
      config.nodeId = raw;
    },
  },
  {
    flag: "owner-lease-seconds",
    env: "SKYPORT_OWNER_LEASE_SECONDS",
    valueName: "seconds",
    help: `with --redis, how long a node's claim on a drone lasts unless renewed: a dead node's drones move within it (default ${defaultConfig.ownerLeaseSeconds})`,
    apply(config, raw, source) {
      config.ownerLeaseSeconds = parseNumber(raw, source, 1, 60);
    },
  },
  {
    flag: "workers",
    env: "SKYPORT_WORKERS",
    valueName: "n",
    help: `server processes sharing the port (Linux reusePort); more than 1 needs --redis (default ${defaultConfig.workers})`,
    apply(config, raw, source) {
      config.workers = parseInteger(raw, source, 1, maxWorkers);
    },
  },
  // The flight recorder (docs/recorder.md).
  {
    flag: "no-record",
    switch: true,
    env: "SKYPORT_NO_RECORD",
    valueName: "",
    help: "do not record flights, frames, commands or events (recording is on by default; the variable takes true|false)",
    apply(config, raw, source) {
      config.record = !parseBoolean(raw, source);
    },
  },
  {
    flag: "data-dir",
    env: "SKYPORT_DATA_DIR",
    valueName: "dir",
    help: `directory of the flight recorder's SQLite database, created if missing (default ${defaultConfig.dataDir})`,
    apply(config, raw, source) {
      if (raw.trim() === "") throw new ConfigError(`${source} must name a directory: received an empty value`);
      config.dataDir = raw.trim();
    },
  },
  {
    flag: "database",
    env: "DATABASE_URL",
    valueName: "url",
    help: "record into PostgreSQL (postgres://user:password@host:5432/db) instead of SQLite in --data-dir; a cluster (--redis) records only with one",
    apply(config, raw, source) {
      config.databaseUrl = parseDatabaseUrl(raw, source);
    },
  },
  {
    flag: "record-hz",
    env: "SKYPORT_RECORD_HZ",
    valueName: "hz",
    help: "frames recorded per second per flying drone, at most the telemetry rate; 1 a second on the ground (default: every frame)",
    apply(config, raw, source) {
      config.recordHz = parseNumber(raw, source, 0.1, maxTelemetryHz);
    },
  },
  {
    flag: "retention-days",
    env: "SKYPORT_RETENTION_DAYS",
    valueName: "days",
    help: `days a finished flight is kept before it is deleted in the background (default ${defaultConfig.retentionDays})`,
    apply(config, raw, source) {
      config.retentionDays = parseNumber(raw, source, 0.001, 36_500);
    },
  },
  {
    flag: "record-max-bytes",
    env: "SKYPORT_RECORD_MAX_BYTES",
    valueName: "bytes",
    help: "largest the recorder's database may grow; past it the oldest flights are deleted first; 0 for no cap (default 0)",
    apply(config, raw, source) {
      config.recordMaxBytes = parseInteger(raw, source, 0, Number.MAX_SAFE_INTEGER);
    },
  },
  // Issue 17 (packaging): TLS.
  {
    flag: "tls-cert",
    env: "SKYPORT_TLS_CERT",
    valueName: "file.pem",
    help: "serve https:// and wss:// with this PEM certificate chain (with --tls-key); SIGHUP reloads both files (default: plain http)",
    apply(config, raw, source) {
      config.tlsCertFile = parsePath(raw, source);
    },
  },
  {
    flag: "tls-key",
    env: "SKYPORT_TLS_KEY",
    valueName: "file.pem",
    help: "the PEM private key of --tls-cert",
    apply(config, raw, source) {
      config.tlsKeyFile = parsePath(raw, source);
    },
  },
];

/** A file path from a flag or variable: any non-empty text (the server reads the file at start). */
function parsePath(raw: string, source: string): string {
  if (raw.trim() === "") throw new ConfigError(`${source} must be a file path: received an empty value`);
  return raw.trim();
}

/**
 * Builds the configuration from command-line arguments (without the program
 * name) and an environment. Throws ConfigError for anything invalid and
 * HelpRequested for `--help`/`-h`.
 */
export function parseConfig(argv: readonly string[], env: Record<string, string | undefined> = {}, readFile: (path: string) => string = readTextFile): Config {
  const config: Config = { ...defaultConfig, drones: [...defaultConfig.drones], allowedOrigins: new Set<string>(), allowedHosts: new Set<string>(), mavlink: [] };
  const given = flagValuesIn(argv);
  const file = given.get(configFileFlag)?.at(-1) ?? env[configFileEnv];
  if (file !== undefined) applyConfigFile(config, file, readFile);
  // A --mavlink flag replaces the file's vehicles rather than adding to them, as every flag overrides its key.
  if (given.has("mavlink")) config.mavlink = [];
  for (const setting of settings) {
    const value = setting.env ? env[setting.env] : undefined;
    if (setting.env && value !== undefined) setting.apply(config, value, setting.env);
  }
  for (const { setting, raw, source } of flagsIn(argv)) setting.apply(config, raw, source);
  if (config.geofencePolygonFile !== null) config.geofencePolygon = readGeofencePolygon(config, config.geofencePolygonFile, readFile);
  const uploads = config.mavlink.find((vehicle) => vehicle.uploadFence);
  if (uploads !== undefined && config.geofencePolygon === null) throw new ConfigError(`--mavlink ${uploads.name}: fence=upload needs --geofence-polygon: there is no polygon to give the autopilot`);
  const clash = config.mavlink.find((vehicle) => config.drones.includes(vehicle.name));
  if (clash) throw new ConfigError(`--mavlink names ${JSON.stringify(clash.name)}, already a simulated drone in --drones: drone ids must be unique`);
  if (config.workers > 1 && config.redisUrl === null) {
    throw new ConfigError(`--workers ${config.workers} needs --redis: without a shared broker each worker would fly a fleet of its own`);
  }
  if ((config.tlsCertFile === null) !== (config.tlsKeyFile === null)) {
    const [given, missing] = config.tlsCertFile === null ? ["--tls-key", "--tls-cert"] : ["--tls-cert", "--tls-key"];
    throw new ConfigError(`${given} needs ${missing} too: TLS takes a certificate and its private key: received only ${given}`);
  }
  return config;
}

/** The polygon in `path`, checked to be usable and to hold the simulated drones' home. */
function readGeofencePolygon(config: Config, path: string, readFile: (path: string) => string): LatLon[] {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    throw new ConfigError(`--geofence-polygon ${path}: cannot read it (${error instanceof Error ? error.message : String(error)})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`--geofence-polygon ${path}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = parseGeofencePolygon(document);
  if (!parsed.ok) throw new ConfigError(`--geofence-polygon ${path}: ${parsed.message}`);
  if (config.drones.length > 0 && !insideBoundary(boundaryFromHome(config.home, parsed.corners), { x: 0, y: 0 })) {
    const { lat, lon } = config.home;
    throw new ConfigError(`--geofence-polygon ${path}: the simulated drones' home (--home ${lat},${lon}) is outside the polygon: a drone must take off and come back inside it`);
  }
  return parsed.corners;
}

function readTextFile(path: string): string {
  return readFileSync(path, "utf8");
}

/**
 * Applies a TOML file: each key is a flag's name (`telemetry-hz = 20`,
 * `drones = ["alpha", "bravo"]`, `trust-proxy = true`), checked by the same
 * code as the flag; `vehicles` is a list of tables (`[[vehicles]]` with
 * `name`, `url` and optional `sysid`, `takeoff-altitude`). Unknown keys and
 * wrong types are refused naming the file and the key.
 */
function applyConfigFile(config: Config, path: string, readFile: (path: string) => string): void {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    throw new ConfigError(`--config ${path}: cannot read the file: ${(error as Error).message}`);
  }
  let table: Record<string, unknown>;
  try {
    table = Bun.TOML.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`--config ${path}: not valid TOML: ${(error as Error).message}`);
  }
  for (const [key, value] of Object.entries(table)) {
    const source = `${path}: ${key}`;
    if (key === "vehicles") {
      applyVehicleTables(config, value, source);
      continue;
    }
    const setting = settingsByFlag.get(key);
    if (setting === undefined || key === configFileFlag) {
      throw new ConfigError(`${source}: unknown key: keys are the flag names without dashes (telemetry-hz, drones, mavlink...) and vehicles`);
    }
    const values = key === "mavlink" && Array.isArray(value) ? value.map((item) => tomlScalar(item, source)) : [tomlValue(value, source)];
    for (const raw of values) setting.apply(config, raw, source);
  }
}

/** `[[vehicles]]` tables: each one `--mavlink NAME=URL[,sysid=N][,takeoff-altitude=M]`. */
function applyVehicleTables(config: Config, value: unknown, source: string): void {
  if (!Array.isArray(value)) throw new ConfigError(`${source}: must be a list of tables, [[vehicles]] with name and url`);
  value.forEach((entry, index) => {
    const where = `${source}[${index}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new ConfigError(`${where}: must be a table with name and url`);
    const { name, url, ...options } = entry as Record<string, unknown>;
    if (typeof name !== "string" || typeof url !== "string") throw new ConfigError(`${where}: needs name and url strings, e.g. name = "copter", url = "tcp:127.0.0.1:5760"`);
    const extra = Object.entries(options).map(([option, setting]) => `,${option}=${tomlScalar(setting, `${where}.${option}`)}`);
    config.mavlink.push(parseMavlinkVehicle(`${name}=${url}${extra.join("")}`, where, config.mavlink));
  });
}

/** A TOML value as the flag's text: scalars as written, a list of scalars joined with commas. */
function tomlValue(value: unknown, source: string): string {
  if (Array.isArray(value)) return value.map((item) => tomlScalar(item, source)).join(",");
  return tomlScalar(value, source);
}

function tomlScalar(value: unknown, source: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new ConfigError(`${source}: must be a string, number, boolean or a list of them: received ${Array.isArray(value) ? "a nested list" : typeof value === "object" && value !== null ? "a table" : typeof value}`);
}

/** The settings that have a flag, by flag name. */
const settingsByFlag = new Map(settings.flatMap((setting) => (setting.flag ? [[setting.flag, setting] as const] : [])));

/** The flag table `util.parseArgs` reads, derived from the settings table. */
const parseArgsOptions = {
  ...Object.fromEntries([...settingsByFlag].map(([flag, setting]) => [flag, { type: setting.switch ? ("boolean" as const) : ("string" as const) }])),
  help: { type: "boolean" as const, short: "h" },
};

/** The values each well-formed flag in argv was given, by flag name, without checking anything: the pass that finds `--config` first. */
function flagValuesIn(argv: readonly string[]): Map<string, string[]> {
  const { tokens } = parseArgs({ args: [...argv], options: parseArgsOptions, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<string, string[]>();
  for (const token of tokens) {
    if (token.kind === "option" && typeof token.value === "string") values.set(token.name, [...(values.get(token.name) ?? []), token.value]);
  }
  return values;
}

/**
 * The flags in argv, in order, each with its setting and raw value; lazily,
 * so the first mistake in argv is the one reported. Parsed by
 * `util.parseArgs` in its lenient mode so that every mistake gets skyport's
 * own message (one line naming the flag and what it expects).
 * @throws HelpRequested for `--help` or `-h`; ConfigError for anything that is not a known flag with a value.
 */
function* flagsIn(argv: readonly string[]): Generator<{ setting: Setting; raw: string; source: string }> {
  const { tokens } = parseArgs({ args: [...argv], options: parseArgsOptions, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === "option-terminator") throw new ConfigError("unknown flag --");
    if (token.kind === "positional" || !token.rawName.startsWith("--")) {
      if (token.kind === "option" && token.name === "help") throw new HelpRequested();
      throw new ConfigError(`unexpected argument ${JSON.stringify(argv[token.index])}: flags start with --`);
    }
    if (token.name === "help") throw new HelpRequested();
    const setting = settingsByFlag.get(token.name);
    if (!setting) throw new ConfigError(`unknown flag --${token.name}`);
    if (setting.switch && token.value === undefined) {
      yield { setting, raw: "true", source: `--${token.name}` };
      continue;
    }
    if (typeof token.value !== "string") throw new ConfigError(`--${token.name} needs a value: --${token.name} ${setting.valueName}`);
    yield { setting, raw: token.value, source: `--${token.name}` };
  }
}

/** The usage text, generated from the settings table. */
export function usage(): string {
  const flagLines = settings
    .filter((s) => s.flag)
    .map((s) => row(s.switch ? `--${s.flag}` : `--${s.flag} ${s.valueName}`, s.help + (s.env ? ` [env ${s.env}]` : "")));
  const envLines = settings.filter((s) => s.env && !s.flag).map((s) => row(s.env!, s.help));
  return [
    "usage: skyport serve [flags]",
    "   or: bun run server.ts [flags]",
    "",
    "flags:",
    ...flagLines,
    row("--help", "print this help and exit"),
    "",
    "environment:",
    ...envLines,
  ].join("\n");
}

function row(left: string, right: string): string {
  return `  ${left.padEnd(28)} ${right}`;
}

/** Parses `host:port`, `[v6addr]:port` or `:port` (all interfaces). */
export function parseAddr(raw: string, source: string): { hostname: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]*)):(\d+)$/.exec(raw);
  if (!match) throw new ConfigError(`${source} must be host:port, for example localhost:8080: received ${JSON.stringify(raw)}`);
  const hostname = match[1] ?? (match[2] === "" ? "0.0.0.0" : match[2]!);
  return { hostname, port: parseInteger(match[3]!, `the port in ${source}`, 0, 65535) };
}

/** Parses a whole decimal number within [min, max], naming the source in the error. */
export function parseInteger(raw: string, source: string, min: number, max: number): number {
  const trimmed = raw.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${source} must be a whole number from ${min} to ${max}: received ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Parses `true` or `false` (also `1`/`0`, `yes`/`no`), naming the source in the error. */
export function parseBoolean(raw: string, source: string): boolean {
  const value = raw.trim().toLowerCase();
  if (["true", "1", "yes"].includes(value)) return true;
  if (["false", "0", "no"].includes(value)) return false;
  throw new ConfigError(`${source} must be true or false: received ${JSON.stringify(raw)}`);
}

/** Parses a decimal number within [min, max], naming the source in the error. */
export function parseNumber(raw: string, source: string, min: number, max: number): number {
  const trimmed = raw.trim();
  const value = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${source} must be a number from ${min} to ${max}: received ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Parses `alpha,bravo`: unique ids of lowercase letters, digits, - and _. */
export function parseDroneIds(raw: string, source: string): string[] {
  const ids = raw.split(",").map((id) => id.trim());
  if (ids.length > maxDrones) throw new ConfigError(`${source} may name at most ${maxDrones} drones: received ${ids.length}`);
  const seen = new Set<string>();
  for (const id of ids) {
    if (!isValidDroneId(id)) {
      throw new ConfigError(
        `${source} must be comma-separated drone ids of 1 to 32 lowercase letters, digits, - or _: received ${JSON.stringify(id)} in ${JSON.stringify(raw)}`,
      );
    }
    if (seen.has(id)) throw new ConfigError(`${source} names ${JSON.stringify(id)} twice: drone ids must be unique`);
    seen.add(id);
  }
  return ids;
}

/** Parses `LAT,LON,ALT`: degrees latitude and longitude, metres above mean sea level. */
export function parseHome(raw: string, source: string): GeoPosition {
  const parts = raw.split(",").map((part) => part.trim());
  const numbers = parts.map((part) => (/^-?\d+(\.\d+)?$/.test(part) ? Number(part) : NaN));
  if (parts.length !== 3 || numbers.some((value) => !Number.isFinite(value))) {
    throw new ConfigError(`${source} must be LAT,LON,ALT in degrees and metres above sea level, e.g. -35.363261,149.16523,584: received ${JSON.stringify(raw)}`);
  }
  const home = { lat: numbers[0]!, lon: numbers[1]!, altitudeMsl: numbers[2]! };
  const problem = geoPositionProblem(home);
  if (problem !== null) throw new ConfigError(`${source}: ${problem}`);
  return home;
}

/** `fence=check` (skyport checks its targets against --geofence-polygon; the default) or `fence=upload` (the autopilot is given the polygon too). */
function parseFenceOption(value: string, source: string): boolean {
  if (value === "upload") return true;
  if (value === "check") return false;
  throw new ConfigError(`${source} must be upload (give the autopilot the --geofence-polygon too) or check (skyport checks its targets only): received ${JSON.stringify(value)}`);
}

/** Parses `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
export function parseRedisUrl(raw: string, source: string): string {
  return parseServiceUrl(raw, source, ["redis:", "rediss:"], "redis://127.0.0.1:6379", JSON.stringify(raw));
}

/**
 * Parses a server's URL with one of `protocols` and a host; `shown` is how
 * a refusal quotes the value (a URL that may hold a password is not echoed).
 */
function parseServiceUrl(raw: string, source: string, protocols: readonly string[], example: string, shown: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`${source} must be a URL like ${example}: received ${shown}`);
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(`${source} must start with ${protocols.map((p) => `${p}//`).join(" or ")}: received ${shown}`);
  if (url.hostname === "") throw new ConfigError(`${source} must name a host, e.g. ${example}: received ${shown}`);
  return raw.trim();
}

/** Parses `postgres://[user[:password]@]host[:port]/database` (or `postgresql://`); never echoes the value (it may hold a password). */
export function parseDatabaseUrl(raw: string, source: string): string {
  return parseServiceUrl(raw, source, ["postgres:", "postgresql:"], "postgres://skyport@127.0.0.1:5432/skyport", "a value not shown here (it may hold a password)");
}

/**
 * Parses `NAME=URL[,sysid=N][,takeoff-altitude=M]` (URL `tcp:`, `udpin:` or
 * `udpout:HOST:PORT`): a new drone id, its MAVLink link, the autopilot's
 * system id (default 1) and the altitude takeoff climbs to (default 10 m).
 */
export function parseMavlinkVehicle(raw: string, source: string, earlier: readonly MavlinkVehicleSpec[]): MavlinkVehicleSpec {
  const at = raw.indexOf("=");
  if (at < 0) throw new ConfigError(`${source} must be NAME=URL, e.g. copter=tcp:127.0.0.1:5760: received ${JSON.stringify(raw)}`);
  const name = raw.slice(0, at).trim();
  if (!isValidDroneId(name)) throw new ConfigError(`${source} must name the vehicle with 1 to 32 lowercase letters, digits, - or _: received ${JSON.stringify(name)} in ${JSON.stringify(raw)}`);
  if (earlier.some((vehicle) => vehicle.name === name)) throw new ConfigError(`${source} names ${JSON.stringify(name)} twice: drone ids must be unique`);
  const [url = "", ...options] = raw.slice(at + 1).split(",");
  const endpoint = parseMavlinkUrl(url);
  if ("problem" in endpoint) throw new ConfigError(`${source} ${name}: the URL ${endpoint.problem}`);
  const spec: MavlinkVehicleSpec = { name, url: url.trim(), endpoint, ...defaultVehicleSettings };
  for (const option of options) {
    const [key = "", value = "", ...rest] = option.split("=").map((part) => part.trim());
    const where = `${source} ${name}: ${key}`;
    if (rest.length > 0 || value === "") throw new ConfigError(`${source} ${name}: options after the URL are KEY=VALUE (sysid=1, takeoff-altitude=10, fence=upload): received ${JSON.stringify(option)}`);
    if (key === "sysid") spec.systemId = parseInteger(value, where, 1, 255);
    else if (key === "takeoff-altitude") spec.takeoffAltitudeMetres = parseNumber(value, where, 1, 120);
    else if (key === "fence") spec.uploadFence = parseFenceOption(value, where);
    else throw new ConfigError(`${source} ${name}: unknown option ${JSON.stringify(key)}: expected sysid, takeoff-altitude or fence`);
  }
  return spec;
}

/** Parses `*` or comma-separated http(s) origins such as `https://a.example`. */
export function parseOrigins(raw: string, source: string): AllowedOrigins {
  if (raw.trim() === "*") return "*";
  const origins = new Set<string>();
  for (const part of raw.split(",")) {
    const origin = normalizeOrigin(part.trim());
    if (origin === null || part.trim().replace(/\/$/, "").toLowerCase() !== origin) {
      throw new ConfigError(`${source} must be * or comma-separated origins like https://app.example: received ${JSON.stringify(part.trim())}`);
    }
    origins.add(origin);
  }
  return origins;
}

/** Parses `*` or comma-separated host names without ports, e.g. `drones.example,.fleet.example`. */
export function parseHosts(raw: string, source: string): AllowedHosts {
  if (raw.trim() === "*") return "*";
  const hosts = new Set<string>();
  for (const part of raw.split(",")) {
    const entry = part.trim().toLowerCase();
    const name = entry.startsWith(".") ? entry.slice(1) : entry;
    if (name === "" || name.includes(":") || hostNameOf(name) !== name.replace(/\.$/, "")) {
      throw new ConfigError(`${source} must be * or comma-separated host names without ports, like drones.example or .fleet.example: received ${JSON.stringify(part.trim())}`);
    }
    hosts.add(entry.startsWith(".") ? `.${hostNameOf(name)}` : hostNameOf(name)!);
  }
  return hosts;
}

/** A token must be non-empty; a viewer token also travels as a subprotocol value, so it is limited to token characters. */
function parseToken(raw: string, source: string, asSubprotocol: boolean): string {
  if (raw.length === 0) throw new ConfigError(`${source} must not be empty`);
  if (raw.length > 256) throw new ConfigError(`${source} must be at most 256 characters: received ${raw.length}`);
  if (asSubprotocol && !isSubprotocolSafe(raw)) {
    throw new ConfigError(`${source} may use only letters, digits and . _ ~ - (it travels in Sec-WebSocket-Protocol)`);
  }
  return raw;
}
