/**
 * The servers under test (skyport and the reference implementations) and
 * how to start and stop one pinned to a CPU core.
 *
 * Owns: each server's command line for each workload a scenario asks for
 * (skyport's flags and the reference's differ per scenario), the WebSocket
 * path and opening messages its clients use, the gorilla build into a
 * temporary directory, the `taskset` pinning, reading the
 * `... listening on HOST:PORT` banner, and draining the server's output so
 * that logging never blocks it. It does not measure anything; scenarios do.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawnChild, stopChild } from "./children.ts";
import { connectMessage, websocketPath } from "./socketio-wire.ts";
import { textChunks } from "./streams.ts";

/** Repository root: bench/ lives directly under it. */
export const repoRoot = resolve(import.meta.dir, "..");

/** What a server can be benchmarked for: echo, idle /drone-like connections, telemetry fan-out. */
export type Role = Workload["role"];

/** What one scenario asks of a server. */
export type Workload = { role: "echo" } | { role: "idle-drone" } | TelemetryWorkload;

/**
 * Telemetry fan-out: `drones` drones, each publishing one frame per tick at
 * `hz` ticks per second, to viewers that watch every drone.
 */
export interface TelemetryWorkload {
  role: "telemetry";
  drones: number;
  hz: number;
  /**
   * How viewers watch: every drone one by one (a frame per drone per tick),
   * or skyport's all-drones subscription `*` (one `telemetry_batch` per tick).
   */
  view: "each-drone" | "batch";
  /** The reference publishes as fast as it can rather than at `hz` (skyport's own top rate is --telemetry-hz 100). */
  unpaced: boolean;
  /**
   * Unsent bytes per socket beyond which the server stops sending it frames:
   * skyport's --slow-consumer-bytes, the reference's --backpressure-limit.
   */
  slowConsumerBytes: number;
  /** Payload bytes of one reference frame: the size of skyport's message, measured by the runner before the rounds. */
  frameBytes?: number;
}

/** How to run a server for a workload, and how its clients open the conversation. */
export interface Launch {
  cmd: string[];
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** WebSocket path with query string. */
  path: string;
  /** Text messages each client sends once upgraded. */
  openingMessages: string[];
  /** Where the server prints its `listening on` banner (default stdout; skyport's goes to stderr, its stdout is JSON logs). */
  bannerStream?: "stdout" | "stderr";
  /** Messages other than telemetry (welcome, acks) each client receives in answer before it is ready. */
  replies: number;
  /** Clients offer permessage-deflate (and inflate what arrives compressed). */
  deflate?: boolean;
}

/** A server ready to launch for any of its roles. */
export interface PreparedServer {
  launch(workload: Workload): Launch;
}

/** Every server must print its banner within this time of being spawned. */
const bannerTimeoutMilliseconds = 20_000;
/** How much of a server's stderr to keep for error messages. */
const stderrTailBytes = 4096;
/** Where Debian puts Go library sources (golang-github-gorilla-websocket-dev). */
const defaultGoPath = "/usr/share/gocode";
/** Go's build cache, kept between runs so that rebuilding gorilla takes a second, not ten. */
const goCacheDir = join(process.env.TMPDIR ?? "/tmp", "skyport-bench-gocache");
/** Upper bound on building the Go reference. */
const goBuildTimeoutMilliseconds = 120_000;
/**
 * skyport's admission limits, lifted for the benchmark: the memory scenario
 * holds thousands of connections from 127.0.0.1, above the per-address
 * default. Passed only if `server.ts --help` lists the flag.
 */
const skyportLimitFlags: ReadonlyArray<[flag: string, value: string]> = [
  ["--max-connections", "20000"],
  ["--max-connections-per-ip", "20000"],
  // The echo scenarios send millions of messages a second from 127.0.0.1: far over the per-address /echo budget.
  ["--echo-messages-per-second", "100000000"],
];
/** Upper bound on `server.ts --help`. */
const helpTimeoutMilliseconds = 15_000;

export interface ServerSpec {
  /** Short name used on the command line and in results: skyport, bun, node, gorilla. */
  name: string;
  /** What the server is, for the table and chart. */
  label: string;
  /** The workloads this server can run. */
  roles: readonly Role[];
  /** Runs only when `--servers` names it (not in a default full run, whose chart and history it would change). */
  optIn?: true;
  /** Narrows `roles` to the workloads where this server adds something (default: every workload of its roles). */
  plays?(workload: Workload): boolean;
  /**
   * Resolves the command lines (building if needed), or says why the server
   * cannot run here. `skyportDir` is the skyport checkout under test.
   */
  prepare(workDir: string, skyportDir: string): Promise<PreparedServer | { skip: string }>;
}

const bun = process.execPath;
const listenFlag = ["--addr", "127.0.0.1:0"];
/** A client that speaks only after the server's first word: no opening messages, no replies. */
const silentClient = { openingMessages: [], replies: 0 };

export const serverSpecs: readonly ServerSpec[] = [
  {
    name: "skyport",
    label: "skyport",
    roles: ["echo", "idle-drone", "telemetry"],
    prepare: prepareSkyport,
  },
  {
    // The flight recorder on (SQLite in the run's work directory): beside `skyport` (recording off), what recording costs.
    name: "skyport-recording",
    label: "skyport, recording",
    roles: ["telemetry"],
    optIn: true,
    prepare: (workDir, skyportDir) => prepareSkyport(workDir, skyportDir, true),
  },
  {
    // Viewers that offer permessage-deflate (Bun's shared compressor): beside `skyport`, what compression costs and saves.
    name: "skyport-deflate",
    label: "skyport, compressed",
    roles: ["telemetry"],
    optIn: true,
    prepare: async (workDir, skyportDir) => {
      const prepared = await prepareSkyport(workDir, skyportDir);
      if ("skip" in prepared) return prepared;
      // Every message compressed, full-rate telemetry included (the default compresses only one-socket sends).
      return { launch: (workload) => { const launch = prepared.launch(workload); return { ...launch, cmd: [...launch.cmd, "--compression", "drone"], deflate: true }; } };
    },
  },
  {
    name: "bun",
    label: "bare Bun.serve",
    roles: ["echo", "idle-drone", "telemetry"],
    prepare: async () => ({ launch: (workload) => launchBareBun(workload, false) }),
  },
  {
    // Bare Bun with skyport's topic layout: tells what a topic per drone costs from what skyport adds.
    name: "bun-topics",
    label: "bare Bun, topic per drone",
    roles: ["telemetry"],
    plays: (workload) => workload.role === "telemetry" && workload.view === "each-drone" && workload.drones > 1,
    prepare: async () => ({ launch: (workload) => launchBareBun(workload, true) }),
  },
  {
    name: "node",
    label: "Node + ws",
    roles: ["echo"],
    prepare: async () => {
      const node = Bun.which("node");
      if (!node) return { skip: "node not found on PATH" };
      const cmd = [node, join(repoRoot, "bench/reference/node-ws-echo.mjs"), ...listenFlag];
      return { launch: () => ({ cmd, path: "/", ...silentClient }) };
    },
  },
  {
    name: "gorilla",
    label: "Go + gorilla",
    roles: ["echo"],
    prepare: buildGorilla,
  },
  {
    // What users would pick instead (issue 18): Socket.IO's rooms broadcast on Node, driven by the same load generator.
    name: "socketio",
    label: "Socket.IO 4.8 on Node",
    roles: ["telemetry"],
    plays: (workload) => workload.role === "telemetry" && socketIoCanKeepUp(workload),
    prepare: prepareSocketIo,
  },
];

/**
 * Drone ids for a telemetry workload: `alpha` (the default drone) alone,
 * else d00, d01, ... of equal length, so that every drone's frame has the
 * same size.
 */
export function droneIds(count: number): string[] {
  if (count === 1) return ["alpha"];
  const width = Math.max(2, String(count - 1).length);
  return Array.from({ length: count }, (_, i) => `d${String(i).padStart(width, "0")}`);
}

/** The `subscribe` a viewer sends for `drone` (`*` for the all-drones batch). */
export function subscribeMessage(drone: string): string {
  return JSON.stringify({ type: "subscribe", id: "s", data: { drone } });
}

/**
 * Bare Bun: `bun-echo.ts` for echo and idle connections (an idle bare Bun
 * connection is the baseline for an idle /drone connection), `bun-publish.ts`
 * for telemetry, publishing text frames of skyport's measured size at the
 * same rate and in the same bursts (one burst per tick, a frame per drone),
 * on one topic, or with `topicPerDrone` on a topic per drone as skyport does.
 */
function launchBareBun(workload: Workload, topicPerDrone: boolean): Launch {
  if (workload.role !== "telemetry") {
    return { cmd: [bun, "run", join(repoRoot, "bench/reference/bun-echo.ts"), ...listenFlag], path: "/", ...silentClient };
  }
  if (workload.frameBytes === undefined) throw new Error("bare Bun's telemetry reference needs skyport's frame size (frameBytes)");
  const framesPerTick = workload.view === "batch" ? 1 : workload.drones;
  const rate = workload.unpaced ? 0 : workload.hz * framesPerTick;
  const cmd = [
    bun, "run", join(repoRoot, "bench/reference/bun-publish.ts"), ...listenFlag,
    "--frame-bytes", String(workload.frameBytes),
    "--rate", String(rate),
    "--burst", String(framesPerTick),
    "--topics", String(topicPerDrone ? framesPerTick : 1),
    "--backpressure-limit", String(workload.slowConsumerBytes),
  ];
  return { cmd, path: "/", ...silentClient };
}

/**
 * Telemetry messages per viewer per second beyond which a paced workload is
 * not run on the Socket.IO peer. It delivers about 120k messages a second on
 * one core here (issue 18): fleet-each (1,000 a second to each of 1,000
 * viewers) would only show its emit loop falling behind. telemetry-10k and
 * fleet ask 10; unpaced telemetry-max measures its peak instead.
 */
const socketIoMaxMessagesPerViewer = 100;

/** Whether the Socket.IO peer adds a figure for a telemetry workload, rather than a run that cannot keep pace by design. */
function socketIoCanKeepUp(workload: TelemetryWorkload): boolean {
  const messagesPerViewer = workload.hz * (workload.view === "batch" ? 1 : workload.drones);
  return workload.unpaced || messagesPerViewer <= socketIoMaxMessagesPerViewer;
}

/** Node and the socket.io package (a devDependency), or why the peer cannot run. */
async function prepareSocketIo(): Promise<PreparedServer | { skip: string }> {
  const node = Bun.which("node");
  if (!node) return { skip: "node not found on PATH" };
  if (!existsSync(join(repoRoot, "node_modules/socket.io"))) return { skip: "socket.io is not installed (npm install)" };
  return { launch: (workload) => launchSocketIo(node, workload) };
}

/**
 * The Socket.IO peer for a telemetry workload: the same rate, bursts, rooms
 * (a room per drone, or one) and message size as bare Bun's reference.
 * Viewers send the connect packet `40`; the open packet and the connect
 * answer are their two replies (they join the rooms on connection).
 */
function launchSocketIo(node: string, workload: Workload): Launch {
  if (workload.role !== "telemetry") throw new Error(`the Socket.IO peer runs telemetry workloads only: got ${workload.role}`);
  if (workload.frameBytes === undefined) throw new Error("the Socket.IO peer needs skyport's frame size (frameBytes)");
  const framesPerTick = workload.view === "batch" ? 1 : workload.drones;
  const cmd = [
    node, join(repoRoot, "bench/reference/socketio-publish.mjs"), ...listenFlag,
    "--frame-bytes", String(workload.frameBytes),
    "--rate", String(workload.unpaced ? 0 : workload.hz * framesPerTick),
    "--burst", String(framesPerTick),
    "--topics", String(framesPerTick),
    "--backpressure-limit", String(workload.slowConsumerBytes),
  ];
  return { cmd, path: websocketPath, openingMessages: [connectMessage()], replies: 2 };
}

/** skyport's command lines, with the admission-limit flags this version of server.ts knows. */
async function prepareSkyport(workDir: string, skyportDir: string, recording = false): Promise<PreparedServer | { skip: string }> {
  const entry = join(skyportDir, "server.ts");
  if (!existsSync(entry)) return { skip: `no server.ts in ${skyportDir}` };
  const child = spawnChild([bun, "run", entry, "--help"], { cwd: skyportDir });
  const timer = setTimeout(() => child.kill("SIGKILL"), helpTimeoutMilliseconds);
  const [code, help, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout as ReadableStream).text(),
    new Response(child.stderr as ReadableStream).text(),
  ]);
  clearTimeout(timer);
  if (code !== 0) return { skip: `server.ts --help failed (exit ${code}): ${stderr.trim().split("\n").slice(0, 3).join(" | ")}` };
  const limits = skyportLimitFlags.filter(([flag]) => new RegExp(`${flag}\\b(?!-)`).test(help)).flat();
  // Recording is on by default since the flight recorder: plain `skyport` runs without it, as its history was measured.
  const knowsRecorder = /--no-record\b/.test(help);
  if (recording && !knowsRecorder) return { skip: "this server.ts has no flight recorder (--no-record unknown)" };
  const record = !knowsRecorder ? [] : recording ? ["--no-record=false", "--data-dir", join(workDir, "recorder-data")] : ["--no-record"];
  const base = [bun, "run", entry, ...listenFlag, ...limits, ...record];
  return { launch: (workload) => ({ ...launchSkyport(base, workload), cwd: skyportDir }) };
}

/**
 * skyport per workload. Viewers name what they watch in `?drone=` (the
 * socket is subscribed from the start, docs/protocol.md) and confirm it with
 * one `subscribe` for the first of it, whose `ack` (after the `welcome`) says
 * the subscription is live. Idle /drone connections unsubscribe from the
 * default drone, so that no telemetry flows to them.
 */
function launchSkyport(base: string[], workload: Workload): Launch {
  if (workload.role === "echo") return { cmd: base, path: "/echo", bannerStream: "stderr", ...silentClient };
  if (workload.role === "idle-drone") {
    const unsubscribe = JSON.stringify({ type: "unsubscribe", id: "u", data: { drone: "alpha" } });
    return { cmd: [...base, "--drones", "alpha"], path: "/drone", openingMessages: [unsubscribe], replies: 2, bannerStream: "stderr" };
  }
  const ids = droneIds(workload.drones);
  const cmd = [
    ...base,
    "--drones", ids.join(","),
    "--telemetry-hz", String(workload.hz),
    "--slow-consumer-bytes", String(workload.slowConsumerBytes),
  ];
  const watched = workload.view === "batch" ? ["*"] : ids;
  return { cmd, path: `/drone?drone=${watched.join(",")}`, openingMessages: [subscribeMessage(watched[0]!)], replies: 2, bannerStream: "stderr" };
}

/** Builds bench/reference/gorilla-echo into `workDir` in GOPATH mode (no module downloads). */
async function buildGorilla(workDir: string): Promise<PreparedServer | { skip: string }> {
  const go = Bun.which("go");
  if (!go) return { skip: "go not found on PATH" };
  const goPath = process.env.GORILLA_GOPATH ?? defaultGoPath;
  const source = join(goPath, "src/github.com/gorilla/websocket");
  if (!existsSync(source)) return { skip: `gorilla/websocket source not found at ${source} (set GORILLA_GOPATH)` };
  const binary = join(workDir, "gorilla-echo");
  const child = spawnChild([go, "build", "-o", binary, "."], {
    cwd: join(repoRoot, "bench/reference/gorilla-echo"),
    env: { ...process.env, GOPATH: goPath, GO111MODULE: "off", GOFLAGS: "", GOCACHE: goCacheDir },
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), goBuildTimeoutMilliseconds);
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr as ReadableStream).text()]);
  clearTimeout(timer);
  if (code !== 0) return { skip: `go build failed (exit ${code}): ${stderr.trim().split("\n").slice(0, 3).join(" | ")}` };
  const cmd = [binary, ...listenFlag];
  return { launch: () => ({ cmd, path: "/", ...silentClient }) };
}

/** A server started by `startServer`. `pid` is the server process itself (taskset execs it). */
export interface RunningServer {
  spec: ServerSpec;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Starts the launch's command pinned to `core` and waits for its banner. */
export async function startServer(spec: ServerSpec, launch: Launch, core: number): Promise<RunningServer> {
  const child = spawnChild(["taskset", "-c", String(core), ...launch.cmd], { cwd: launch.cwd ?? repoRoot, stdout: "pipe", stderr: "pipe" });
  // One stream carries the banner; the other is kept as a tail for error messages.
  const [bannerStream, otherStream] = launch.bannerStream === "stderr" ? [child.stderr, child.stdout] : [child.stdout, child.stderr];
  let stderrTail = "";
  void drain(otherStream as ReadableStream<Uint8Array>, (text) => {
    stderrTail = (stderrTail + text).slice(-stderrTailBytes);
  });
  const stdout = (bannerStream as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = performance.now() + bannerTimeoutMilliseconds;
  let port: number | undefined;
  try {
    while (port === undefined) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new Error(`no "listening on" banner within ${bannerTimeoutMilliseconds} ms`);
      const chunk = await Promise.race([stdout.read(), Bun.sleep(remaining).then(() => null)]);
      if (chunk === null) continue;
      if (chunk.done) throw new Error(`exited before printing its banner (exit ${await child.exited})`);
      seen += decoder.decode(chunk.value, { stream: true });
      const match = /listening on \S*:(\d+)/.exec(seen);
      if (match) port = Number(match[1]);
    }
  } catch (error) {
    await stopChild(child, 500);
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${spec.name}: ${message}; stdout: ${JSON.stringify(seen.slice(0, 300))}; stderr: ${JSON.stringify(stderrTail)}`);
  }
  // Keep reading (and discarding) the banner's stream: it may log every open and close.
  void drainReader(stdout);
  return { spec, pid: child.pid, port, stop: () => stopChild(child) };
}

async function drain(stream: ReadableStream<Uint8Array>, onText: (text: string) => void): Promise<void> {
  for await (const text of textChunks(stream)) onText(text);
}

async function drainReader(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done) {
      // discard
    }
  } catch {
    // The process went away.
  }
}
