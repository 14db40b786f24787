/**
 * Measuring a real `server.ts` process from outside: its resident memory from
 * /proc, its Prometheus metrics and health document, and a clean stop.
 *
 * Linux only (reads /proc). Every wait is bounded.
 */
import { readFileSync } from "node:fs";
import type { ServerProcess } from "./server.ts";

/** Resident set size of a process, bytes, from `/proc/<pid>/status` (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/**
 * The process's RSS once it has stopped moving: sampled every `sampleMs`,
 * settled when the last `samples` readings lie within `toleranceBytes` of
 * each other (the collector and the allocator have finished with what came
 * before). A baseline read this way is as low as it will get, so a bound
 * measured from it stays strict.
 *
 * @throws {Error} when it has not settled within `timeoutMs`, with the readings.
 */
export async function settledRssBytes(
  pid: number,
  { samples = 5, sampleMs = 100, toleranceBytes = 1024 * 1024, timeoutMs = 15_000 } = {},
): Promise<number> {
  const readings: number[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    readings.push(rssBytes(pid));
    const window = readings.slice(-samples);
    if (window.length === samples && Math.max(...window) - Math.min(...window) <= toleranceBytes) return window.at(-1)!;
    if (Date.now() > deadline) {
      throw new Error(`RSS of ${pid} did not settle within ${toleranceBytes} bytes over ${samples} readings in ${timeoutMs} ms: last ${window.map(mebibytes).join(", ")} MiB`);
    }
    await Bun.sleep(sampleMs);
  }
}

/**
 * Polls the process's RSS until it is at most `bytes` and returns that
 * reading, or returns the last reading (still above) after `timeoutMs`: the
 * caller's assertion then reports it.
 */
export async function rssFallingTo(pid: number, bytes: number, { sampleMs = 100, timeoutMs = 10_000 } = {}): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reading = rssBytes(pid);
    if (reading <= bytes || Date.now() > deadline) return reading;
    await Bun.sleep(sampleMs);
  }
}

export const mebibytes = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;

/** One sample (without labels, or with exactly these labels) from a Prometheus text exposition. */
export function metricValue(text: string, name: string, labels = ""): number | null {
  const wanted = labels === "" ? name : `${name}{${labels}}`;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    if (line.slice(0, space) === wanted) return Number(line.slice(space + 1));
  }
  return null;
}

/** Fetches with a deadline, so a wedged server fails the test instead of hanging it. */
export async function fetchWithin(url: string, timeoutMs = 2000): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
}

/** `GET /healthz` as JSON. */
export async function health(server: ServerProcess, timeoutMs = 2000): Promise<{ status: string; connections: Record<string, number> & { total: number } }> {
  const response = await fetchWithin(server.http("/healthz"), timeoutMs);
  if (response.status !== 200) throw new Error(`/healthz answered ${response.status}`);
  return response.json() as Promise<{ status: string; connections: Record<string, number> & { total: number } }>;
}

/** `GET /metrics` as text. */
export async function metricsText(server: ServerProcess, timeoutMs = 2000): Promise<string> {
  const response = await fetchWithin(server.http("/metrics"), timeoutMs);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

/** Stops a server process with SIGTERM (it drains and exits 0), or SIGKILL if it has not exited in time. */
export async function stopServer(server: ServerProcess, timeoutMs = 6000): Promise<number> {
  if (server.proc.exitCode !== null) return server.proc.exitCode;
  server.proc.kill("SIGTERM");
  const code = await Promise.race([server.exited, Bun.sleep(timeoutMs).then(() => null)]);
  if (code !== null) return code;
  server.proc.kill("SIGKILL");
  return server.exited;
}
