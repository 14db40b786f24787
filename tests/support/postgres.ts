/**
 * Test harness for PostgreSQL: a real `postgres` (Debian's, installed by
 * scripts/setup.sh) on a free 127.0.0.1 port, with its cluster in a
 * temporary directory, trust auth, no fsync. PostgreSQL refuses to run as
 * root, so as root it runs as the `postgres` user (`setpriv`). Owns
 * starting it, knowing when it answers, stopping it and removing the
 * directory; every server this module started is killed when the test
 * process exits, even if a test forgot `stop()`.
 */
import { spawn, spawnSync, SQL, type Subprocess } from "bun";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where Debian's postgresql package puts the server's binaries. */
export const postgresBinDir = "/usr/lib/postgresql/15/bin";

/** How long a fresh server may take to accept a query. */
const startTimeoutMs = 15_000;
/** How long a stopped server gets to exit after SIGINT (fast shutdown) before SIGKILL. */
const stopGraceMs = 5_000;
const retryMs = 50;
/** The database user the harness creates (trust auth on loopback). */
const user = "skyport";

export interface PostgresServer {
  /** `postgres://skyport@127.0.0.1:PORT/postgres`, for `--database`. */
  readonly url: string;
  readonly port: number;
  /** The postmaster's pid (its backends are its children). */
  readonly pid: number;
  /** A fresh empty database on this server; its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops it and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const running = new Set<Subprocess>();
process.once("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

/** The command prefix that runs a PostgreSQL binary as a user it accepts (not root). */
function asServerUser(): string[] {
  // setpriv execs the binary itself (no parent in between), so signals reach postgres directly.
  return process.getuid?.() === 0 ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : [];
}

/**
 * Starts a postgres on a free loopback port and resolves once it answers a
 * query. Tests run it with `fsync=off` (nothing they write must survive a
 * power cut); `durable: true` keeps PostgreSQL's defaults, for benchmarks.
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PostgresServer> {
  if (!existsSync(join(postgresBinDir, "postgres"))) {
    throw new Error(`${postgresBinDir}/postgres not found: the PostgreSQL tests need Debian's postgresql; run npm test: scripts/setup.sh installs it`);
  }
  const dir = mkdtempSync(join(tmpdir(), "skyport-postgres-"));
  const data = join(dir, "data");
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync(["id", "-u", "postgres"]).stdout.toString().trim());
    const gid = Number(spawnSync(["id", "-g", "postgres"]).stdout.toString().trim());
    chownSync(dir, uid, gid);
  }
  const init = spawnSync([...asServerUser(), join(postgresBinDir, "initdb"), "-D", data, "-U", user, "-A", "trust", "--no-sync", "-E", "UTF8"], { stdout: "pipe", stderr: "pipe" });
  if (init.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr.toString()}`);
  }
  const port = freePort();
  const log = join(dir, "postgres.log");
  const proc = spawn(
    [...asServerUser(), join(postgresBinDir, "postgres"), "-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", ...(options.durable ? [] : ["-c", "fsync=off"]), "-c", "logging_collector=off"],
    { stdin: "ignore", stdout: "ignore", stderr: Bun.file(log) },
  );
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  const url = `postgres://${user}@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGINT");
      const timer = setTimeout(() => proc.kill("SIGKILL"), stopGraceMs);
      await proc.exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + startTimeoutMs;
  while (!(await answers(url))) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      const tail = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").slice(-5).join("\n") : "(no log)";
      await stop();
      throw new Error(`postgres on 127.0.0.1:${port} did not answer within ${startTimeoutMs} ms; its log ends with:\n${tail}`);
    }
    await Bun.sleep(retryMs);
  }
  return {
    url,
    port,
    pid: proc.pid,
    async createDatabase(name) {
      const sql = new SQL(url);
      await sql.unsafe(`CREATE DATABASE "${name.replace(/"/g, "")}"`);
      await sql.close();
      return `postgres://${user}@127.0.0.1:${port}/${name}`;
    },
    stop,
  };
}

async function answers(url: string): Promise<boolean> {
  const sql = new SQL({ url, max: 1, connectionTimeout: 1 });
  try {
    await sql.unsafe("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await sql.close({ timeout: 0 }).catch(() => undefined);
  }
}

/** A port that was free a moment ago: bind port 0, note the number, release it. */
function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}
