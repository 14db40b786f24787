/**
 * The process's own metric families: resident memory and uptime.
 *
 * Owns these two gauges. The start time and the clock come from the caller,
 * so nothing here decides when the server started.
 */
import type { MetricsRegistry } from "./registry.ts";

/** Registers RSS and uptime; `uptimeSeconds` is read at scrape time. */
export function registerProcessMetrics(registry: MetricsRegistry, uptimeSeconds: () => number): void {
  registry.single("process_resident_memory_bytes", "gauge", "Resident set size of the server process.", () => process.memoryUsage.rss());
  registry.single("skyport_uptime_seconds", "gauge", "Seconds since the server started.", uptimeSeconds);
}
