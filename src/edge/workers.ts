/**
 * `--workers N`: one supervisor process and N server processes sharing a port.
 *
 * Owns both sides of that contract, which runs over Bun's IPC channel
 * (`Bun.spawn({ ipc })` and `process.send`). The supervisor starts the
 * workers (the first one alone, to learn the port when it was 0), learns from
 * each worker's `{listening}` report that it serves, prints one banner,
 * forwards the workers' log lines tagged with their index, restarts a worker
 * that dies (with backoff, within a budget), and on SIGTERM/SIGINT forwards
 * the signal and waits for every worker. The worker side is how a process
 * knows it is a worker, its node id, its report, and leaving when the IPC
 * channel closes (its supervisor is gone).
 *
 * Linux only: the workers share the port with `reusePort` (SO_REUSEPORT, set
 * by `src/edge/app.ts` when `config.workers > 1`) and the kernel spreads new
 * connections over them. Nothing here talks to Redis: every worker gets the
 * supervisor's own flags and environment, `--redis` included (the banner
 * only names it).
 */
import type { Subprocess } from "bun";
import { bannerLines, clusterLine, startupWarnings } from "./banner.ts";
import { maxNodeIdLength, type Config } from "./config.ts";
import { settlesWithin } from "./deadline.ts";
import { redactedUrl } from "../runtime/cluster/redis-link.ts";
import type { Logger } from "../runtime/observability/log.ts";

/** Set in a worker's environment to its index, 0 to N-1: its presence is what makes a process a worker. */
export const workerIndexEnv = "SKYPORT_WORKER_INDEX";

/** How long one worker may take from spawn to its `{listening}` report. */
const workerStartupTimeoutMs = 20_000;
/** Restarts allowed per worker within `restartWindowMs`; one more and the supervisor gives up. */
const maxRestartsPerWindow = 5;
/** The window over which restarts are counted, ms. */
const restartWindowMs = 60_000;
/** Delay before the first restart in a window, ms; it doubles with each further restart in the window. */
const restartBackoffBaseMs = 100;
/** Longest delay before a restart, ms. */
const restartBackoffMaxMs = 5_000;
/** After forwarding SIGTERM/SIGINT, how long workers get to drain (they exit by themselves within 4.5 s). */
const stopGraceMs = 5_000;
/** After SIGKILL, how long to wait for the kernel to report the exits. */
const killWaitMs = 2_000;
/** After the workers exit, how long to wait for the rest of their output to be forwarded. */
const outputDrainMs = 1_000;

/** Exit codes of the supervisor. */
const exitClean = 0;
const exitFailure = 1;

/** What a worker tells its supervisor over IPC once it serves. */
export interface WorkerReport {
  /** The port it listens on. */
  listening: number;
  /** Its page URL, for the banner. */
  url: string;
  /** Its node id in the cluster, or null when it runs without one. */
  nodeId: string | null;
}

/** Whether an IPC message is a well-formed `WorkerReport`. */
export function isWorkerReport(message: unknown): message is WorkerReport {
  if (typeof message !== "object" || message === null) return false;
  const { listening, url, nodeId } = message as Record<string, unknown>;
  return Number.isInteger(listening) && typeof url === "string" && (typeof nodeId === "string" || nodeId === null);
}

/** True in a process the supervisor started as a worker. */
export function isWorker(env: Record<string, string | undefined> = process.env): boolean {
  return env[workerIndexEnv] !== undefined;
}

/**
 * A worker's node id: `<node-id>-w<index>` when `--node-id` was given, else
 * null, which lets every worker default to its own `<hostname>-<pid>`.
 */
export function workerNodeId(baseNodeId: string | null, index: number): string | null {
  return baseNodeId === null ? null : `${baseNodeId}-w${index}`;
}

/** Why the workers' node ids would be invalid, or null when they are fine. */
export function workerNodeIdProblem(config: Pick<Config, "nodeId" | "workers">): string | null {
  const longest = workerNodeId(config.nodeId, config.workers - 1);
  if (longest === null || longest.length <= maxNodeIdLength) return null;
  const allowed = maxNodeIdLength - (longest.length - config.nodeId!.length);
  return `--node-id must be at most ${allowed} characters with --workers ${config.workers} (each worker appends -w<index>): received ${config.nodeId!.length}`;
}

/** `host:port` for `--addr`, with brackets around an IPv6 host. */
export function formatAddr(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Marks a worker's output line with its index: JSON log lines get a
 * `"worker"` field first (they stay one JSON object per line), anything else
 * a `[worker i]` prefix.
 */
export function tagWorkerLine(line: string, index: number): string {
  return line.startsWith('{"') ? `{"worker":${index},${line.slice(1)}` : `[worker ${index}] ${line}`;
}

/**
 * How often one worker may be restarted: at most `maxRestarts` within any
 * `windowMs`, each after a backoff that doubles with the restarts already in
 * the window. Pure: the caller passes the time.
 */
export class RestartBudget {
  /** Times of the restarts still inside the window, oldest first. */
  private readonly recent: number[] = [];

  constructor(
    readonly maxRestarts = maxRestartsPerWindow,
    readonly windowMs = restartWindowMs,
  ) {}

  /** Spends one restart at `nowMs`: the delay before it in ms, or null when the budget is spent. */
  spend(nowMs: number): number | null {
    while (this.recent.length > 0 && nowMs - this.recent[0]! >= this.windowMs) this.recent.shift();
    if (this.recent.length >= this.maxRestarts) return null;
    const delayMs = Math.min(restartBackoffBaseMs * 2 ** this.recent.length, restartBackoffMaxMs);
    this.recent.push(nowMs);
    return delayMs;
  }
}

/**
 * In a worker: tells the supervisor that this worker serves, and shuts the
 * worker down (as SIGTERM would) once the IPC channel closes, i.e. the
 * supervisor is gone, even killed with SIGKILL. Call it after the SIGTERM
 * handler is installed.
 */
export function reportToSupervisor(report: WorkerReport, logger: Logger): void {
  if (!process.send) throw new Error(`this process has ${workerIndexEnv} set but no IPC channel: only the supervisor starts workers`);
  process.once("disconnect", () => {
    logger.warn({ event: "supervisor_gone" });
    process.kill(process.pid, "SIGTERM");
  });
  process.send(report);
}

/**
 * Runs the supervisor for `config.workers` workers, each running
 * `selfCommand` (the command that serves again: runtime, script, subcommand)
 * with the same `argv`. Resolves with the exit code once every worker has
 * exited: 0 after SIGTERM/SIGINT, 1 if the workers could not start or one
 * died more often than its restart budget allows. Check
 * `workerNodeIdProblem(config)` first.
 *
 * @example process.exit(await superviseWorkers(config, argv, consoleLogger, [process.execPath, "server.ts"]));
 */
export async function superviseWorkers(config: Config, argv: readonly string[], logger: Logger, selfCommand: readonly string[]): Promise<number> {
  return new Supervisor(config, argv, selfCommand, logger).run();
}

/** One running worker process and what the supervisor learns from it. */
interface WorkerProcess {
  index: number;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Resolves with the worker's report; rejects if it exits or times out first. */
  listening: Promise<WorkerReport>;
  /** Resolves once all of the worker's output has been forwarded. */
  outputDone: Promise<void>;
}

/** A worker position (index) across restarts. */
interface WorkerSlot {
  index: number;
  current: WorkerProcess | null;
  budget: RestartBudget;
  restartTimer: ReturnType<typeof setTimeout> | null;
}

type Phase = "starting" | "running" | "stopping";

/** The supervisor's state. Invariant: each slot has at most one live process, `slot.current`. */
class Supervisor {
  private phase: Phase = "starting";
  private readonly slots: WorkerSlot[];
  /** `--addr` for every worker after the first has reported its port. */
  private sharedAddr: string | null = null;
  /** Workers' stdout lines held until the banner is out, so the banner comes first; null once printed. */
  private heldStdout: string[] | null = [];
  private readonly allOutput: Promise<void>[] = [];
  private readonly done = Promise.withResolvers<number>();

  constructor(
    private readonly config: Config,
    private readonly argv: readonly string[],
    private readonly selfCommand: readonly string[],
    private readonly logger: Logger,
  ) {
    this.slots = Array.from({ length: config.workers }, (_, index) => ({ index, current: null, budget: new RestartBudget(), restartTimer: null }));
  }

  async run(): Promise<number> {
    process.on("SIGTERM", () => void this.stop("SIGTERM", "SIGTERM", exitClean));
    process.on("SIGINT", () => void this.stop("SIGINT", "SIGINT", exitClean));
    // SIGHUP (a renewed TLS certificate, a rotated --jwt-keys file) is each worker's to act on.
    process.on("SIGHUP", () => {
      for (const worker of this.liveWorkers()) worker.proc.kill("SIGHUP");
    });
    let reports: WorkerReport[];
    try {
      const first = await this.start(this.slots[0]!).listening;
      this.sharedAddr = formatAddr(this.config.hostname, first.listening);
      if (this.phase !== "starting") return this.done.promise;
      const others = this.slots.slice(1).map((slot) => this.start(slot));
      reports = [first, ...(await Promise.all(others.map((worker) => worker.listening)))];
    } catch (error) {
      if (this.phase === "starting") {
        this.logger.error({ event: "workers_start_failed", message: error instanceof Error ? error.message : String(error) });
        void this.stop("workers could not start", "SIGTERM", exitFailure);
      }
      return this.done.promise;
    }
    if (this.phase !== "starting") return this.done.promise;
    this.phase = "running";
    this.printBanner(reports);
    return this.done.promise;
  }

  /** Spawns the worker for `slot`. */
  private start(slot: WorkerSlot): WorkerProcess {
    const args = [...this.selfCommand, ...this.argv];
    if (this.sharedAddr !== null) args.push("--addr", this.sharedAddr);
    const nodeId = workerNodeId(this.config.nodeId, slot.index);
    if (nodeId !== null) args.push("--node-id", nodeId);
    const started = Promise.withResolvers<WorkerReport>();
    started.promise.catch(() => {}); // handled by whoever awaits it; never an unhandled rejection
    const proc = Bun.spawn(args, {
      env: { ...process.env, [workerIndexEnv]: String(slot.index) },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      // Its own process group: a terminal's Ctrl-C reaches only the supervisor, which forwards it once.
      detached: true,
      // The worker reports `{listening}` here; when the supervisor dies the channel closes and the worker leaves.
      serialization: "json",
      ipc: (message) => {
        if (!isWorkerReport(message)) {
          this.logger.warn({ event: "worker_message_unknown", worker: slot.index, message: JSON.stringify(message)?.slice(0, 200) });
          return;
        }
        clearTimeout(timer);
        started.resolve(message);
      },
    });
    const timer = setTimeout(
      () => started.reject(new Error(`worker ${slot.index} (pid ${proc.pid}) did not start listening within ${workerStartupTimeoutMs} ms`)),
      workerStartupTimeoutMs,
    );
    const listening = started.promise;

    const onStdout = (line: string) => this.writeStdout(tagWorkerLine(line, slot.index));
    const onStderr = (line: string) => void process.stderr.write(`${tagWorkerLine(line, slot.index)}\n`);
    const outputDone = Promise.all([forEachLine(proc.stdout, onStdout), forEachLine(proc.stderr, onStderr)]).then(() => {});
    this.allOutput.push(outputDone);

    const worker: WorkerProcess = { index: slot.index, proc, listening, outputDone };
    slot.current = worker;
    void proc.exited.then(() => {
      clearTimeout(timer);
      started.reject(new Error(`worker ${slot.index} (pid ${proc.pid}) exited with ${describeExit(proc)} before listening`));
      this.onExit(slot, worker);
    });
    return worker;
  }

  /** A worker exited: while running that is unexpected, so restart it within its budget. */
  private onExit(slot: WorkerSlot, worker: WorkerProcess): void {
    if (this.phase !== "running" || slot.current !== worker) return;
    slot.current = null;
    const delayMs = slot.budget.spend(Date.now());
    this.logger.warn({ event: "worker_exit", worker: slot.index, pid: worker.proc.pid, exit: describeExit(worker.proc), restartInMs: delayMs });
    if (delayMs === null) {
      this.logger.error({
        event: "worker_restart_limit",
        worker: slot.index,
        message: `worker ${slot.index} died ${slot.budget.maxRestarts + 1} times within ${slot.budget.windowMs / 1000} s; stopping every worker`,
      });
      void this.stop("restart limit", "SIGTERM", exitFailure);
      return;
    }
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (this.phase !== "running") return;
      const replacement = this.start(slot);
      replacement.listening.then(
        () => this.logger.info({ event: "worker_started", worker: slot.index, pid: replacement.proc.pid }),
        (error: Error) => {
          // Exited before listening: its exit restarts it. Still running but silent: kill it, and that exit restarts it.
          if (replacement.proc.exitCode !== null || replacement.proc.signalCode !== null) return;
          this.logger.warn({ event: "worker_start_timeout", worker: slot.index, pid: replacement.proc.pid, message: error.message });
          replacement.proc.kill("SIGKILL");
        },
      );
    }, delayMs);
  }

  /**
   * Sends `signal` to every worker, waits for them (SIGKILL after
   * `stopGraceMs`), then resolves `run` with `exitCode`. A second call, e.g.
   * a second Ctrl-C, kills the workers at once.
   */
  private async stop(reason: string, signal: "SIGTERM" | "SIGINT", exitCode: number): Promise<void> {
    if (this.phase === "stopping") {
      for (const worker of this.liveWorkers()) worker.proc.kill("SIGKILL");
      return;
    }
    this.phase = "stopping";
    for (const slot of this.slots) if (slot.restartTimer !== null) clearTimeout(slot.restartTimer);
    const live = this.liveWorkers();
    this.logger.info({ event: "shutdown", reason, workers: live.map((worker) => worker.proc.pid) });
    for (const worker of live) worker.proc.kill(signal);
    const allExited = Promise.all(live.map((worker) => worker.proc.exited));
    if (!(await settlesWithin(allExited, stopGraceMs))) {
      const stuck = this.liveWorkers();
      this.logger.error({ event: "workers_killed", after: `${stopGraceMs} ms`, pids: stuck.map((worker) => worker.proc.pid) });
      for (const worker of stuck) worker.proc.kill("SIGKILL");
      await settlesWithin(allExited, killWaitMs);
    }
    await settlesWithin(Promise.all(this.allOutput), outputDrainMs);
    this.flushHeldStdout();
    this.done.resolve(exitCode);
  }

  private liveWorkers(): WorkerProcess[] {
    return this.slots.flatMap((slot) => (slot.current && slot.current.proc.exitCode === null && slot.current.proc.signalCode === null ? [slot.current] : []));
  }

  /** The one banner, from worker 0's URL and every worker's node, plus the worker pids; then any output held back meanwhile. */
  private printBanner(reports: readonly WorkerReport[]): void {
    const pids = this.slots.map((slot) => slot.current!.proc.pid);
    const cluster = this.config.redisUrl === null ? null : clusterLine(reports.flatMap((report) => report.nodeId ?? []), redactedUrl(this.config.redisUrl));
    const lines = bannerLines({ url: new URL(reports[0]!.url), drones: this.config.drones, cluster });
    lines.push(`  workers  ${pids.length} processes sharing the port: pids ${pids.join(", ")} (supervisor ${process.pid})`);
    this.logger.info({ event: "listening", url: reports[0]!.url, port: reports[0]!.listening, pid: process.pid, workers: pids });
    // People read the banner on stderr; stdout stays JSON lines only (src/runtime/observability/log.ts).
    process.stderr.write(`${lines.join("\n")}\n`);
    for (const warning of startupWarnings(this.config)) process.stderr.write(`${warning}\n`);
    this.flushHeldStdout();
  }

  private writeStdout(line: string): void {
    if (this.heldStdout !== null) this.heldStdout.push(line);
    else process.stdout.write(`${line}\n`);
  }

  private flushHeldStdout(): void {
    const held = this.heldStdout ?? [];
    this.heldStdout = null;
    if (held.length > 0) process.stdout.write(`${held.join("\n")}\n`);
  }
}

/** Calls `onLine` for every line of a stream (a last line without a newline included). */
async function forEachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  const reader = stream.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    buffered += decoder.decode(read.value, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      onLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  }
  buffered += decoder.decode();
  if (buffered !== "") onLine(buffered);
}

/** `code 1` or `signal SIGKILL`, for log lines. */
function describeExit(proc: Subprocess): string {
  return proc.signalCode !== null ? `signal ${proc.signalCode}` : `code ${proc.exitCode}`;
}
