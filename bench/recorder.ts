/**
 * The flight recorder's two figures (docs/recorder.md):
 * 1. write throughput of the recorder alone: frames per second through
 *    `Recorder.frame` and its SQLite writer, in batches the size one flush
 *    carries at 100 drones x 10 Hz (250 frames);
 * 2. the tick of a spawned `server.ts` flying 10 drones, recording and with
 *    `--no-record`: the gaps between consecutive frames' server times, so a
 *    writer that stalls the event loop shows as late ticks.
 *
 * Usage: bun run bench/recorder.ts [--frames N] [--seconds S]
 * Owns nothing the server uses; writes only into temporary directories.
 */
import { spawn } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { telemetryData } from "../src/core/telemetry/frames.ts";
import { restingAtHome } from "../src/core/vehicle/vehicle.ts";
import { Recorder } from "../src/runtime/recorder/recorder.ts";
import { openSqliteStore } from "../src/runtime/recorder/sqlite-store.ts";
import { collectingLogger } from "../src/runtime/observability/log.ts";

const repoRoot = join(import.meta.dir, "..");
/** Frames one flush carries at 100 drones x 10 Hz every 250 ms. */
const framesPerFlush = 250;
const drones = Array.from({ length: 100 }, (_, i) => `d${i}`);

/** Frames per second the recorder writes alone, airborne frames (every one kept), in flush-sized batches. */
async function writerThroughput(totalFrames: number): Promise<{ framesPerSecond: number; frames: number }> {
  const dir = mkdtempSync(join(tmpdir(), "skyport-bench-recorder-"));
  try {
    let wallMs = Date.UTC(2026, 0, 1);
    const recorder = new Recorder(openSqliteStore(dir), { recordHz: 10 }, collectingLogger(), { monotonicMs: () => wallMs, wallMs: () => wallMs });
    const state = { ...restingAtHome(), state: "hovering" as const, position: { x: 1, y: 2, z: 10 } };
    const seqs = new Map<string, number>();
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
    const frames = recorder.counters.framesWritten;
    await recorder.stop();
    return { framesPerSecond: Math.round(frames / seconds), frames };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
  const throughput = await writerThroughput(Number(values.frames));
  console.log(`writer alone (SQLite, ${framesPerFlush}-frame batches): ${throughput.framesPerSecond} frames/s over ${throughput.frames} frames`);
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
