/**
 * The Socket.IO peer in the scale-out benchmark (issue 18): N Node workers
 * (node:cluster, sharing one port) with the official Redis adapter,
 * measured by the same window as skyport's workers (cluster-scale.ts) with
 * the same viewers, drones, rate and message size.
 *
 * Owns the peer's command line, reading its banner (port, worker pids), and
 * stopping it; bench/reference/socketio-publish.mjs is the server itself.
 */
import { join } from "node:path";
import { spawnChild, stopChild } from "./children.ts";
import { parseWorkersLine, readBanner } from "./cluster-nodes.ts";
import { flushRedis } from "./cluster-redis.ts";
import { measureScale, type ScaleSample, type ScaleShape, type ScaleTarget } from "./cluster-scale.ts";
import { repoRoot } from "./servers.ts";
import { connectMessage, websocketPath } from "./socketio-wire.ts";
import { textChunks } from "./streams.ts";

/** The banner (and, with workers, the workers line) must appear within this time of spawning. */
const bannerTimeoutMilliseconds = 30_000;
/** How much of the peer's stderr to keep for error messages. */
const stderrTailBytes = 4096;
/** The peer's first banner line: `socketio-publish listening on HOST:PORT`. */
const listeningLinePattern = /socketio-publish listening on \S*:(\d+)/;
/** Grace between SIGTERM and SIGKILL when stopping: the primary stops its workers first. */
const stopGraceMilliseconds = 3000;

/**
 * Bytes of skyport's telemetry message for a d00–d04 frame (bench/run.ts's
 * probe, 01:10 baseline): the Socket.IO peer's message size until a skyport
 * run of the same round has measured it.
 */
export const skyportMessageBytes = 490;

/** What the peer runs for a scale window. */
export interface SocketIoClusterOptions {
  workers: number;
  /** Rooms (one per drone), each emitted `hz` times a second. */
  rooms: number;
  hz: number;
  /** Bytes of one telemetry message on the wire: skyport's, measured in the same round. */
  frameBytes: number;
  redisUrl: string;
  /** Pin the primary (and so its workers) to this core; unpinned when absent. */
  core?: number;
}

/** The peer's command line. */
export function socketIoClusterCommand(options: SocketIoClusterOptions): string[] {
  const node = Bun.which("node");
  if (!node) throw new Error("the Socket.IO peer needs node on PATH");
  return [
    ...(options.core === undefined ? [] : ["taskset", "-c", String(options.core)]),
    node, join(repoRoot, "bench/reference/socketio-publish.mjs"),
    "--addr", "127.0.0.1:0",
    "--frame-bytes", String(Math.round(options.frameBytes)),
    "--rate", String(options.hz * options.rooms),
    "--burst", String(options.rooms),
    "--topics", String(options.rooms),
    "--redis", options.redisUrl,
    "--workers", String(options.workers),
  ];
}

/** The port in a `socketio-publish listening on HOST:PORT` banner, or null while the text has none. */
export function parseSocketIoPort(text: string): number | null {
  const match = listeningLinePattern.exec(text);
  return match ? Number(match[1]) : null;
}

/** Starts the peer and waits until every worker listens with its adapter connected. */
export async function startSocketIoCluster(options: SocketIoClusterOptions): Promise<{ target: Omit<ScaleTarget, "ownerWorker">; stop(): Promise<void> }> {
  const cmd = socketIoClusterCommand(options);
  const child = spawnChild(cmd, { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
  let stderrTail = "";
  void (async () => {
    for await (const text of textChunks(child.stderr as ReadableStream<Uint8Array>)) stderrTail = (stderrTail + text).slice(-stderrTailBytes);
  })();
  const stdout = (child.stdout as ReadableStream<Uint8Array>).getReader();
  const supervised = options.workers > 1;
  let seen = "";
  try {
    await readBanner(stdout, bannerTimeoutMilliseconds, () => child.exited, (text) => {
      seen = text;
      return parseSocketIoPort(text) !== null && (!supervised || parseWorkersLine(text) !== null);
    });
  } catch (error) {
    await stopChild(child, 500);
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${cmd.join(" ")}: ${message}; stdout: ${JSON.stringify(seen.slice(0, 400))}; stderr: ${JSON.stringify(stderrTail)}`);
  }
  const port = parseSocketIoPort(seen)!;
  const workers = supervised ? parseWorkersLine(seen) : null;
  void (async () => {
    try {
      while (!(await stdout.read()).done) {
        // discard
      }
    } catch {
      // The process went away.
    }
  })();
  return {
    target: {
      port,
      path: websocketPath,
      openingMessages: [connectMessage()],
      // The Engine.IO open packet and the answer to the connect: the viewer has joined the rooms by then.
      replies: 2,
      serverPids: workers ? workers.workers : [child.pid],
      supervisorPid: workers ? child.pid : null,
    },
    // The primary forwards SIGTERM to its workers; workers also exit when it dies (node:cluster closes their IPC channel).
    stop: () => stopChild(child, stopGraceMilliseconds),
  };
}

/** Runs one window against a fresh Socket.IO peer of `shape.workers` workers emitting `frameBytes` messages. */
export async function runSocketIoScale(shape: ScaleShape, frameBytes: number, redisUrl: string, redisPid: number, cores: number[]): Promise<ScaleSample> {
  await flushRedis(redisUrl);
  const peer = await startSocketIoCluster({ workers: shape.workers, rooms: shape.drones, hz: shape.hz, frameBytes, redisUrl, core: shape.serverCore });
  try {
    // The first worker emits (socketio-publish.mjs); the others relay through Redis.
    return await measureScale(shape, { ...peer.target, ownerWorker: 0 }, redisPid, cores);
  } finally {
    await peer.stop();
  }
}
