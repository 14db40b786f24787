/**
 * The process's own metric families, under the names Prometheus's client
 * libraries use for every process (`process_*`), plus skyport's build and
 * uptime.
 *
 * Owns these gauges. The start time and the clock come from the caller, so
 * nothing here decides when the server started.
 */
import type { BuildInfo } from "./build-info.ts";
import type { MetricsRegistry } from "./registry.ts";

/** What the process families read. */
export interface ProcessFacts {
  /** Seconds since the server started, read at scrape time. */
  uptimeSeconds(): number;
  /** When the server started, Unix seconds (wall clock). */
  startTimeSeconds: number;
  build: BuildInfo;
}

/** Registers RSS, start time, uptime and build info. */
export function registerProcessMetrics(registry: MetricsRegistry, { uptimeSeconds, startTimeSeconds, build }: ProcessFacts): void {
  registry.single("process_resident_memory_bytes", "gauge", "Resident set size of the server process.", () => process.memoryUsage.rss());
  registry.single("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, seconds.", () => startTimeSeconds);
  registry.single("skyport_uptime_seconds", "gauge", "Seconds since the server started.", uptimeSeconds);
  registry.register(() => [
    {
      name: "skyport_build_info",
      type: "gauge",
      help: "Always 1: the skyport version, the /drone protocol version and the Bun runtime, as labels.",
      samples: [{ labels: { version: build.version, protocol: build.protocol, bun: build.bun }, value: 1 }],
    },
  ]);
}
