/**
 * The servers under test (skyport and the reference implementations) and
 * how to start and stop one pinned to a CPU core.
 *
 * Owns: each server's command line, the gorilla build into a temporary
 * directory, the `taskset` pinning, reading the `... listening on HOST:PORT`
 * banner, and draining the server's output so that logging never blocks it.
 * It does not measure anything; scenarios do.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawnChild, stopChild } from "./children.ts";
import { textChunks } from "./streams.ts";

/** Repository root: bench/ lives directly under it. */
export const repoRoot = resolve(import.meta.dir, "..");

/** What a server can be benchmarked for. Fan-out ("publish") servers come with the drone endpoint. */
export type Role = "echo" | "publish";

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
];
/** Upper bound on `server.ts --help`. */
const helpTimeoutMilliseconds = 15_000;

export interface ServerSpec {
  /** Short name used on the command line and in results: skyport, bun, node, gorilla. */
  name: string;
  /** What the server is, for the table and chart. */
  label: string;
  /** The WebSocket path for each role this server plays. */
  paths: Partial<Record<Role, string>>;
  /** Resolves the command line (building it if needed), or says why the server cannot run here. */
  prepare(workDir: string): Promise<{ cmd: string[] } | { skip: string }>;
}

const bun = process.execPath;
const listenFlag = ["--addr", "127.0.0.1:0"];

export const serverSpecs: readonly ServerSpec[] = [
  {
    name: "skyport",
    label: "skyport",
    paths: { echo: "/echo" },
    prepare: prepareSkyport,
  },
  {
    name: "bun",
    label: "bare Bun.serve",
    paths: { echo: "/" },
    prepare: async () => ({ cmd: [bun, "run", join(repoRoot, "bench/reference/bun-echo.ts"), ...listenFlag] }),
  },
  {
    name: "node",
    label: "Node + ws",
    paths: { echo: "/" },
    prepare: async () => {
      const node = Bun.which("node");
      if (!node) return { skip: "node not found on PATH" };
      return { cmd: [node, join(repoRoot, "bench/reference/node-ws-echo.mjs"), ...listenFlag] };
    },
  },
  {
    name: "gorilla",
    label: "Go + gorilla",
    paths: { echo: "/" },
    prepare: buildGorilla,
  },
];

/** skyport's command line, with the admission-limit flags this version of server.ts knows. */
async function prepareSkyport(): Promise<{ cmd: string[] } | { skip: string }> {
  const entry = join(repoRoot, "server.ts");
  const child = spawnChild([bun, "run", entry, "--help"], { cwd: repoRoot });
  const timer = setTimeout(() => child.kill("SIGKILL"), helpTimeoutMilliseconds);
  const [code, help, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout as ReadableStream).text(),
    new Response(child.stderr as ReadableStream).text(),
  ]);
  clearTimeout(timer);
  if (code !== 0) return { skip: `server.ts --help failed (exit ${code}): ${stderr.trim().split("\n").slice(0, 3).join(" | ")}` };
  const limits = skyportLimitFlags.filter(([flag]) => new RegExp(`${flag}\\b(?!-)`).test(help)).flat();
  return { cmd: [bun, "run", entry, ...listenFlag, ...limits] };
}

/** Builds bench/reference/gorilla-echo into `workDir` in GOPATH mode (no module downloads). */
async function buildGorilla(workDir: string): Promise<{ cmd: string[] } | { skip: string }> {
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
  return { cmd: [binary, ...listenFlag] };
}

/** A server started by `startServer`. `pid` is the server process itself (taskset execs it). */
export interface RunningServer {
  spec: ServerSpec;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Starts `cmd` pinned to `core` and waits for its banner. */
export async function startServer(spec: ServerSpec, cmd: string[], core: number): Promise<RunningServer> {
  const child = spawnChild(["taskset", "-c", String(core), ...cmd], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
  let stderrTail = "";
  void drain(child.stderr as ReadableStream<Uint8Array>, (text) => {
    stderrTail = (stderrTail + text).slice(-stderrTailBytes);
  });
  const stdout = (child.stdout as ReadableStream<Uint8Array>).getReader();
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
  // Keep reading (and discarding) stdout: skyport logs every open and close.
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
