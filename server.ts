/**
 * skyport entry point: reads the configuration, starts the server, prints
 * where to find it, and shuts down cleanly on SIGINT/SIGTERM.
 *
 * Nothing else lives here; the server itself is `src/edge/app.ts`.
 */
import { startServer, type RunningServer } from "./src/edge/app.ts";
import { ConfigError, HelpRequested, parseConfig, usage } from "./src/edge/config.ts";
import { redactedUrl } from "./src/runtime/cluster/redis-link.ts";
import { consoleLogger } from "./src/runtime/observability/log.ts";
import { exitWhenSupervisorExits, isWorker, superviseWorkers } from "./src/edge/workers.ts";

/** Exit code for bad flags or environment, as getopt-style tools use. */
const exitUsage = 2;

/** Hard deadline for shutdown: if draining hangs, exit anyway. */
const shutdownDeadlineMilliseconds = 4500;

function readConfig() {
  try {
    return parseConfig(process.argv.slice(2), process.env);
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

const config = readConfig();
// `--workers N`: this process only supervises N copies of itself (src/edge/workers.ts).
if (config.workers > 1 && !isWorker()) process.exit(await superviseWorkers(config, process.argv.slice(2)));
let running: RunningServer;
try {
  running = startServer(config, { logger: consoleLogger });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`skyport: cannot listen on ${config.hostname}:${config.port}: ${message}`);
  process.exit(1);
}

function shutdown(signal: string): void {
  consoleLogger.info({ event: "shutdown", signal, connections: running.connections.size });
  setTimeout(() => process.exit(0), shutdownDeadlineMilliseconds).unref();
  running.stop().then(() => process.exit(0));
}
process.once("SIGINT", () => shutdown("SIGINT"));
process.once("SIGTERM", () => shutdown("SIGTERM"));
if (isWorker()) exitWhenSupervisorExits();

// Handlers first, banner second: whoever reads the banner may signal at once.
const page = running.url;
const ws = new URL(page);
ws.protocol = page.protocol === "https:" ? "wss:" : "ws:";
console.log(
  [
    `skyport listening on ${page.host}`,
    `  page     ${page.href}`,
    `  echo     ${new URL("/echo", ws).href}`,
    `  drone    ${new URL("/drone", ws).href}   (drones: ${config.drones.join(", ")})`,
    `  tutorial ${new URL("/api/controller", ws).href}`,
    `  health   ${new URL("/healthz", page).href}`,
    `  metrics  ${new URL("/metrics", page).href}`,
    ...(running.cluster ? [`  cluster  node ${running.cluster.nodeId} via ${redactedUrl(running.cluster.url)} (drones are shared with every node on it)`] : []),
  ].join("\n"),
);
if (config.pilotToken === null) {
  console.error("skyport: warning: no pilot token is set, so anyone who can connect may fly (set SKYPORT_PILOT_TOKEN)");
}
if (config.allowedOrigins === "*") {
  console.error("skyport: warning: --allowed-origins * lets any web page open WebSockets to this server");
}
