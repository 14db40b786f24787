/**
 * Where the load generator's CPU goes at a fan-out scenario's rate, next to
 * the server's (issue 18: telemetry-max could not be judged while the load
 * generator saturated its core before the servers did).
 *
 * Runs one scenario exactly as `bun run bench` does (a fresh server pinned
 * to core 0, one load generator and this process on core 1, the same
 * warm-up, window and checks) against each server, and prints per run the
 * deliveries per second and, for the load generator and for the server, the
 * CPU per delivery split into user and kernel time, the share of its core,
 * and the load generator's minor page faults per 1,000 deliveries (first
 * touches of fresh memory). With `--perf loadgen` (or `server`) it also
 * records that process with `perf record` during the window (kernel, Bun's
 * native code, libc and JIT frames, by shared object and by symbol); with `--cpu-prof
 * DIR`, Bun's own profile of the load generator's JavaScript
 * (`--cpu-prof-md`) is written to DIR; `--readers direct,bun` runs each
 * server with both of the load generator's ways of reading, in turn.
 *
 * usage: bun run bench/loadgen-cost.ts [--scenario telemetry-max] [--servers bun-topics,skyport]
 *          [--rounds 1] [--seconds 3] [--readers default] [--perf loadgen|server] [--cpu-prof DIR] [--skyport DIR]
 *
 * Owns this diagnosis only: the scenario, servers and load generator are the
 * benchmark's own (scenarios.ts, servers.ts, load-listen.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { killAllChildren, pinSelfToCore, spawnChild } from "./children.ts";
import { probeTelemetryBytes } from "./frame-probe.ts";
import type { ReaderKind } from "./loadgen.ts";
import { processTimes, type ProcessTimes } from "./proc.ts";
import { formatCount, formatNumber } from "./report.ts";
import { fullTiming, scenarios, type Sample, type WindowProcesses } from "./scenarios.ts";
import { repoRoot, serverSpecs, startServer, type Workload } from "./servers.ts";

/** Core the server under test is pinned to (as in run.ts). */
const serverCore = 0;
/** Core the load generator and this process are pinned to (as in run.ts). */
const loadCore = 1;
/** perf's sampling frequency, per second: enough samples in a 3 s window, little overhead. */
const perfSamplesPerSecond = 999;
/** Lines of each perf table printed. */
const perfTopLines = 25;
/** Longest a `perf report` may take. */
const perfReportTimeoutMilliseconds = 60_000;

const usage = `usage: bun run bench/loadgen-cost.ts [flags]
  --scenario ID     a fan-out scenario (default telemetry-max)
  --servers LIST    comma-separated (default bun-topics,skyport)
  --rounds N        runs of each server, interleaved (default 1)
  --seconds N       measured window (default ${fullTiming.measureSeconds})
  --readers LIST    how the load generator reads, each in turn: default, direct (recv into one buffer), bun (Bun's data callback)
  --perf WHO        perf record the load generator (loadgen) or the server (server) during the window
  --cpu-prof DIR    write Bun's JS profile of the load generator (--cpu-prof-md) to DIR
  --skyport DIR     the skyport checkout to run (default this repository)`;

/** A load generator's way of reading, or its default. */
type ReaderChoice = ReaderKind | "default";

/** CPU of one process over the window, per delivery. */
interface CpuPerDelivery {
  userMicros: number;
  kernelMicros: number;
  coreShare: number;
  minorFaultsPerThousand: number;
}

function perDelivery(before: ProcessTimes, after: ProcessTimes, deliveries: number, seconds: number): CpuPerDelivery {
  const user = after.userSeconds - before.userSeconds;
  const kernel = after.systemSeconds - before.systemSeconds;
  return {
    userMicros: (user / deliveries) * 1e6,
    kernelMicros: (kernel / deliveries) * 1e6,
    coreShare: (user + kernel) / seconds,
    minorFaultsPerThousand: ((after.minorFaults - before.minorFaults) / deliveries) * 1000,
  };
}

function describe(cost: CpuPerDelivery): string {
  const total = cost.userMicros + cost.kernelMicros;
  return (
    `${formatNumber(total)} µs/delivery (user ${formatNumber(cost.userMicros)}, kernel ${formatNumber(cost.kernelMicros)}), ` +
    `${Math.round(cost.coreShare * 100)}% of its core`
  );
}

/** Counters of the window's processes before and after it, and perf's recording of the load generator when asked. */
class WindowProbe {
  before = new Map<number, ProcessTimes>();
  after = new Map<number, ProcessTimes>();
  seconds = 0;

  constructor(
    private readonly perfFile: string | null,
    private readonly perfTarget: "loadgen" | "server",
  ) {}

  readonly alongside = async (pids: WindowProcesses, seconds: number): Promise<void> => {
    const all = [pids.server, ...pids.loadgens];
    for (const pid of all) this.before.set(pid, processTimes(pid));
    const started = performance.now();
    if (this.perfFile) {
      const perf = spawnChild(
        ["perf", "record", "-F", String(perfSamplesPerSecond), "-g", "-o", this.perfFile, "-p", (this.perfTarget === "server" ? [pids.server] : pids.loadgens).join(","), "--", "sleep", String(seconds)],
        { stdout: "ignore", stderr: "pipe" },
      );
      const code = await perf.exited;
      if (code !== 0) throw new Error(`perf record failed (exit ${code}): ${(await new Response(perf.stderr as ReadableStream).text()).trim().slice(0, 300)}`);
    } else await Bun.sleep(seconds * 1000);
    this.seconds = (performance.now() - started) / 1000;
    for (const pid of all) this.after.set(pid, processTimes(pid));
  };

  /** One process's cost per delivery over the window. */
  cost(pid: number, deliveriesPerSecond: number): CpuPerDelivery {
    return perDelivery(this.before.get(pid)!, this.after.get(pid)!, deliveriesPerSecond * this.seconds, this.seconds);
  }

  /** The load generators' cost summed (they share one core). */
  loadgenCost(pids: readonly number[], deliveriesPerSecond: number): CpuPerDelivery {
    const sum = (map: Map<number, ProcessTimes>): ProcessTimes =>
      pids.reduce<ProcessTimes>(
        (total, pid) => {
          const t = map.get(pid)!;
          return { userSeconds: total.userSeconds + t.userSeconds, systemSeconds: total.systemSeconds + t.systemSeconds, minorFaults: total.minorFaults + t.minorFaults };
        },
        { userSeconds: 0, systemSeconds: 0, minorFaults: 0 },
      );
    return perDelivery(sum(this.before), sum(this.after), deliveriesPerSecond * this.seconds, this.seconds);
  }
}

/** `perf report` of a recording, by shared object and by symbol, trimmed to the top lines. */
async function perfSummary(file: string): Promise<string> {
  const report = async (sort: string) => {
    const child = spawnChild(["perf", "report", "-i", file, "--stdio", "--no-children", "-g", "none", "--sort", sort], { stdout: "pipe", stderr: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), perfReportTimeoutMilliseconds);
    const text = await new Response(child.stdout as ReadableStream).text();
    clearTimeout(timer);
    await child.exited;
    return text
      .split("\n")
      .filter((line) => /^\s+\d/.test(line))
      .slice(0, perfTopLines)
      .join("\n");
  };
  return `by shared object:\n${await report("dso")}\nby symbol:\n${await report("dso,sym")}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: "string", default: "telemetry-max" },
      servers: { type: "string", default: "bun-topics,skyport" },
      rounds: { type: "string", default: "1" },
      seconds: { type: "string", default: String(fullTiming.measureSeconds) },
      readers: { type: "string", default: "default" },
      perf: { type: "string" },
      "cpu-prof": { type: "string" },
      skyport: { type: "string", default: repoRoot },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const scenario = scenarios.find((s) => s.id === values.scenario);
  if (!scenario || scenario.workload.role !== "telemetry") {
    const fanouts = scenarios.filter((s) => s.workload.role === "telemetry").map((s) => s.id);
    throw new Error(`--scenario must be a fan-out scenario (${fanouts.join(", ")}): got ${JSON.stringify(values.scenario)}`);
  }
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error(`--rounds must be an integer from 1 to 20: got ${values.rounds}`);
  if (!(seconds > 0 && seconds <= 60)) throw new Error(`--seconds must be more than 0 and at most 60: got ${values.seconds}`);
  const names = values.servers.split(",").map((s) => s.trim()).filter(Boolean);
  const specs = names.map((name) => {
    const spec = serverSpecs.find((s) => s.name === name);
    if (!spec) throw new Error(`--servers: unknown server ${JSON.stringify(name)}; known: ${serverSpecs.map((s) => s.name).join(", ")}`);
    return spec;
  });
  const readers = values.readers.split(",").map((s) => s.trim());
  const isReader = (r: string): r is ReaderChoice => r === "default" || r === "direct" || r === "bun";
  const badReader = readers.find((r) => !isReader(r));
  if (badReader !== undefined) throw new Error(`--readers must list default, direct or bun: got ${JSON.stringify(badReader)}`);
  const perfTarget = values.perf;
  if (perfTarget !== undefined && perfTarget !== "loadgen" && perfTarget !== "server") throw new Error(`--perf must be loadgen or server: got ${JSON.stringify(perfTarget)}`);
  const cpuProfDir = values["cpu-prof"] === undefined ? undefined : resolve(values["cpu-prof"]);
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const skyportDir = resolve(values.skyport);

  pinSelfToCore(loadCore);
  const workDir = mkdtempSync(join(tmpdir(), "skyport-loadgen-cost-"));
  process.on("exit", () => rmSync(workDir, { recursive: true, force: true }));
  const skyport = serverSpecs.find((s) => s.name === "skyport")!;
  const preparedSkyport = await skyport.prepare(workDir, skyportDir);
  if ("skip" in preparedSkyport) throw new Error(`skyport cannot run: ${preparedSkyport.skip}`);
  const frameBytes = await probeTelemetryBytes(skyport, preparedSkyport.launch(scenario.workload), serverCore);
  const workload: Workload = { ...scenario.workload, frameBytes };
  const timing = { ...fullTiming, measureSeconds: seconds };
  console.log(`${scenario.label(timing)}: skyport's message ${frameBytes} B; server on core ${serverCore}, one load generator on core ${loadCore}`);

  for (let round = 1; round <= rounds; round++) {
    for (const [spec, reader] of specs.flatMap((spec) => readers.filter(isReader).map((reader) => [spec, reader] as const))) {
      const prepared = spec.name === "skyport" ? preparedSkyport : await spec.prepare(workDir, skyportDir);
      if ("skip" in prepared) throw new Error(`${spec.name} cannot run: ${prepared.skip}`);
      const launch = prepared.launch(workload);
      const perfFile = perfTarget ? join(workDir, `${spec.name}-${reader}-${round}.perf`) : null;
      const probe = new WindowProbe(perfFile, perfTarget ?? "loadgen");
      const server = await startServer(spec, launch, serverCore);
      let sample: Sample;
      try {
        sample = await scenario.run({
          server,
          launch,
          timing,
          serverCore,
          loadCore,
          loadProcesses: 1,
          alongsideWindow: probe.alongside,
          loadgen: {
            ...(cpuProfDir ? { runtimeFlags: ["--cpu-prof-md", `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=loadgen-${spec.name}-${reader}-${round}.md`] } : {}),
            ...(reader === "default" ? {} : { reader }),
          },
        });
      } finally {
        await server.stop();
      }
      const rate = sample.messagesPerSecond!;
      const others = Math.round(Math.max(sample.otherLoadServerCore ?? 0, sample.otherLoadLoadCore ?? 0) * 100);
      const loadgens = [...probe.before.keys()].filter((pid) => pid !== server.pid);
      const loadgen = probe.loadgenCost(loadgens, rate);
      console.log(
        `[${round}/${rounds}] ${spec.name.padEnd(10)} ${reader === "default" ? "" : `(reader ${reader}) `}${formatCount(rate)} deliveries/s, ${sample.lostFrames} lost, others ${others}% of a pinned core\n` +
          `  load generator: ${describe(loadgen)}, ${formatNumber(loadgen.minorFaultsPerThousand)} page faults per 1,000 deliveries\n` +
          `  server:         ${describe(probe.cost(server.pid, rate))}`,
      );
      if (perfFile) console.log(`  perf record of the ${perfTarget}:\n${(await perfSummary(perfFile)).replace(/^/gm, "    ")}`);
    }
  }
  if (cpuProfDir) console.log(`Bun's JS profiles of the load generator: ${cpuProfDir}/loadgen-*.md`);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  killAllChildren();
  console.error(`loadgen-cost: ${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
  process.exit(1);
}
