/**
 * Test harness for servers: an in-process skyport on an ephemeral loopback
 * port, and real `server.ts` processes for signal and CLI tests.
 */
import { spawn, type Subprocess } from "bun";
import { join } from "node:path";
import { startServer, type RunningServer, type StartOptions } from "../../src/edge/app.ts";
import { defaultConfig, type Config } from "../../src/edge/config.ts";
import { collectingLogger } from "../../src/runtime/observability/log.ts";
import type { DroneState } from "../../src/core/drone/types.ts";
import { SimulatedVehicle } from "../../src/core/vehicle/simulated.ts";

export const repoRoot = join(import.meta.dir, "..", "..");

/** An in-process server on 127.0.0.1 with a free port and a collecting logger. */
function startOnLoopback(overrides: Partial<Config>, options: StartOptions) {
  const logger = collectingLogger();
  const config: Config = { ...defaultConfig, hostname: "127.0.0.1", port: 0, ...overrides };
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

/** An in-process server with real timers: the simulation runs on its own. */
export function startTestServer(overrides: Partial<Config> = {}) {
  return startOnLoopback(overrides, {});
}

/** A real `bun run server.ts` child process, listening on a free loopback port. */
export interface ServerProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  http(path: string): string;
  ws(path: string): string;
  /** Every stdout line so far. */
  output: string[];
  exited: Promise<number>;
}

/** Starts `server.ts` with extra flags and resolves once it prints its address. */
export async function spawnServer(args: string[] = [], timeoutMs = 10_000): Promise<ServerProcess> {
  const proc = spawn([process.execPath, "run", join(repoRoot, "server.ts"), "--addr", "127.0.0.1:0", ...args], {
    cwd: repoRoot,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const output: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms: ${output.join("\n")}`)), timeoutMs);
    (async () => {
      const decoder = new TextDecoder();
      let buffered = "";
      const reader = proc.stdout.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        const chunk = read.value;
        buffered += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf("\n")) !== -1) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          output.push(line);
          const match = /^skyport listening on .*:(\d+)$/.exec(line);
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        }
      }
      clearTimeout(timer);
      reject(new Error(`server exited before listening: ${output.join("\n")} ${await remainingText(proc.stderr)}`));
    })();
  });
  return {
    proc,
    port,
    output,
    http: (path) => `http://127.0.0.1:${port}${path}`,
    ws: (path) => `ws://127.0.0.1:${port}${path}`,
    exited: proc.exited,
  };
}

/** What is left of a process's stream, or a note when a test has read it already (a stream is read once). */
async function remainingText(stream: ReadableStream<Uint8Array>): Promise<string> {
  if (stream.locked) return "(stderr is being read by the test)";
  try {
    return await new Response(stream).text();
  } catch {
    return "(stderr was read by the test)";
  }
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
