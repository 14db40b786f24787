/**
 * Test harness for ArduPilot's ArduCopter SITL (`../shared/sitl` beside the
 * clone; see its README.md): the real autopilot as a child of the test
 * process, in a fresh temporary directory (default parameters), MAVLink on a
 * free TCP port. Owns starting it, knowing when its port listens, stopping it
 * and cleaning up; SITL exits on its own if the test process dies (it watches
 * its parent), and every instance is SIGKILLed on exit as a last resort.
 * `sitlServerSuite` gives a test file SITL flown as `copter` by a real
 * `server.ts --mavlink`.
 */
import { spawn, type Subprocess } from "bun";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, spawnServer, type ServerProcess } from "./server.ts";

/** Where CI keeps the SITL build: beside the clone, as `../shared/sitl`. */
export const sitlDir = join(repoRoot, "..", "shared", "sitl");
export const sitlBinary = join(sitlDir, "arducopter");
/** ArduPilot's autotest home (CMAC, Canberra): lat, lon, altitude MSL, heading. */
export const sitlHome = { lat: -35.363261, lon: 149.16523, altitudeMetres: 584, heading: 353 };

/** Why the SITL tests skip, or null when they can run. */
export function sitlMissing(): string | null {
  return existsSync(sitlBinary) ? null : `ArduCopter SITL not found at ${sitlBinary}: the SITL tests skip (CI keeps it beside the clone as ../shared/sitl)`;
}

/** How long SITL may take to listen on its MAVLink port (≈0.2 s measured). */
const listenTimeoutMs = 10_000;
/** Free ports tried if another process takes the one picked before SITL binds it. */
const portAttempts = 3;

export interface Sitl {
  /** SERIAL0's TCP port: `tcp:127.0.0.1:PORT`. */
  readonly port: number;
  readonly pid: number;
  /** Every line SITL printed. */
  readonly output: string[];
  /** SIGTERM, SIGKILL after 2 s; removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const running = new Set<Subprocess>();
process.once("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

/** Starts ArduCopter SITL (speed-up 1: real time, as a real aircraft) and resolves once its TCP ports listen. */
export async function startSitl(): Promise<Sitl> {
  let lastError: unknown;
  for (let attempt = 0; attempt < portAttempts; attempt++) {
    try {
      return await launch(freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * SITL's ports come from below Linux's ephemeral range (32768-60999): SITL
 * binds without SO_REUSEADDR, so a port some client socket of another test
 * left in TIME_WAIT (tens of thousands of them on a busy CI machine) makes its
 * bind fail; client sockets never take ports below that range.
 */
const portRange = { from: 20_000, to: 32_000 } as const;
/** SITL's TCP ports: SERIAL0 at the base, SERIAL1 and SERIAL2 at +2 and +3. */
const sitlPortOffsets = [0, 2, 3] as const;

/** A base port whose SITL ports are all free now, picked at random below the ephemeral range. */
function freePort(): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = portRange.from + Math.floor(Math.random() * (portRange.to - portRange.from));
    if (sitlPortOffsets.every((offset) => canBind(base + offset))) return base;
  }
  throw new Error(`no free SITL base port between ${portRange.from} and ${portRange.to} in 50 tries`);
}

function canBind(port: number): boolean {
  try {
    Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
}

async function launch(port: number): Promise<Sitl> {
  const dir = mkdtempSync(join(tmpdir(), "skyport-sitl-"));
  const home = `${sitlHome.lat},${sitlHome.lon},${sitlHome.altitudeMetres},${sitlHome.heading}`;
  const proc = spawn(
    [sitlBinary, "--model", "+", "--speedup", "1", "--defaults", join(sitlDir, "copter.parm"), "--base-port", String(port), "-I0", "--serial0", "tcp:0", "--home", home],
    { cwd: dir, stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  const output: string[] = [];
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 2000);
      await proc.exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // SITL prints its binds on stderr; SERIAL2 (port + 3) binds last, and a failed bind exits.
  const listening = new RegExp(`^SERIAL2 on TCP port ${port + 3}$`);
  const listened = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), listenTimeoutMs);
    (async () => {
      const decoder = new TextDecoder();
      let buffered = "";
      const reader = proc.stderr.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        buffered += decoder.decode(read.value, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf("\n")) !== -1) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          output.push(line);
          if (listening.test(line)) {
            clearTimeout(timer);
            resolve(true);
          }
        }
      }
      clearTimeout(timer);
      resolve(false);
    })();
  });
  if (!listened) {
    await stop();
    throw new Error(`ArduCopter SITL did not listen on TCP ${port} within ${listenTimeoutMs} ms; it printed:\n${output.slice(-10).join("\n")}`);
  }
  return { port, pid: proc.pid, output, stop };
}

/** SITL flown as `copter` by a real `server.ts --mavlink`, for one test file (see `sitlServerSuite`). */
export interface SitlServerSuite {
  /** Why the file's tests skip, or null when SITL is here. */
  readonly missing: string | null;
  /** The running autopilot (only inside a test that did not skip). */
  readonly sitl: Sitl;
  /** The skyport flying it (only inside a test that did not skip). */
  readonly server: ServerProcess;
  /** Stops the skyport (SIGTERM, waits for it) and starts a fresh one on the same autopilot. */
  restartServer(): Promise<ServerProcess>;
}

/**
 * Starts ArduCopter SITL and a skyport flying it as `copter` before a test
 * file's tests, stops both after them, and warns once (one line) when SITL
 * is missing so the tests can skip with `test.skipIf(suite.missing !== null)`.
 */
export function sitlServerSuite(
  hooks: { beforeAll(fn: () => unknown): void; afterAll(fn: () => unknown): void },
  /** `vehicleOptions` appended to the `--mavlink` URL (`,fence=upload`), `args` more server flags. */
  extra: { vehicleOptions?: string; args?: () => string[] } = {},
): SitlServerSuite {
  const missing = sitlMissing();
  if (missing !== null) console.warn(missing);
  let sitl: Sitl | undefined;
  let server: ServerProcess | undefined;
  const startServer = async () => (server = await spawnServer(["--mavlink", `copter=tcp:127.0.0.1:${sitl!.port}${extra.vehicleOptions ?? ""}`, ...(extra.args?.() ?? [])]));
  const stopServer = async () => {
    server?.proc.kill("SIGTERM");
    await server?.exited;
  };
  hooks.beforeAll(async () => {
    if (missing !== null) return;
    sitl = await startSitl();
    await startServer();
  });
  hooks.afterAll(async () => {
    await stopServer();
    await sitl?.stop();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not running: use it only inside a test that does not skip`);
    return value;
  };
  return {
    missing,
    get sitl() {
      return started(sitl, "SITL");
    },
    get server() {
      return started(server, "skyport");
    },
    async restartServer() {
      await stopServer();
      return startServer();
    },
  };
}
