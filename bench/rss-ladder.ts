/**
 * The RSS ladder: where an idle `/drone` socket's and a non-reading
 * viewer's memory goes. Starts one server per step, from bare Bun up to
 * skyport's `server.ts` (each step adds one of skyport's real parts:
 * rss-ladder-server.ts), measures each exactly as the memory scenarios do
 * (`runIdleMemory`: the same connections, opening exchange and settle
 * rule), and prints the RSS per socket, its ratio to the bare step and the
 * change from the step before. With `--gc`, each settled reading is
 * followed by a full collection (`Bun.gc(true)` in the server) and the heap
 * and RSS are read again: live objects apart from what the allocators keep.
 *
 * Owns the ladder's runs and its table; the steps are the server's, the
 * measurement the scenarios'. Never asserts: it is the profile the memory
 * targets ask for when they are missed (docs/benchmarks.md).
 *
 * usage: bun run bench/rss-ladder.ts [--mode idle|viewer|both] [--rounds N] [--steps a,b,...] [--gc] [--quick]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { killAllChildren } from "./children.ts";
import { probeTelemetryBytes } from "./frame-probe.ts";
import { ladderSteps } from "./rss-ladder-steps.ts";
import { fullTiming, quickTiming, runIdleMemory, type Timing } from "./scenarios.ts";
import { repoRoot, serverSpecs, startServer, type Launch, type ServerSpec, type Workload } from "./servers.ts";

/** The core the server is pinned to, and the load generator's (as bench/run.ts). */
const serverCore = 0;
const loadCore = 1;
/** The first step: the benchmark's own bare Bun reference (bench/reference/bun-echo.ts or bun-publish.ts), the denominator of every ratio. */
const referenceStep = "reference";
/** The last step: skyport itself, run as the benchmark runs it. */
const skyportStep = "server.ts";
/** How long to wait for the server to write its heap statistics after SIGUSR2. */
const statsTimeoutMilliseconds = 10_000;
/** How often to look for them. */
const statsPollMilliseconds = 50;

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "both" },
    rounds: { type: "string", default: "1" },
    steps: { type: "string" },
    gc: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
  },
});
type Mode = "idle" | "viewer";
const modes: readonly Mode[] = values.mode === "both" ? ["idle", "viewer"] : values.mode === "idle" || values.mode === "viewer" ? [values.mode] : fail(`--mode must be idle, viewer or both: received ${JSON.stringify(values.mode)}`);
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) fail(`--rounds must be a positive integer: received ${values.rounds}`);
const allSteps: readonly string[] = [referenceStep, ...ladderSteps, skyportStep];
const steps = values.steps === undefined ? allSteps : values.steps.split(",");
const unknownStep = steps.find((step) => !allSteps.includes(step));
if (unknownStep !== undefined) fail(`--steps: unknown step ${JSON.stringify(unknownStep)}; known: ${allSteps.join(", ")}`);
const timing: Timing = values.quick ? quickTiming : fullTiming;

function fail(message: string): never {
  console.error(`rss-ladder: ${message}`);
  process.exit(2);
}

/** The server's heap after a full collection (rss-ladder-server.ts writes it). */
interface HeapReading {
  heapSize: number;
  heapCapacity: number;
  /** Live objects by type (`bun:jsc` `heapStats().objectTypeCounts`). */
  objectTypeCounts: Record<string, number>;
}

/** Object types whose count per socket is below this are left out of a step's census. */
const minCensusPerSocket = 0.05;
/** Object types listed per step. */
const censusTypes = 8;

/** What one step measured in one round, per socket. */
interface StepSample {
  rssBytes: number;
  /** With --gc: RSS growth and heap growth after a full collection at both readings. */
  rssAfterGcBytes?: number;
  heapBytes?: number;
  heapCapacityBytes?: number;
  /** Live objects per socket by type, the most first (with --gc). */
  census?: Array<[type: string, perSocket: number]>;
}

/** The benchmark's workload and skyport's launch for a ladder mode (the `memory-drone` and `memory-viewer` scenarios). */
function workloadOf(mode: Mode): Workload {
  return mode === "idle" ? { role: "idle-drone" } : { role: "telemetry", drones: 1, hz: 10, view: "each-drone", unpaced: false, slowConsumerBytes: 1024 * 1024 };
}

/** A step's launch: the ladder server, spoken to as skyport is (except bare Bun's silent client, the benchmark's reference). */
function ladderLaunch(step: string, mode: Mode, skyport: Launch, frameBytes: number, statsFile: string): Launch {
  const cmd = [process.execPath, "run", join(repoRoot, "bench/rss-ladder-server.ts"), "--step", step, "--mode", mode, ...(mode === "viewer" ? ["--frame-bytes", String(frameBytes)] : []), "--stats-file", statsFile, "--addr", "127.0.0.1:0"];
  if (step === "bare") return { cmd, path: "/", openingMessages: [], replies: 0 };
  return { cmd, path: skyport.path, openingMessages: skyport.openingMessages, replies: skyport.replies };
}

/** Asks the server for a full collection and its heap statistics (rss-ladder-server.ts's SIGUSR2), and waits for them. */
async function collectedHeap(pid: number, statsFile: string, collection: number): Promise<HeapReading> {
  process.kill(pid, "SIGUSR2");
  const deadline = performance.now() + statsTimeoutMilliseconds;
  while (performance.now() < deadline) {
    if (existsSync(statsFile)) {
      const stats = JSON.parse(readFileSync(statsFile, "utf8"));
      if (stats.collection === collection) return stats;
    }
    await Bun.sleep(statsPollMilliseconds);
  }
  throw new Error(`the server wrote no heap statistics (collection ${collection}) to ${statsFile} within ${statsTimeoutMilliseconds} ms`);
}

/** Reads VmRSS of `pid`, bytes. */
function rssNow(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** The servers a ladder runs besides its own steps: the benchmark's, launched as the benchmark launches them. */
interface Benchmarked {
  spec: ServerSpec;
  launch: Launch;
}

async function measureStep(step: string, mode: Mode, skyport: Benchmarked, reference: Benchmarked, frameBytes: number, workDir: string): Promise<StepSample> {
  const statsFile = join(workDir, `stats-${step}-${mode}.json`);
  rmSync(statsFile, { force: true });
  const benchmarked = step === skyportStep ? skyport : step === referenceStep ? reference : null;
  const launch = benchmarked?.launch ?? ladderLaunch(step, mode, skyport.launch, frameBytes, statsFile);
  const spec: ServerSpec = benchmarked?.spec ?? { ...skyport.spec, name: `ladder:${step}` };
  const server = await startServer(spec, launch, serverCore);
  try {
    // Only the ladder's own server answers SIGUSR2 with its heap.
    const gc = values.gc && benchmarked === null;
    const readings: Record<"before" | "after", HeapReading & { rss: number }> = {} as never;
    let collection = 0;
    const onSettled = gc
      ? async (phase: "before" | "after") => {
          const heap = await collectedHeap(server.pid, statsFile, ++collection);
          await Bun.sleep(timing.minSettleSeconds * 1000);
          readings[phase] = { rss: rssNow(server.pid), ...heap };
        }
      : undefined;
    const connections = mode === "idle" ? timing.idleConnections : timing.idleViewers;
    const context = { server, launch, timing, serverCore, loadCore, loadProcesses: 1 };
    const sample = await runIdleMemory(context, connections, mode === "viewer", onSettled);
    const result: StepSample = { rssBytes: sample.rssBytesPerConnection! };
    if (gc) {
      result.rssAfterGcBytes = (readings.after.rss - readings.before.rss) / connections;
      result.heapBytes = (readings.after.heapSize - readings.before.heapSize) / connections;
      result.heapCapacityBytes = (readings.after.heapCapacity - readings.before.heapCapacity) / connections;
      const { before, after } = readings;
      result.census = Object.keys(after.objectTypeCounts)
        .map((type): [string, number] => [type, ((after.objectTypeCounts[type] ?? 0) - (before.objectTypeCounts[type] ?? 0)) / connections])
        .filter(([, perSocket]) => perSocket >= minCensusPerSocket)
        .sort((a, b) => b[1] - a[1])
        .slice(0, censusTypes);
    }
    return result;
  } finally {
    await server.stop();
  }
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const bytes = (value: number | undefined) => (value === undefined ? "–" : `${Math.round(value)} B`);

function report(mode: Mode, samples: Map<string, StepSample[]>): void {
  console.log(`\n${mode === "idle" ? "idle /drone socket (memory-drone)" : "viewer of one drone at 10 Hz, not reading (memory-viewer)"}: per socket, median of ${rounds} round(s)`);
  const header = ["step", "RSS", "× reference", "Δ previous", ...(values.gc ? ["RSS after GC", "heap after GC", "heap capacity"] : [])];
  const rows: string[][] = [header];
  const bare = samples.get(referenceStep);
  const bareRss = bare ? median(bare.map((s) => s.rssBytes)) : undefined;
  let previous: number | undefined;
  for (const step of steps) {
    const runs = samples.get(step) ?? [];
    if (runs.length === 0) continue;
    const rss = median(runs.map((s) => s.rssBytes));
    const gcColumn = (key: "rssAfterGcBytes" | "heapBytes" | "heapCapacityBytes") => (runs[0]![key] === undefined ? "–" : bytes(median(runs.map((s) => s[key]!))));
    rows.push([
      step,
      bytes(rss),
      bareRss === undefined ? "–" : `${(rss / bareRss).toFixed(2)}x`,
      previous === undefined ? "–" : `${rss - previous >= 0 ? "+" : ""}${Math.round(rss - previous)} B`,
      ...(values.gc ? [gcColumn("rssAfterGcBytes"), gcColumn("heapBytes"), gcColumn("heapCapacityBytes")] : []),
    ]);
    previous = rss;
  }
  const widths = header.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  "));
}

// This process and its load generators share the load core, away from the server's (as bench/run.ts).
const pinned = Bun.spawnSync(["taskset", "-a", "-p", "-c", String(loadCore), String(process.pid)], { stdout: "ignore", stderr: "pipe" });
if (pinned.exitCode !== 0) fail(`taskset failed (is util-linux installed?): ${pinned.stderr.toString().trim()}`);
const workDir = mkdtempSync(join(tmpdir(), "skyport-rss-ladder-"));
process.on("exit", () => rmSync(workDir, { recursive: true, force: true }));
try {
  const skyportSpec = serverSpecs.find((spec) => spec.name === "skyport")!;
  const prepared = await skyportSpec.prepare(workDir, repoRoot);
  if ("skip" in prepared) fail(`skyport cannot run: ${prepared.skip}`);
  const bareSpec = serverSpecs.find((spec) => spec.name === "bun")!;
  const bare = await bareSpec.prepare(workDir, repoRoot);
  if ("skip" in bare) fail(`bare Bun cannot run: ${bare.skip}`);
  for (const mode of modes) {
    const workload = workloadOf(mode);
    const frameBytes = mode === "viewer" ? await probeTelemetryBytes(skyportSpec, prepared.launch(workload), serverCore) : 0;
    const sized = mode === "viewer" ? ({ ...workload, frameBytes } as Workload) : workload;
    const skyport = { spec: skyportSpec, launch: prepared.launch(sized) };
    const reference = { spec: bareSpec, launch: bare.launch(sized) };
    const samples = new Map<string, StepSample[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const step of steps) {
        const sample = await measureStep(step, mode, skyport, reference, frameBytes, workDir);
        console.log(`[round ${round}/${rounds}] ${mode} ${step.padEnd(10)} RSS ${bytes(sample.rssBytes)}${sample.heapBytes === undefined ? "" : `, after GC ${bytes(sample.rssAfterGcBytes)}, heap ${bytes(sample.heapBytes)}`}`);
        if (sample.census) console.log(`    live objects per socket: ${sample.census.map(([type, perSocket]) => `${perSocket.toFixed(2)} ${type}`).join(", ")}`);
        samples.set(step, [...(samples.get(step) ?? []), sample]);
      }
    }
    report(mode, samples);
  }
} finally {
  killAllChildren();
}
process.exit(0);
