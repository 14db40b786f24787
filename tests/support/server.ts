/**
 * Test harness for servers: an in-process skyport on an ephemeral loopback
 * port, and real `server.ts` processes for signal and CLI tests.
 */
import { spawn, type Subprocess } from "bun";
import { join } from "node:path";
import { startServer, type RunningServer, type StartOptions } from "../../src/edge/app.ts";
import { parseListeningPort } from "../../src/edge/banner.ts";
import { defaultConfig, type Config } from "../../src/edge/config.ts";
import { collectingLogger } from "../../src/runtime/observability/log.ts";
import type { DroneState } from "../../src/core/drone/types.ts";
import { SimulatedVehicle } from "../../src/core/vehicle/simulated.ts";
import { sharedTileServer } from "./tile-server.ts";

export const repoRoot = join(import.meta.dir, "..", "..");

/** An in-process server on 127.0.0.1 with a free port and a collecting logger. */
function startOnLoopback(overrides: Partial<Config>, options: StartOptions) {
  const logger = collectingLogger();
  // The page's map asks the local tile fixture for its tiles, never the internet.
  const config: Config = { ...defaultConfig, hostname: "127.0.0.1", port: 0, mapTilesUrl: sharedTileServer().url, ...overrides };
  const running: RunningServer = startServer(config, { logger, ...options });
  const port = running.server.port!;
  return {
    ...running,
    config,
    logger,
    port,
    http: (path: string) => `http://127.0.0.1:${port}${path}`,
    ws: (path: string) => `ws://127.0.0.1:${port}${path}`,
  };
}

/** An in-process server with real timers: the simulation runs on its own (recording into `options.recording` when given). */
export function startTestServer(overrides: Partial<Config> = {}, options: Pick<StartOptions, "recording"> = {}) {
  return startOnLoopback(overrides, options);
}

/** A real `bun run server.ts` child process, listening on a free loopback port. */
export interface ServerProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  http(path: string): string;
  ws(path: string): string;
  /** Every stdout line so far: JSON log lines only. */
  output: string[];
  /** Every stderr line so far: the banner, warnings, and warn/error log lines. */
  stderr: string[];
  exited: Promise<number>;
}

/** Collects a stream's lines into `lines` as they arrive, calling `onLine` for each; resolves when the stream ends. */
export async function collectLines(stream: ReadableStream<Uint8Array>, lines: string[], onLine: (line: string) => void = () => {}): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  const reader = stream.getReader();
  const take = (line: string) => {
    lines.push(line);
    onLine(line);
  };
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    buffered += decoder.decode(read.value, { stream: true });
    const complete = buffered.split("\n");
    buffered = complete.pop()!;
    complete.forEach(take);
  }
  buffered += decoder.decode();
  if (buffered !== "") take(buffered);
}

/**
 * Runs a server command (`bun run server.ts …`, the CLI's `serve`, the binary) and resolves
 * once its banner, on stderr, names the port.
 */
export async function spawnServerCommand(command: string[], timeoutMs = 10_000, options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<ServerProcess> {
  // The page's map asks the local tile fixture for its tiles, never the internet (an env or flag given wins).
  const env = { SKYPORT_MAP_TILES: sharedTileServer().url, ...(options.env ?? process.env) };
  const proc = spawn(command, { cwd: options.cwd ?? repoRoot, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const output: string[] = [];
  const stderr: string[] = [];
  const listening = Promise.withResolvers<number>();
  const timer = setTimeout(() => listening.reject(new Error(`server did not start within ${timeoutMs} ms:\n${stderr.join("\n")}\n${output.join("\n")}`)), timeoutMs);
  void collectLines(proc.stdout, output);
  void collectLines(proc.stderr, stderr, (line) => {
    const port = parseListeningPort(line);
    if (port !== null) listening.resolve(port);
  }).then(() => listening.reject(new Error(`server exited before listening:\n${stderr.join("\n")}\n${output.join("\n")}`)));
  const port = await listening.promise.finally(() => clearTimeout(timer));
  return {
    proc,
    port,
    output,
    stderr,
    http: (path) => `http://127.0.0.1:${port}${path}`,
    ws: (path) => `ws://127.0.0.1:${port}${path}`,
    exited: proc.exited,
  };
}

/** Starts `server.ts` with extra flags and resolves once it prints its address. */
export function spawnServer(args: string[] = [], timeoutMs = 10_000): Promise<ServerProcess> {
  return spawnServerCommand([process.execPath, "run", join(repoRoot, "server.ts"), "--addr", "127.0.0.1:0", ...args], timeoutMs);
}

/**
 * An in-process server whose simulation runs on a fake clock: nothing moves
 * until the test calls `advance`, so drone tests never sleep.
 */
export function startSimServer(overrides: Partial<Config> = {}, options: Pick<StartOptions, "vehicles" | "keys" | "recording"> = {}) {
  let monotonicMs = 0;
  const wallStart = Date.UTC(2026, 0, 1);
  const clocks = { monotonicMs: () => monotonicMs, wallMs: () => wallStart + monotonicMs };
  const server = startOnLoopback(overrides, { clocks, autoStep: false, ...options });
  return {
    ...server,
    /** Advances the fake clock by `seconds`, one simulation step per telemetry period. */
    advance(seconds: number): void {
      const stepMs = 1000 / server.config.telemetryHz;
      const steps = Math.round((seconds * 1000) / stepMs);
      for (let i = 0; i < steps; i++) {
        monotonicMs += stepMs;
        server.flight.step();
      }
    },
  };
}

/** The whole model state of a simulated drone on a running server (task, limits, speed limit included), for "nothing changed" checks. */
export function simulatedModel(server: Pick<RunningServer, "flight">, id: string): DroneState {
  const vehicle = server.flight.fleet.vehicle(id);
  if (!(vehicle instanceof SimulatedVehicle)) throw new TypeError(`${id} is a ${vehicle.kind} vehicle, not a simulated one`);
  return vehicle.model;
}
