/**
 * Profiles servers under one benchmark scenario, side by side:
 * `bun run bench/profile.ts --only echo-32 [--servers skyport,bun] [--profiler perf|jsc] [--skyport DIR] [--out DIR] [--top 15]`.
 *
 * Each server runs exactly as `bun run bench` runs it (same command line,
 * pinned to core 0, the same load on core 1), profiled one of two ways:
 * - `perf` (default): Linux `perf record -e cpu-clock` on the server's
 *   process, which samples every CPU cycle it is charged for: the kernel
 *   (by symbol), Bun's native code (`bun.exe`, whose symbols are stripped)
 *   and JIT-compiled JavaScript (`[JIT]`). Printed by where the samples
 *   fall (the split that tells "our JavaScript" from "Bun and the kernel"),
 *   then the hottest symbols.
 * - `jsc`: `bun --cpu-prof-md`, JavaScriptCore's sampling profiler, which
 *   names JavaScript functions and the native functions they call (Bun's
 *   `send`, `publish`) but samples only while JavaScript runs, and weights
 *   each sample by the time since the previous one: its shares overstate
 *   whatever runs after the event loop was busy in native code.
 * perf samples the measured window only, the JSC profiler the whole run
 * (connections included). Both also print the scenario's figures (rate, CPU per message) and the
 * server's user and kernel CPU over the run (`/proc/PID/stat`), and keep
 * the raw profiles in `--out` (default a temporary directory).
 *
 * Owns profiling only: no verdicts, no ratios, no result files. The
 * profiler costs CPU itself, so its runs' figures are not benchmark figures.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { killAllChildren, spawnChild } from "./children.ts";
import { probeTelemetryBytes } from "./frame-probe.ts";
import { cpuSplit, type CpuSplit } from "./proc.ts";
import { fullTiming, scenarios, type Sample } from "./scenarios.ts";
import { repoRoot, serverSpecs, startServer, type Launch, type Workload } from "./servers.ts";
import type { WindowObserver } from "./window.ts";

const serverCore = 0;
const loadCore = 1;
/** Sampling interval of the profiler, µs: Bun's default. */
const sampleIntervalMicros = 1000;
/** perf's sampling rate, samples per second of CPU the server uses. */
const perfSampleHz = 4000;
/** Longest wait for Bun to write the profile after the server was told to stop. */
const profileWaitMilliseconds = 10_000;

const usage = `usage: bun run bench/profile.ts --only SCENARIO [flags]

flags:
  --only SCENARIO     one scenario: ${scenarios.map((s) => s.id).join(", ")}
  --servers LIST      comma-separated, profiled in turn (default skyport,bun)
  --skyport DIR       the skyport checkout to profile (default: this repository)
  --out DIR           where to keep the Markdown profiles (default: a temporary directory, removed on exit)
  --profiler P        perf (default: kernel, Bun's native code and JIT code, by share of CPU samples) or
                      jsc (bun --cpu-prof-md: JavaScript functions by name, sampled only while JavaScript runs)
  --top N             rows to print per table (default 15)
  --help              print this help`;

/** One row of the profile's "Hot Functions (Self Time)" table. */
export interface HotFunction {
  selfShare: number;
  name: string;
  location: string;
}

/** The rows of a `--cpu-prof-md` profile's self-time table, hottest first. */
export function hotFunctions(markdown: string): HotFunction[] {
  const start = markdown.indexOf("## Hot Functions");
  if (start < 0) throw new Error("not a --cpu-prof-md profile: no \"## Hot Functions\" section");
  const end = markdown.indexOf("\n## ", start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const rows: HotFunction[] = [];
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    // | Self% | Self | Total% | Total | Function | Location |
    const share = /^([\d.]+)%$/.exec(cells[1] ?? "");
    if (!share || cells.length < 8) continue;
    rows.push({ selfShare: Number(share[1]) / 100, name: cells[5]!.replace(/^`|`$/g, ""), location: cells[6]!.replace(/^`|`$/g, "") });
  }
  return rows;
}

/** The launch of `cmd` (`bun run FILE ...`) under the profiler, writing into `dir`. */
export function profiledCommand(cmd: readonly string[], dir: string): string[] {
  const [bun, run, ...rest] = cmd;
  if (run !== "run" || bun === undefined) throw new Error(`expected a \`bun run FILE\` command line to profile: got ${cmd.slice(0, 3).join(" ")}`);
  return [bun, "--cpu-prof-md", "--cpu-prof-dir", dir, `--cpu-prof-interval=${sampleIntervalMicros}`, "--preload", join(repoRoot, "bench/exit-on-signal.ts"), ...rest];
}

type Profiler = "perf" | "jsc";

/** The hottest rows of `perf report --sort KEYS` over `data`, as its text lines. */
function perfReport(data: string, keys: string, top: number): string[] {
  const report = Bun.spawnSync(["perf", "report", "-i", data, "--sort", keys, "--stdio", "--no-children", "--percent-limit", "0.3"], { stdout: "pipe", stderr: "pipe" });
  if (report.exitCode !== 0) throw new Error(`perf report -i ${data} failed (exit ${report.exitCode}): ${report.stderr.toString().trim().slice(0, 300)}`);
  return report.stdout.toString().split("\n").filter((line) => /^\s+[\d.]+%/.test(line)).slice(0, top).map((line) => line.trim());
}

/** Starts `perf record` on `pid`, writing `data`; the returned function stops it and waits for the file. */
function startPerf(pid: number, data: string): () => Promise<void> {
  const perf = spawnChild(["perf", "record", "-e", "cpu-clock", "-F", String(perfSampleHz), "-p", String(pid), "-o", data], { stdout: "ignore", stderr: "pipe" });
  return async () => {
    perf.kill("SIGINT");
    const code = await perf.exited;
    // perf exits 130 after SIGINT once it has written the file.
    if ((code !== 0 && code !== 130) || !existsSync(data)) throw new Error(`perf record -p ${pid} failed (exit ${code}): ${(await new Response(perf.stderr as ReadableStream).text()).trim().slice(-300)}`);
  };
}

async function profileOne(profiler: Profiler, serverName: string, workload: Workload, scenarioId: string, skyportDir: string, workDir: string, outDir: string, top: number): Promise<void> {
  const spec = serverSpecs.find((s) => s.name === serverName);
  if (!spec) throw new Error(`--servers: unknown server ${JSON.stringify(serverName)}: one of ${serverSpecs.map((s) => s.name).join(", ")}`);
  const prepared = await spec.prepare(workDir, skyportDir);
  if ("skip" in prepared) throw new Error(`${serverName} cannot run: ${prepared.skip}`);
  const launch: Launch = prepared.launch(workload);
  const dir = join(outDir, `${scenarioId}-${serverName}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const scenario = scenarios.find((s) => s.id === scenarioId)!;
  const cmd = profiler === "jsc" ? profiledCommand(launch.cmd, dir) : launch.cmd;
  const server = await startServer(spec, { ...launch, cmd }, serverCore);
  const perfData = join(dir, "perf.data");
  // perf samples the measured window only (connecting thousands of sockets would swamp it); the JSC profiler, the whole run.
  let stopPerf: (() => Promise<void>) | null = null;
  const windowObserver: WindowObserver | undefined =
    profiler === "perf"
      ? {
          started: () => void (stopPerf = startPerf(server.pid, perfData)),
          ended: () => stopPerf?.() ?? Promise.resolve(),
        }
      : undefined;
  const before = cpuSplit(server.pid);
  let sample: Sample;
  let after: CpuSplit;
  try {
    sample = await scenario.run({ server, launch, timing: fullTiming, serverCore, loadCore, loadProcesses: 1, windowObserver });
    after = cpuSplit(server.pid);
  } finally {
    await server.stop();
  }
  const user = after.userSeconds - before.userSeconds;
  const system = after.systemSeconds - before.systemSeconds;
  const rate = sample.messagesPerSecond === undefined ? "" : `${Math.round(sample.messagesPerSecond).toLocaleString("en-US")} msgs/s, `;
  const perMessage = sample.cpuMicrosPerMessage === undefined ? "" : `${sample.cpuMicrosPerMessage.toFixed(3)} µs CPU/msg, `;
  const disturbed = sample.otherLoadServerCore === undefined ? "" : `; other processes on its core: ${(sample.otherLoadServerCore * 100).toFixed(0)}%`;
  console.log(`\n## ${serverName}: ${rate}${perMessage}user ${user.toFixed(2)} s, kernel ${system.toFixed(2)} s (${((user / (user + system)) * 100).toFixed(0)}% user) over the run${disturbed}`);
  if (profiler === "perf") {
    console.log(`perf data: ${perfData}\nby where the samples fall (kernel, bun.exe native, [JIT] JavaScript, libraries):`);
    for (const line of perfReport(perfData, "dso", top)) console.log(`  ${line}`);
    console.log("hottest symbols:");
    for (const line of perfReport(perfData, "dso,sym", top)) console.log(`  ${line}`);
    return;
  }
  const deadline = performance.now() + profileWaitMilliseconds;
  let file: string | undefined;
  while (!(file = readdirSync(dir).find((name) => name.endsWith(".md"))) && performance.now() < deadline) await Bun.sleep(100);
  if (!file) throw new Error(`${serverName} wrote no profile into ${dir} within ${profileWaitMilliseconds} ms`);
  console.log(`profile: ${join(dir, file)}`);
  for (const row of hotFunctions(readFileSync(join(dir, file), "utf8")).slice(0, top)) console.log(`  ${(row.selfShare * 100).toFixed(1).padStart(5)}%  ${row.name}  ${row.location}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      servers: { type: "string", default: "skyport,bun" },
      skyport: { type: "string", default: repoRoot },
      out: { type: "string" },
      top: { type: "string", default: "15" },
      profiler: { type: "string", default: "perf" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return console.log(usage);
  const scenario = scenarios.find((s) => s.id === values.only);
  if (!scenario) throw new Error(`--only must name one scenario: ${scenarios.map((s) => s.id).join(", ")}; got ${JSON.stringify(values.only)}\n\n${usage}`);
  const top = Number(values.top);
  if (!Number.isInteger(top) || top <= 0) throw new Error(`--top must be a positive integer: got ${JSON.stringify(values.top)}`);
  const profiler = values.profiler;
  if (profiler !== "perf" && profiler !== "jsc") throw new Error(`--profiler must be perf or jsc: got ${JSON.stringify(profiler)}`);
  if (profiler === "perf" && Bun.which("perf") === null) throw new Error("--profiler perf needs perf on PATH (Debian: apt-get install linux-perf), or use --profiler jsc");
  const skyportDir = resolve(values.skyport);
  const workDir = mkdtempSync(join(tmpdir(), "skyport-profile-"));
  const outDir = values.out === undefined ? join(workDir, "profiles") : resolve(values.out);
  process.on("exit", () => {
    killAllChildren();
    rmSync(workDir, { recursive: true, force: true });
  });
  mkdirSync(outDir, { recursive: true });

  let workload = scenario.workload;
  if (workload.role === "telemetry") {
    const skyport = serverSpecs.find((s) => s.name === "skyport")!;
    const prepared = await skyport.prepare(workDir, skyportDir);
    if ("skip" in prepared) throw new Error(`the reference needs skyport's frame size, but skyport cannot run: ${prepared.skip}`);
    workload = { ...workload, frameBytes: await probeTelemetryBytes(skyport, prepared.launch(workload), serverCore) };
  }
  console.log(`profiling ${scenario.id} (${scenario.title}); skyport: ${skyportDir}; profiles in ${outDir}${values.out === undefined ? " (removed on exit)" : ""}`);
  for (const name of values.servers.split(",")) await profileOne(profiler, name, workload, scenario.id, skyportDir, workDir, outDir, top);
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
