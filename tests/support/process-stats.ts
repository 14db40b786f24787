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
