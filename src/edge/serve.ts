/**
 * `skyport serve` and `bun run server.ts`: reads the configuration, then
 * either supervises `--workers` copies of itself or serves; prints where to
 * find it, reloads its TLS certificate and JWT keys on SIGHUP, and shuts down
 * cleanly on SIGINT/SIGTERM.
 *
 * Owns the process side of serving (argv and env in, exit codes, signals,
 * banner out). The server itself is `app.ts`, the supervisor `workers.ts`.
 * It never returns while serving: the process exits when the server stops.
 */
import { startServer, type RunningServer } from "./app.ts";
import { bannerLines, clusterLine, startupWarnings } from "./banner.ts";
import { ConfigError, exitUsage, HelpRequested, parseConfig, usage, type Config } from "./config.ts";
import { openRecording, recordingBlocked, recordingLine } from "./recording.ts";
import { TlsError } from "./tls.ts";
import { isWorker, reportToSupervisor, superviseWorkers, workerNodeIdProblem } from "./workers.ts";
import { redactedUrl } from "../runtime/cluster/redis-link.ts";
import { KeyFileError, KeyStore } from "../runtime/identity/keys.ts";
import { StoreOpenError } from "../runtime/recorder/store.ts";
import { consoleLogger } from "../runtime/observability/log.ts";

/** Hard deadline for shutdown: if draining hangs, exit anyway. */
const shutdownDeadlineMilliseconds = 4500;

/**
 * Serves with the flags in `argv` and the process's environment.
 * `selfCommand` is the command that runs this same serve again, flags
 * excluded (`[bun, "server.ts"]`, `[bun, "bin/skyport.ts", "serve"]`, or the
 * single executable and `serve`): `--workers` starts each worker with it.
 */
export async function serve(argv: readonly string[], selfCommand: readonly string[]): Promise<void> {
  const config = readConfig(argv);
  // `--workers N`: this process only supervises N copies of itself (src/edge/workers.ts).
  if (config.workers > 1 && !isWorker()) {
    const problem = workerNodeIdProblem(config);
    if (problem !== null) {
      console.error(`skyport: ${problem}`);
      process.exit(exitUsage);
    }
    process.exit(await superviseWorkers(config, argv, consoleLogger, selfCommand));
  }
  const keys = await openKeys(config.jwtKeysFile);
  let recording: Awaited<ReturnType<typeof openRecording>>;
  try {
    recording = await openRecording(config, [...config.drones, ...config.mavlink.map((vehicle) => vehicle.name)]);
  } catch (error) {
    if (!(error instanceof StoreOpenError)) throw error;
    console.error(`skyport: ${error.message}`);
    process.exit(1);
  }
  let running: RunningServer;
  try {
    running = startServer(config, { logger: consoleLogger, recording, ...(keys === undefined ? {} : { keys }) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(error instanceof TlsError ? `skyport: ${message}` : `skyport: cannot listen on ${config.hostname}:${config.port}: ${message}`);
    process.exit(1);
  }

  const shutdown = (signal: string): void => {
    consoleLogger.info({ event: "shutdown", signal, connections: running.connections.size });
    setTimeout(() => process.exit(0), shutdownDeadlineMilliseconds).unref();
    running.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  // SIGHUP: a renewed TLS certificate and a rotated --jwt-keys file are read again; neither stops the server.
  process.on("SIGHUP", () => {
    if (config.tlsCertFile === null && keys === undefined) consoleLogger.info({ event: "sighup", message: "nothing to reload: no --tls-cert and no --jwt-keys" });
    if (config.tlsCertFile !== null) reloadTls(running);
    if (keys !== undefined) reloadKeys(config, keys);
  });

  // Handlers first, banner (or report) second: whoever reads it may signal at once.
  announce(config, running, recording !== undefined);
}

/** Serves new connections with the certificate files as they are now; a bad pair is logged and the old one kept. */
function reloadTls(running: RunningServer): void {
  try {
    running.reloadTls();
  } catch (error) {
    consoleLogger.error({ event: "tls_reload_failed", message: error instanceof Error ? error.message : String(error), kept: "the previous certificate" });
  }
}

/** Key rotation: reads --jwt-keys again; a bad file keeps the keys in use (one log line says why). */
function reloadKeys(config: Config, keys: KeyStore): void {
  keys.reload().then((result) =>
    result.ok
      ? consoleLogger.info({ event: "jwt_keys_reloaded", kids: result.kids })
      : consoleLogger.error({ event: "jwt_keys_reload_failed", file: config.jwtKeysFile, message: `kept the keys in use: ${result.message}` }),
  );
}

/** The `--jwt-keys` file, loaded before anything listens: an unusable one stops the start with one line naming the flag. */
async function openKeys(path: string | null): Promise<KeyStore | undefined> {
  if (path === null) return undefined;
  try {
    return await KeyStore.open(path);
  } catch (error) {
    if (!(error instanceof KeyFileError)) throw error;
    console.error(`skyport: --jwt-keys ${path} ${error.message}`);
    process.exit(exitUsage);
  }
}

/** The configuration from argv and env, or the usage (exit 0 for --help, 2 for a mistake). */
function readConfig(argv: readonly string[]): Config {
  try {
    return parseConfig([...argv], process.env);
  } catch (error) {
    if (error instanceof HelpRequested) {
      console.log(usage());
      process.exit(0);
    }
    if (error instanceof ConfigError) {
      console.error(`skyport: ${error.message}\n\n${usage()}`);
      process.exit(exitUsage);
    }
    throw error;
  }
}

/** A worker reports to its supervisor; a server alone logs `listening` on stdout and prints the banner on stderr. */
function announce(config: Config, running: RunningServer, recorded: boolean): void {
  const nodeId = running.cluster?.nodeId ?? null;
  if (isWorker()) {
    // The supervisor prints the one banner and the warnings for every worker.
    reportToSupervisor({ listening: running.server.port!, url: running.url.href, nodeId }, consoleLogger);
    return;
  }
  const cluster = nodeId === null || config.redisUrl === null ? null : clusterLine([nodeId], redactedUrl(config.redisUrl));
  consoleLogger.info({ event: "listening", url: running.url.href, port: running.server.port, pid: process.pid });
  // The banner is for people and goes to stderr: stdout carries only JSON log lines, so `| jq` works from the first line.
  console.error(bannerLines({ url: running.url, drones: running.flight.fleet.ids, cluster }).join("\n"));
  for (const warning of startupWarnings(config)) console.error(warning);
  // Where flights are recorded, or why not: for people, so on stderr with the banner.
  const notRecording = recordingBlocked(config);
  if (notRecording !== null) console.error(notRecording);
  else if (recorded) console.error(recordingLine(config));
}
