/**
 * skyport processes for the scale-out benchmark (bench/cluster.ts): one
 * `server.ts` alone, one node of a Redis cluster, or a `--workers N`
 * supervisor with its workers, each started through children.ts and read
 * from its banner (port, and for a supervisor the worker pids).
 *
 * Owns the command lines, the banner parsing, and making sure no worker
 * outlives the benchmark: workers run in their own process group (so a
 * terminal's Ctrl-C reaches only their supervisor), hence their pids are
 * remembered and killed on exit too. It does not measure anything.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { spawnChild, stopChild } from "./children.ts";
import { repoRoot } from "./servers.ts";
import { textChunks } from "./streams.ts";

/** The banner (and, with --workers, the workers line) must appear within this time of spawning. */
const bannerTimeoutMilliseconds = 30_000;
/** How much of a server's stdout to keep for error messages. */
const outputTailBytes = 4096;
/**
 * Admission limits lifted as in bench/servers.ts: every benchmark viewer
 * comes from 127.0.0.1, far above the per-address default of 100.
 */
const limitFlags = ["--max-connections", "20000", "--max-connections-per-ip", "20000"];

/** The supervisor's banner line: `  workers  N processes sharing the port: pids a, b (supervisor s)`. */
const workersLinePattern = /workers\s+(\d+) processes sharing the port: pids ([\d, ]+) \(supervisor (\d+)\)/;
/** The first banner line of every server: `skyport listening on HOST:PORT`. */
const listeningLinePattern = /skyport listening on \S*:(\d+)/;

/** The port in a `skyport listening on HOST:PORT` banner, or null if the text has none yet. */
export function parseListeningPort(text: string): number | null {
  const match = listeningLinePattern.exec(text);
  return match ? Number(match[1]) : null;
}

/** The worker pids (in worker index order) and the supervisor pid from a `--workers` banner, or null if the text has no such line yet. */
export function parseWorkersLine(text: string): { workers: number[]; supervisor: number } | null {
  const match = workersLinePattern.exec(text);
  if (!match) return null;
  const workers = match[2]!.split(",").map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
  if (workers.length !== Number(match[1])) throw new Error(`workers banner names ${workers.length} pids for ${match[1]} processes: ${JSON.stringify(match[0])}`);
  return { workers, supervisor: Number(match[3]) };
}

/** Pids of a process's children, from /proc/PID/task/*\/children (empty if it has exited). */
export function childPids(pid: number): number[] {
  const tasks = join("/proc", String(pid), "task");
  try {
    return readdirSync(tasks).flatMap((task) =>
      readFileSync(join(tasks, task, "children"), "utf8").trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * Reads a server's banner stream until `complete(text so far)` says the
 * banner is whole; throws when `timeoutMilliseconds` pass first or the
 * stream ends (with the exit code `exited` resolves to).
 */
export async function readBanner(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  timeoutMilliseconds: number,
  exited: () => Promise<number>,
  complete: (seen: string) => boolean,
): Promise<void> {
  const decoder = new TextDecoder();
  const deadline = performance.now() + timeoutMilliseconds;
  let seen = "";
  while (!complete(seen)) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw new Error(`no complete banner within ${timeoutMilliseconds} ms`);
    const chunk = await Promise.race([reader.read(), Bun.sleep(remaining).then(() => null)]);
    if (chunk === null) continue;
    if (chunk.done) throw new Error(`exited before printing its banner (exit ${await exited()})`);
    seen += decoder.decode(chunk.value, { stream: true });
  }
}

/** What a skyport process (or supervisor) runs with, besides its address and admission limits. */
export interface NodeOptions {
  drones: readonly string[];
  hz: number;
  /** `--redis` URL, or null for one process alone. */
  redisUrl: string | null;
  /** `--node-id` (a supervisor's workers append `-w<index>`). */
  nodeId?: string;
  /** `--workers`; more than 1 starts a supervisor. */
  workers?: number;
  /** Listen on this port (0: any free port). */
  port?: number;
  /** Pin the process (and so a supervisor's workers, which inherit it) to this core with `taskset`; unpinned when absent. */
  core?: number;
  /** Extra environment (on top of this process's), inherited by a supervisor's workers: e.g. `BUN_OPTIONS` for a profiler. */
  env?: Record<string, string>;
}

/** A running skyport: a single process, or a supervisor and its workers. */
export interface RunningNode {
  port: number;
  /** The processes that serve sockets: the process itself, or the supervisor's workers in index order. */
  serverPids: number[];
  /** The supervisor's pid with --workers > 1, else null. */
  supervisorPid: number | null;
  /** SIGTERM (forwarded by a supervisor to its workers), SIGKILL after the grace period; also kills leftover workers. */
  stop(): Promise<void>;
}

/** Worker pids started by supervisors of this process, killed on exit if still there. */
const workerPids = new Set<number>();
process.on("exit", killLeftoverWorkers);

/** SIGKILLs every worker this benchmark caused to start that is still running. Synchronous, for exit hooks. */
export function killLeftoverWorkers(): void {
  for (const pid of workerPids) {
    try {
      // Only if it is still a skyport server: the pid may have been reused after the worker exited.
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("server.ts")) process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  workerPids.clear();
}

/** The server.ts command line for `options`. */
export function nodeCommand(options: NodeOptions): string[] {
  return [
    ...(options.core === undefined ? [] : ["taskset", "-c", String(options.core)]),
    process.execPath, "run", join(repoRoot, "server.ts"),
    "--addr", `127.0.0.1:${options.port ?? 0}`,
    ...limitFlags,
    "--drones", options.drones.join(","),
    "--telemetry-hz", String(options.hz),
    ...(options.redisUrl ? ["--redis", options.redisUrl] : []),
    ...(options.nodeId ? ["--node-id", options.nodeId] : []),
    ...(options.workers && options.workers > 1 ? ["--workers", String(options.workers)] : []),
  ];
}

/** Starts skyport and waits for its banner (and the workers line when there are workers). */
export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const supervised = (options.workers ?? 1) > 1;
  const child = spawnChild(nodeCommand(options), { cwd: repoRoot, stdout: "pipe", stderr: "pipe", ...(options.env ? { env: { ...process.env, ...options.env } } : {}) });
  // The banner is on stderr; stdout (JSON log lines, one per open and close) is drained, its tail kept for errors.
  let stdoutTail = "";
  void (async () => {
    for await (const text of textChunks(child.stdout as ReadableStream<Uint8Array>)) stdoutTail = (stdoutTail + text).slice(-outputTailBytes);
  })();
  const stderr = (child.stderr as ReadableStream<Uint8Array>).getReader();
  let seen = "";
  try {
    await readBanner(stderr, bannerTimeoutMilliseconds, () => child.exited, (text) => {
      seen = text;
      const started = supervised ? parseWorkersLine(text) : null;
      for (const pid of started?.workers ?? []) workerPids.add(pid);
      return parseListeningPort(text) !== null && (!supervised || started !== null);
    });
  } catch (error) {
    await stopChild(child, 500);
    killLeftoverWorkers();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${nodeCommand(options).join(" ")}: ${message}; stderr: ${JSON.stringify(seen.slice(0, 400))}; stdout: ${JSON.stringify(stdoutTail)}`);
  }
  // Keep reading (and discarding) stderr: warnings and forwarded worker errors, and a full pipe would block it.
  void (async () => {
    try {
      while (!(await stderr.read()).done) {
        // discard
      }
    } catch {
      // The process went away.
    }
  })();
  const port = parseListeningPort(seen)!;
  const workers = supervised ? parseWorkersLine(seen) : null;
  const serverPids = workers ? workers.workers : [child.pid];
  if (workers) {
    const children = childPids(child.pid);
    const strangers = workers.workers.filter((pid) => !children.includes(pid));
    if (workers.supervisor !== child.pid || strangers.length > 0) {
      await stopChild(child, 500);
      killLeftoverWorkers();
      throw new Error(`the workers banner (pids ${workers.workers.join(", ")}, supervisor ${workers.supervisor}) does not match the processes started: supervisor ${child.pid} with children ${children.join(", ")}`);
    }
  }
  return {
    port,
    serverPids,
    supervisorPid: workers ? child.pid : null,
    async stop() {
      await stopChild(child, 6000);
      // A supervisor waits for its workers before exiting; anything left now was stuck.
      for (const pid of serverPids) if (workerPids.has(pid)) await killIfRunning(pid);
    },
  };
}

async function killIfRunning(pid: number): Promise<void> {
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("server.ts")) return;
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  } finally {
    workerPids.delete(pid);
  }
}
