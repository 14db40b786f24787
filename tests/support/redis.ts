/**
 * Test harness for Redis: a real `redis-server` (Debian's, installed by
 * scripts/setup.sh) on a free 127.0.0.1 port, in a temporary directory,
 * without persistence. Owns starting it, knowing when it answers, stopping
 * and restarting it on the same port (to test a broker outage), and cleaning
 * up: every server this module started is killed when the test process exits,
 * even if a test forgot `stop()`.
 */
import { spawn, type Subprocess } from "bun";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where Debian's redis-server package puts the binary. */
export const redisServerPath = "/usr/bin/redis-server";

/** How long a fresh redis-server may take to answer PING. */
const startTimeoutMs = 5_000;
/** How long a stopped redis-server gets to exit after SIGTERM before SIGKILL. */
const stopGraceMs = 2_000;
/** Pause between PING attempts while waiting for the server. */
const pingRetryMs = 25;
/** How long one PING may take. */
const pingTimeoutMs = 500;
/** Free ports tried if another process takes the one we picked before redis binds it. */
const portAttempts = 3;

/** A running redis-server for tests. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT`, for `--redis`. */
  readonly url: string;
  readonly port: number;
  /** Pid of the current redis-server process (changes on restart). */
  readonly pid: number;
  /** Stops it (SIGTERM, SIGKILL after 2 s) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
  /** Kills it (SIGKILL: an outage, not a clean shutdown), then starts a fresh, empty one on the same port. */
  restart(): Promise<void>;
  /** True if it answers PING now. */
  ping(): Promise<boolean>;
}

/** Every redis-server process still running, killed on exit as a last resort. */
const running = new Set<Subprocess>();
process.once("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

/** Starts a redis-server on a free loopback port and resolves once it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  if (!existsSync(redisServerPath)) {
    throw new Error(`${redisServerPath} not found: the Redis tests need Debian's redis-server; run npm test: scripts/setup.sh installs it`);
  }
  const dir = mkdtempSync(join(tmpdir(), "skyport-redis-"));
  let lastError: unknown;
  for (let attempt = 0; attempt < portAttempts; attempt++) {
    const port = freePort();
    try {
      return await wrap(await launch(port, dir), port, dir);
    } catch (error) {
      lastError = error;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

function wrap(first: Subprocess, port: number, dir: string): RedisServer {
  let proc: Subprocess | null = first;
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    port,
    get pid() {
      return proc?.pid ?? -1;
    },
    async stop() {
      if (proc) await terminate(proc, "SIGTERM");
      proc = null;
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      if (proc) await terminate(proc, "SIGKILL");
      proc = null;
      proc = await launch(port, dir);
    },
    ping: () => ping(port),
  };
}

/** Spawns redis-server on `port` and waits for PING; kills it and throws with its log if it does not answer. */
async function launch(port: number, dir: string): Promise<Subprocess> {
  const logFile = join(dir, "redis.log");
  const proc = spawn(
    [redisServerPath, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", logFile, "--daemonize", "no"],
    { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
  );
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline && proc.exitCode === null && proc.signalCode === null) {
    if (await ping(port)) return proc;
    await Bun.sleep(pingRetryMs);
  }
  const why = proc.exitCode !== null || proc.signalCode !== null ? "exited" : `did not answer PING within ${startTimeoutMs} ms`;
  await terminate(proc, "SIGKILL");
  const log = existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").slice(-5).join("\n") : "(no log)";
  throw new Error(`redis-server on 127.0.0.1:${port} ${why}; its log ends with:\n${log}`);
}

/** Sends `signal`, then SIGKILL if it is still running after `stopGraceMs`; resolves once it has exited. */
async function terminate(proc: Subprocess, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill("SIGKILL"), stopGraceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** True if a Redis on 127.0.0.1:`port` answers PING with +PONG within `pingTimeoutMs`. */
async function ping(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let reply = "";
    let done = false;
    const finish = (answer: boolean, socket?: { end(): void }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket?.end();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(false), pingTimeoutMs);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (socket) => void socket.write("PING\r\n"),
        data(socket, chunk) {
          reply += new TextDecoder().decode(chunk);
          if (reply.includes("\r\n")) finish(reply.startsWith("+PONG"), socket);
        },
        close: () => finish(false),
        error: () => finish(false),
        connectError: () => finish(false),
      },
    }).catch(() => finish(false));
  });
}

/** A port that was free a moment ago: bind port 0, note the number, release it. */
function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}
