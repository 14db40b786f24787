/**
 * The flight recorder's two figures (docs/recorder.md):
 * 1. write throughput of the recorder alone: frames per second through
 *    `Recorder.frame` and its writer, in batches the size one flush carries
 *    at 100 drones x 10 Hz (250 frames), into each store: SQLite on the main
 *    thread, SQLite on its worker thread (what `server.ts` runs), and
 *    PostgreSQL (a local `postgres` with its default durability, fsync on);
 *    with the CPU each costs per frame, this process's and PostgreSQL's;
 * 2. the tick of a spawned `server.ts` flying 10 drones, recording and with
 *    `--no-record`: the gaps between consecutive frames' server times, so a
 *    writer that stalls the event loop shows as late ticks.
 *
 * Usage: bun run bench/recorder.ts [--frames N] [--seconds S]
 * Owns nothing the server uses; writes only into temporary directories.
 */
import { spawn } from "bun";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { telemetryData } from "../src/core/telemetry/frames.ts";
import { restingAtHome } from "../src/core/vehicle/vehicle.ts";
import { Recorder } from "../src/runtime/recorder/recorder.ts";
import { openSqliteStore } from "../src/runtime/recorder/sqlite-store.ts";
import { openWorkerSqliteStore } from "../src/runtime/recorder/worker-store.ts";
import { openPostgresStore } from "../src/runtime/recorder/postgres-store.ts";
import type { RecorderStore } from "../src/runtime/recorder/store.ts";
import { collectingLogger } from "../src/runtime/observability/log.ts";
import { startPostgres } from "../tests/support/postgres.ts";

const repoRoot = join(import.meta.dir, "..");
/** Frames one flush carries at 100 drones x 10 Hz every 250 ms. */
const framesPerFlush = 250;
const drones = Array.from({ length: 100 }, (_, i) => `d${i}`);

/** One store the writer is measured against: how to open it, and the processes besides this one whose CPU it costs. */
interface StoreUnderTest {
  label: string;
  open(): Promise<RecorderStore>;
  /** Pids of the database server's processes (none for SQLite, which runs in this process). */
  serverPids(): number[];
  close(): Promise<void>;
}

/** What one store measured. */
interface WriterFigures {
  framesPerSecond: number;
  frames: number;
  /** CPU time per frame of this process (the recorder and, for SQLite, the database), µs. */
  clientCpuMicroseconds: number;
  /** CPU time per frame of the database server's processes, µs (0 for SQLite). */
  serverCpuMicroseconds: number;
}

/** Frames per second the recorder writes alone, airborne frames (every one kept), in flush-sized batches. */
async function writerThroughput(store: RecorderStore, serverPids: () => number[], totalFrames: number): Promise<WriterFigures> {
  let wallMs = Date.UTC(2026, 0, 1);
  const recorder = new Recorder(store, { recordHz: 10 }, collectingLogger(), { monotonicMs: () => wallMs, wallMs: () => wallMs });
  const state = { ...restingAtHome(), state: "hovering" as const, position: { x: 1, y: 2, z: 10 } };
  const seqs = new Map<string, number>();
  const cpuBefore = process.cpuUsage();
  const serverBefore = cpuTicks(serverPids());
  const started = performance.now();
  for (let written = 0; written < totalFrames; ) {
    for (let i = 0; i < framesPerFlush; i++, written++) {
      const drone = drones[written % drones.length]!;
      if (written % drones.length === 0) wallMs += 100;
      const seq = (seqs.get(drone) ?? -1) + 1;
      seqs.set(drone, seq);
      const data = telemetryData(drone, state, false, seq, { wallMs, nowSeconds: wallMs / 1000 }, "s-1");
      recorder.frame("e", data, JSON.stringify(data));
    }
    await recorder.flush();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const serverTicks = cpuTicks(serverPids()) - serverBefore;
  const frames = recorder.counters.framesWritten;
  await recorder.stop();
  return {
    framesPerSecond: Math.round(frames / seconds),
    frames,
    clientCpuMicroseconds: round1((cpu.user + cpu.system) / frames),
    serverCpuMicroseconds: round1((serverTicks * 1e6) / clockTicksPerSecond / frames),
  };
}

/** The kernel's clock ticks per second, the unit of /proc/PID/stat's CPU times (USER_HZ: 100 on Linux). */
const clockTicksPerSecond = 100;

/** CPU time used so far by `pids` and their children (a postmaster's backends), in clock ticks. */
function cpuTicks(pids: readonly number[]): number {
  let ticks = 0;
  const seen = new Set<number>();
  const visit = (pid: number) => {
    if (seen.has(pid)) return;
    seen.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean)) visit(Number(child));
    } catch {
      // The process ended between the two reads: what it used is gone with it.
    }
  };
  for (const pid of pids) visit(pid);
  return ticks;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** The stores measured: SQLite on this thread and on its worker, and a local PostgreSQL. */
function storesUnderTest(): StoreUnderTest[] {
  const sqlite = (label: string, open: (dir: string) => Promise<RecorderStore>): StoreUnderTest => {
    const dir = mkdtempSync(join(tmpdir(), "skyport-bench-recorder-"));
    return { label, open: () => open(dir), serverPids: () => [], close: async () => rmSync(dir, { recursive: true, force: true }) };
  };
  let postgres: Awaited<ReturnType<typeof startPostgres>> | null = null;
  return [
    sqlite("SQLite, main thread", async (dir) => openSqliteStore(dir)),
    sqlite("SQLite, worker thread (server.ts)", (dir) => openWorkerSqliteStore(dir)),
    {
      label: "PostgreSQL 15, local, fsync on",
      async open() {
        postgres = await startPostgres({ durable: true });
        return openPostgresStore(await postgres.createDatabase("bench"));
      },
      serverPids: () => (postgres === null ? [] : [postgres.pid]),
      close: async () => postgres?.stop(),
    },
  ];
}

/** Gaps between consecutive frames of one drone, ms, watched for `seconds` on a server started with `flags`. */
async function tickGaps(flags: string[], seconds: number): Promise<number[]> {
  const env = { ...process.env, SKYPORT_NO_RECORD: "true" };
  const proc = spawn([process.execPath, "run", join(repoRoot, "server.ts"), "--addr", "127.0.0.1:0", "--drones", Array.from({ length: 10 }, (_, i) => `d${i}`).join(","), ...flags], { env, stdout: "pipe", stderr: "ignore" });
  try {
    const reader = proc.stdout.getReader();
    let text = "";
    let port: number | null = null;
    while (port === null) {
      const read = await reader.read();
      if (read.done) throw new Error(`server exited: ${text}`);
      text += new TextDecoder().decode(read.value);
      port = Number(/listening on .*:(\d+)/.exec(text)?.[1] ?? NaN) || null;
    }
    const times: number[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${port}/drone?drone=d0`);
    ws.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      if (message.type === "telemetry") times.push(message.data.time);
    };
    await Bun.sleep(seconds * 1000);
    ws.close();
    return times.slice(1).map((time, i) => time - times[i]!);
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { frames: { type: "string", default: "100000" }, seconds: { type: "string", default: "10" } } });
  for (const store of storesUnderTest()) {
    try {
      const figures = await writerThroughput(await store.open(), store.serverPids, Number(values.frames));
      const perCore = Math.round(1e6 / (figures.clientCpuMicroseconds + figures.serverCpuMicroseconds));
      console.log(
        `writer alone (${store.label}, ${framesPerFlush}-frame batches): ${figures.framesPerSecond} frames/s over ${figures.frames} frames; ` +
          `CPU per frame ${figures.clientCpuMicroseconds} µs here + ${figures.serverCpuMicroseconds} µs in the database server: ${perCore} frames per CPU-second`,
      );
    } finally {
      await store.close();
    }
  }
  const seconds = Number(values.seconds);
  for (const [label, flags] of [
    ["--no-record", ["--no-record"]],
    ["recording", ["--no-record=false", "--data-dir", mkdtempSync(join(tmpdir(), "skyport-bench-tick-"))]],
  ] as const) {
    const gaps = await tickGaps([...flags], seconds);
    console.log(`10 drones at 10 Hz, ${label}: ${gaps.length} gaps, p50 ${percentile(gaps, 50)} ms, p99 ${percentile(gaps, 99)} ms, max ${Math.max(...gaps)} ms`);
    if (label === "recording") rmSync(flags[2]!, { recursive: true, force: true });
  }
}
