/**
 * `--workers N` (src/edge/workers.ts): the supervisor and its workers as real
 * processes sharing one port, with a real redis-server. The pure pieces
 * (restart budget, node ids, line tagging, the report) are tests/unit/workers.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type Subprocess } from "bun";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseListeningPort } from "../../src/edge/banner.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { collectLines, repoRoot } from "../support/server.ts";
import { Inbox, openSocket, waitUntil } from "../support/sockets.ts";

/** A real `server.ts --workers` process, with every stdout and stderr line it printed so far. */
interface Supervisor {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  stdout: string[];
  stderr: string[];
  exited: Promise<number>;
  /** Resolves once both streams are fully read. */
  outputDone: Promise<void>;
  http(path: string): string;
  ws(path: string): string;
}

/** Supervisors and worker pids to kill after the tests, whatever happened. */
const spawned: Supervisor[] = [];
const pidsSeen = new Set<number>();
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const server of spawned) server.proc.kill("SIGKILL");
  for (const pid of pidsSeen) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await redis?.stop();
});

/** Starts `server.ts --workers 2 --redis <test redis> --addr 127.0.0.1:0` and waits for its whole banner. */
async function startSupervisor(extraArgs: string[] = []): Promise<Supervisor> {
  const proc = spawn(
    [process.execPath, "run", join(repoRoot, "server.ts"), "--addr", "127.0.0.1:0", "--workers", "2", "--redis", redis.url, ...extraArgs],
    { cwd: repoRoot, stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const stdout: string[] = [];
  const stderr: string[] = [];
  const outputDone = Promise.all([collectLines(proc.stdout, stdout), collectLines(proc.stderr, stderr)]).then(() => {});
  const partial: Supervisor = { proc, port: 0, stdout, stderr, exited: proc.exited, outputDone, http: () => "", ws: () => "" };
  spawned.push(partial);
  await waitUntil(() => workersLine(partial) !== undefined || proc.exitCode !== null, 30_000, "the supervisor's banner");
  if (workersLine(partial) === undefined) throw new Error(`supervisor exited ${proc.exitCode}:\n${stdout.join("\n")}\n${stderr.join("\n")}`);
  const bannerStart = stderr.find((line) => line.startsWith("skyport listening on")) ?? "";
  const port = parseListeningPort(bannerStart);
  if (port === null) throw new Error(`the banner does not start with "skyport listening on": ${stderr.join("\n")}`);
  for (const pid of workerPids(partial)) pidsSeen.add(pid);
  return Object.assign(partial, {
    port,
    http: (path: string) => `http://127.0.0.1:${port}${path}`,
    ws: (path: string) => `ws://127.0.0.1:${port}${path}`,
  });
}

function workersLine(server: Supervisor): string | undefined {
  return server.stderr.find((line) => /^ {2}workers /.test(line));
}

/** The worker pids the supervisor's banner lists. */
function workerPids(server: Supervisor): number[] {
  const match = /pids ([\d, ]+) \(supervisor \d+\)$/.exec(workersLine(server) ?? "");
  return match ? match[1]!.split(", ").map(Number) : [];
}

/** The pid that answers GET /healthz on a fresh connection. */
async function healthPid(server: Supervisor): Promise<number> {
  const response = await fetch(server.http("/healthz"), { headers: { Connection: "close" } });
  const pid = ((await response.json()) as { pid: number }).pid;
  pidsSeen.add(pid);
  return pid;
}

/** Asks /healthz on fresh connections until every pid in `wanted` answered, or `maxTries` ran out. */
async function answeringPids(server: Supervisor, wanted: (seen: Set<number>) => boolean, maxTries = 200): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < maxTries && !wanted(seen); i++) {
    try {
      seen.add(await healthPid(server));
    } catch {
      // a worker that was just killed may reset the connection; ask again
    }
  }
  return seen;
}

/** True while `pid` is a process that has not exited (a zombie counts as exited). */
function isRunning(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    const state = readFileSync(stat, "utf8").replace(/^.*\) /s, "")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Supervisor JSON log lines on stdout with the given event. */
function events(server: Supervisor, event: string, stream: "stdout" | "stderr" = "stdout"): Array<Record<string, unknown>> {
  return server[stream].filter((line) => line.startsWith("{")).map((line) => JSON.parse(line)).filter((fields) => fields.event === event);
}

describe("server.ts --workers 2 --redis", () => {
  let server: Supervisor;
  let killedWorker = 0;
  beforeAll(async () => {
    server = await startSupervisor(["--node-id", "test-node"]);
  }, 40_000);

  test("prints one banner on stderr, in the usual format, that names two worker pids; stdout is JSON lines", () => {
    expect(server.stderr.filter((line) => line.startsWith("skyport listening on")).length).toBe(1);
    expect(server.stderr.filter((line) => line.startsWith("  page ")).length).toBe(1);
    expect(server.stderr.find((line) => line.startsWith("skyport listening on"))).toBe(`skyport listening on 127.0.0.1:${server.port}`);
    for (const line of server.stdout) expect(() => JSON.parse(line)).not.toThrow();
    expect(JSON.parse(server.stdout[0]!)).toMatchObject({ event: "listening", port: server.port, workers: workerPids(server) });
    const pids = workerPids(server);
    expect(pids.length).toBe(2);
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(server.proc.pid);
  });

  test("each worker gets <node-id>-w<index>", () => {
    const pids = workerPids(server);
    pids.forEach((pid, index) => {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      expect(argv.slice(-3, -1)).toEqual(["--node-id", `test-node-w${index}`]);
    });
  });

  test("both workers answer /healthz on the shared port", async () => {
    const pids = workerPids(server);
    const seen = await answeringPids(server, (seen) => pids.every((pid) => seen.has(pid)));
    expect([...seen].sort()).toEqual([...pids].sort());
  }, 20_000);

  test("WebSocket /echo works through either worker, and their log lines carry the worker index", async () => {
    const sockets = await Promise.all(Array.from({ length: 6 }, () => openSocket(server.ws("/echo"))));
    const inboxes = sockets.map((ws) => new Inbox(ws));
    sockets.forEach((ws, i) => ws.send(`hello ${i}`));
    for (const [i, inbox] of inboxes.entries()) expect(await inbox.next()).toBe(`hello ${i}`);
    for (const ws of sockets) ws.close(1000);
    await Promise.all(inboxes.map((inbox) => inbox.waitClose()));
    await waitUntil(() => events(server, "ws_close").length >= 6, 5000, "six ws_close lines");
    for (const line of events(server, "ws_open")) expect([0, 1]).toContain(line.worker as number);
  }, 20_000);

  test("a worker killed with SIGKILL is replaced by a new process on the same port", async () => {
    const [victim, survivor] = workerPids(server) as [number, number];
    process.kill(victim, "SIGKILL");
    await waitUntil(() => events(server, "worker_started").length > 0, 15_000, "a worker_started line");
    const replacement = events(server, "worker_started")[0]!.pid as number;
    pidsSeen.add(replacement);
    expect(replacement).not.toBe(victim);
    const seen = await answeringPids(server, (seen) => seen.has(replacement) && seen.has(survivor));
    expect(seen.has(replacement)).toBe(true);
    expect(seen.has(survivor)).toBe(true);
    expect(seen.has(victim)).toBe(false);
    killedWorker = victim;
  }, 30_000);

  test("SIGTERM stops every worker and the supervisor exits 0", async () => {
    const workers = [...pidsSeen].filter(isRunning);
    expect(workers.length).toBe(2);
    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    for (const pid of workers) expect(isRunning(pid)).toBe(false);
    await expect(fetch(server.http("/healthz"))).rejects.toThrow();
    // The supervisor warned about the killed worker on stderr.
    await server.outputDone;
    expect(events(server, "worker_exit", "stderr")).toEqual([expect.objectContaining({ worker: 0, pid: killedWorker, exit: "signal SIGKILL" })]);
  }, 15_000);
});

test("workers leave on their own when the supervisor is killed with SIGKILL", async () => {
  const server = await startSupervisor();
  const pids = workerPids(server);
  server.proc.kill("SIGKILL");
  await server.exited;
  await waitUntil(() => pids.every((pid) => !isRunning(pid)), 10_000, "every worker gone");
}, 40_000);

test("a worker that keeps dying stops the supervisor with exit 1 after 5 restarts", async () => {
  const server = await startSupervisor();
  let pid = workerPids(server)[1]!;
  for (let restarts = 0; restarts < 5; restarts++) {
    process.kill(pid, "SIGKILL");
    await waitUntil(() => events(server, "worker_started").length > restarts, 15_000, `restart ${restarts + 1}`);
    pid = events(server, "worker_started")[restarts]!.pid as number;
    pidsSeen.add(pid);
    expect(events(server, "worker_started")[restarts]).toMatchObject({ worker: 1 });
  }
  process.kill(pid, "SIGKILL");
  expect(await server.exited).toBe(1);
  await server.outputDone;
  expect(events(server, "worker_exit", "stderr").length).toBe(6);
  expect(events(server, "worker_restart_limit", "stderr")).toEqual([
    expect.objectContaining({ worker: 1, message: "worker 1 died 6 times within 60 s; stopping every worker" }),
  ]);
  for (const workerPid of pidsSeen) expect(isRunning(workerPid)).toBe(false);
}, 60_000);

test("--workers 2 without --redis exits 2 and says why", async () => {
  const env = { ...process.env };
  delete env.REDIS_URL;
  const proc = spawn([process.execPath, "run", join(repoRoot, "server.ts"), "--workers", "2", "--addr", "127.0.0.1:0"], {
    cwd: repoRoot,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toContain("skyport: --workers 2 needs --redis");
}, 10_000);
