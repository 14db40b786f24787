/**
 * The benchmark runner: `bun run bench [--quick] [--rounds N] [--only LIST]
 * [--servers LIST] [--load-processes N] [--skyport DIR]`.
 *
 * Runs every selected scenario against skyport and the reference servers,
 * interleaved (round 1: A B C D, round 2: A B C D, ...), each run on a fresh
 * server pinned to core 0 with the load generators (and this runner) on
 * core 1. Before the rounds, each telemetry scenario measures skyport's
 * message size once, so that bare Bun publishes frames of that size. Prints
 * one table of medians with min–max across rounds and the ratio to bare
 * Bun over the rounds judged fair (fairness.ts), notes naming the rounds left
 * out and why, then the verdict on each target; writes
 * bench/results/latest.{json,md} and the SVG chart.
 *
 * Owns orchestration and output files only: scenarios measure, servers start
 * and stop, stats/report/chart summarise and format.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import type { ChartInput } from "./chart.ts";
import { killAllChildren, pinSelfToCore } from "./children.ts";
import { probeTelemetryBytes } from "./frame-probe.ts";
import { describeMachine, type MachineInfo } from "./machine.ts";
import { exclusionNotes, formatBytes, formatCount, formatNumber, loadgenWarnings, markdownTable, textTable, verdictLines, type TableLabels } from "./report.ts";
import { fullTiming, quickTiming, scenarios, type Sample, type Scenario, type Timing } from "./scenarios.ts";
import { repoRoot, serverSpecs, startServer, type Launch, type PreparedServer, type ServerSpec, type Workload } from "./servers.ts";
import { referenceServer, summarize, type RunRecord } from "./stats.ts";
import { writeResults } from "./output.ts";
import { judge } from "./targets.ts";

/** Core the server under test is pinned to. */
const serverCore = 0;
/** Core the load generators and this runner are pinned to. */
const loadCore = 1;
/**
 * Rounds when --rounds is not given: the fewest that give a median and a
 * spread, interleaved A B A B. With the fan-out, /drone and Socket.IO
 * scenarios a round takes three to four minutes: a full run took 10.8 on
 * 2026-12-01 (docs/benchmarks.md), and should stay near that.
 */
const defaultRounds = 3;
/** Rounds with --quick (unless --rounds says otherwise): the fewest that give a median and a spread. */
const quickRounds = 3;
/**
 * Servers with --quick unless --servers says otherwise: the pair every
 * target compares, so that a quick look stays under two minutes.
 */
const quickServers = ["skyport", "bun"];
/** Upper bound on --rounds, so that a typo cannot book the machine for a day. */
const maxRounds = 20;
/** Pause between runs so that the previous server's sockets are gone and the core is quiet. */
const pauseBetweenRunsMilliseconds = 100;
/**
 * A run during which other processes used more than this share of the
 * server's or the load generator's core was disturbed; it is retried and the
 * least disturbed attempt kept. A quiet machine shows about 4% (interrupt
 * work charged to no process).
 */
const disturbedShare = 0.1;
/** Attempts per run, the first included. */
const maxAttemptsPerRun = 3;
/** Pause before retrying a disturbed run, hoping the other load passes. */
const retryPauseMilliseconds = 1000;

const resultsDir = join(repoRoot, "bench/results");
const docsChartPath = join(repoRoot, "docs/benchmarks.svg");

const usage = `usage: bun run bench [flags]

flags:
  --quick                 short windows, ${quickTiming.idleConnections} idle connections, fan-out at ${quickTiming.subscriberScale * 100}% of its
                          subscribers, skyport and bare Bun only (under 2 minutes): a smoke test
  --rounds N              rounds of every scenario and server (default ${defaultRounds}, ${quickRounds} with --quick; max ${maxRounds})
  --only LIST             scenarios or groups, comma-separated: ${[...new Set(scenarios.flatMap((s) => [s.group, s.id]))].join(", ")}
  --servers LIST          comma-separated: ${serverSpecs.map((s) => s.name).join(", ")} (default all but skyport-recording; ${quickServers.join(",")} with --quick)
  --load-processes N      load generator processes per traffic run, all on core ${loadCore} (default 1)
  --skyport DIR           the skyport checkout to benchmark (default: this repository, ${repoRoot})
  --help                  print this help

A full run (no --quick, --only or --servers) also redraws docs/benchmarks.svg;
other runs draw bench/results/latest.svg.`;

interface Options {
  quick: boolean;
  rounds: number;
  only: string[] | null;
  servers: string[] | null;
  loadProcesses: number;
  /** Directory holding the server.ts under test. */
  skyportDir: string;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, rounds: 0, only: null, servers: null, loadProcesses: 1, skyportDir: repoRoot };
  const list = (value: string | undefined, flag: string) => {
    if (!value) throw new UsageError(`${flag} needs a comma-separated list`);
    return value.split(",").map((s) => s.trim()).filter(Boolean);
  };
  const positive = (value: string | undefined, flag: string, max: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be an integer from 1 to ${max}: got ${JSON.stringify(value)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--help" || flag === "-h") {
      console.log(usage);
      process.exit(0);
    } else if (flag === "--quick") options.quick = true;
    else if (flag === "--rounds") options.rounds = positive(argv[++i], flag, maxRounds);
    else if (flag === "--load-processes") options.loadProcesses = positive(argv[++i], flag, 8);
    else if (flag === "--skyport") {
      const dir = argv[++i];
      if (!dir || !existsSync(join(dir, "server.ts"))) throw new UsageError(`--skyport must name a skyport checkout (a directory with server.ts): got ${JSON.stringify(dir)}`);
      options.skyportDir = resolve(dir);
    }
    else if (flag === "--only") {
      options.only = list(argv[++i], flag);
      const known = new Set(scenarios.flatMap((s) => [s.id, s.group]));
      const unknown = options.only.filter((name) => !known.has(name));
      if (unknown.length) throw new UsageError(`--only: unknown scenario ${unknown.join(", ")}; known: ${[...known].join(", ")}`);
    } else if (flag === "--servers") {
      options.servers = list(argv[++i], flag);
      const unknown = options.servers.filter((name) => !serverSpecs.some((s) => s.name === name));
      if (unknown.length) throw new UsageError(`--servers: unknown server ${unknown.join(", ")}; known: ${serverSpecs.map((s) => s.name).join(", ")}`);
    } else throw new UsageError(`unknown flag ${JSON.stringify(flag)}`);
  }
  if (options.rounds === 0) options.rounds = options.quick ? quickRounds : defaultRounds;
  if (options.quick && !options.servers) options.servers = quickServers;
  return options;
}

function progressLine(sample: Sample): string {
  const parts: string[] = [];
  if (sample.messagesPerSecond !== undefined) parts.push(`${formatCount(sample.messagesPerSecond)} msgs/s`);
  if (sample.p50Micros !== undefined) parts.push(`p50 ${formatNumber(sample.p50Micros)} µs`);
  if (sample.p99Micros !== undefined) parts.push(`p99 ${formatNumber(sample.p99Micros)} µs`);
  if (sample.cpuMicrosPerMessage !== undefined) parts.push(`${formatNumber(sample.cpuMicrosPerMessage)} CPU µs/msg`);
  if (sample.serverCoreShare !== undefined) parts.push(`server ${Math.round(sample.serverCoreShare * 100)}%`);
  if (sample.loadgenCoreShare !== undefined) parts.push(`loadgen ${Math.round(sample.loadgenCoreShare * 100)}%`);
  if (sample.loadgenCpuMicrosPerMessage !== undefined) parts.push(`loadgen ${formatNumber(sample.loadgenCpuMicrosPerMessage)} CPU µs/msg`);
  if (sample.otherLoadServerCore !== undefined) parts.push(`others ${Math.round(contention(sample) * 100)}%`);
  if (sample.rssBytesPerConnection !== undefined) parts.push(`${formatBytes(sample.rssBytesPerConnection)}/conn`);
  if (sample.lostFrames !== undefined) parts.push(`${sample.lostFrames} frames lost (${sample.subscribersWithLoss} subscribers)`);
  if (sample.askedShare !== undefined) parts.push(`${(sample.askedShare * 100).toFixed(1)}% of asked delivered`);
  if (sample.producedShare !== undefined) parts.push(`${(sample.producedShare * 100).toFixed(1)}% of asked produced`);
  if (sample.messageBytes !== undefined) parts.push(`${Math.round(sample.messageBytes)} B/msg`);
  return parts.join(", ");
}

/** How much of the busier pinned core other processes used during the window (0 when not measured). */
function contention(sample: Sample): number {
  return Math.max(sample.otherLoadServerCore ?? 0, sample.otherLoadLoadCore ?? 0);
}

type Outcome = Pick<RunRecord, "sample" | "error" | "attempts" | "contended">;

/**
 * Runs `attempt` until it was not disturbed by other processes, at most
 * `maxAttemptsPerRun` times and while `mayRetry()` grants a retry; keeps the
 * least disturbed sample. An error ends the attempts.
 */
async function measureWithRetries(tag: string, attempt: () => Promise<Sample>, mayRetry: () => boolean): Promise<Outcome> {
  let best: Sample | undefined;
  let attempts = 0;
  try {
    while (attempts < maxAttemptsPerRun) {
      attempts++;
      const sample = await attempt();
      if (!best || contention(sample) < contention(best)) best = sample;
      if (contention(best) <= disturbedShare || attempts === maxAttemptsPerRun || !mayRetry()) break;
      console.log(`${tag} disturbed (other processes used ${Math.round(contention(sample) * 100)}% of a pinned core): retrying`);
      await Bun.sleep(retryPauseMilliseconds);
    }
    return { sample: best, attempts, contended: contention(best!) > disturbedShare };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error), attempts };
  }
}

/**
 * Rough duration of one run of `scenario`, for the up-front estimate
 * (measured: about 0.5 s of start and stop per run; a fan-out run also
 * connects its subscribers and waits out the loss grace period).
 */
function estimateSeconds(scenario: Scenario, timing: Timing): number {
  const overhead = 0.5;
  if (scenario.group === "memory") return 2 * timing.minSettleSeconds + 2 * overhead;
  if (scenario.workload.role === "telemetry") return timing.warmupSeconds + timing.measureSeconds + 2 * overhead + 1;
  return timing.warmupSeconds + timing.measureSeconds + overhead;
}

/** Comma-separated lists longer than this many items are shown by their ends and count. */
const longListItems = 6;

/**
 * A command line with repository paths made relative, the temporary build
 * directory elided, and long lists (100 drone ids) shortened to
 * `d00,d01,…,d99 (100)`.
 */
function displayCommand(cmd: string[]): string {
  const shorten = (part: string) => {
    const items = part.split(",");
    return items.length > longListItems ? `${items.slice(0, 2).join(",")},…,${items[items.length - 1]} (${items.length})` : part;
  };
  return cmd
    .map((part) => (part === process.execPath ? "bun" : part.startsWith(repoRoot) ? relative(repoRoot, part) : shorten(part.replace(tmpdir(), "$TMPDIR"))))
    .join(" ");
}

function machineLine(machine: MachineInfo): string {
  return `${machine.cpuModel}, ${machine.cores} cores, ${formatBytes(machine.memoryTotalBytes)}, Linux ${machine.kernel}, Bun ${machine.bun}`;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const timing = options.quick ? quickTiming : fullTiming;
  // Before pinning: nproc counts the cores this process may use.
  const machine = describeMachine();
  pinSelfToCore(loadCore);
  const startedAt = new Date();
  const command = ["bun", "run", "bench", ...process.argv.slice(2)].join(" ");

  const selectedScenarios = scenarios.filter((s) =>
    options.only ? options.only.includes(s.id) || options.only.includes(s.group) : s.optIn !== true && !(options.quick && s.notQuick === true),
  );
  const selectedSpecs = serverSpecs.filter((s) => (options.servers ? options.servers.includes(s.name) : s.optIn !== true));
  const workDir = mkdtempSync(join(tmpdir(), "skyport-bench-"));
  process.on("exit", () => rmSync(workDir, { recursive: true, force: true }));

  const servers: Array<{ spec: ServerSpec; prepared: PreparedServer }> = [];
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const spec of selectedSpecs) {
    const prepared = await spec.prepare(workDir, options.skyportDir);
    if ("skip" in prepared) {
      skipped.push({ name: spec.name, reason: prepared.skip });
      console.log(`skipping ${spec.name}: ${prepared.skip}`);
    } else servers.push({ spec, prepared });
  }
  if (!servers.some((s) => s.spec.name === referenceServer)) console.log(`note: ${referenceServer} is not selected, so there are no ratios`);
  if (options.skyportDir !== repoRoot) console.log(`skyport under test: ${options.skyportDir}`);

  // Telemetry references publish frames of skyport's size: measure it once per scenario.
  const workloads = new Map<string, Workload>();
  for (const scenario of selectedScenarios) {
    let workload = scenario.workload;
    if (workload.role === "telemetry" && servers.some((s) => s.spec.name !== "skyport" && s.spec.roles.includes("telemetry"))) {
      const skyport = serverSpecs.find((s) => s.name === "skyport")!;
      const prepared = servers.find((s) => s.spec === skyport)?.prepared ?? (await skyport.prepare(workDir, options.skyportDir));
      if ("skip" in prepared) throw new Error(`the ${scenario.id} reference needs skyport's frame size, but skyport cannot run: ${prepared.skip}`);
      try {
        const frameBytes = await probeTelemetryBytes(skyport, prepared.launch(workload), serverCore);
        console.log(`${scenario.id}: skyport's telemetry message is ${frameBytes} B; bare Bun publishes frames of that size`);
        workload = { ...workload, frameBytes };
      } catch (error) {
        // The reference runs of this scenario will fail saying why; the rest of the benchmark goes on.
        console.log(`${scenario.id}: cannot measure skyport's telemetry message size: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    workloads.set(scenario.id, workload);
  }
  const plays = (spec: ServerSpec, scenario: Scenario) => spec.roles.includes(scenario.workload.role) && (spec.plays?.(scenario.workload) ?? true);
  /** A server's launch for a scenario, or why there is none (the run then fails with that reason). */
  const launchFor = (prepared: PreparedServer, scenario: Scenario): Launch | Error => {
    try {
      return prepared.launch(workloads.get(scenario.id)!);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };
  const commands = selectedScenarios.flatMap((scenario) =>
    servers
      .filter((s) => plays(s.spec, scenario))
      .map((s) => {
        const launch = launchFor(s.prepared, scenario);
        return { scenario: scenario.id, server: s.spec.name, command: launch instanceof Error ? `(cannot run: ${launch.message})` : displayCommand(launch.cmd) };
      }),
  );
  for (const { scenario, server, command } of commands) console.log(`${scenario.padEnd(14)} ${server.padEnd(10)} ${command}`);

  const runs = selectedScenarios.flatMap((scenario) => servers.filter((s) => plays(s.spec, scenario)).map(() => scenario));
  const estimate = options.rounds * runs.reduce((sum, scenario) => sum + estimateSeconds(scenario, timing), 0);
  console.log(`${machineLine(machine)}`);
  console.log(
    `${options.quick ? "quick" : "full"} run: ${options.rounds} rounds × ${runs.length} runs, ` +
      `${timing.warmupSeconds} s warm-up + ${timing.measureSeconds} s measured each; about ${Math.ceil(estimate / 60)} min\n`,
  );

  /** One run on a fresh server, stopped whatever happens. */
  async function runOnce(spec: ServerSpec, launch: Launch, scenario: Scenario): Promise<Sample> {
    const server = await startServer(spec, launch, serverCore);
    try {
      return await scenario.run({ server, launch, timing, serverCore, loadCore, loadProcesses: options.loadProcesses });
    } finally {
      await server.stop();
    }
  }

  const records: RunRecord[] = [];
  // Bounded, so that a busy machine cannot stretch the benchmark indefinitely.
  let retriesLeft = Math.ceil(options.rounds * runs.length * timing.retryShare);
  const takeRetry = (): boolean => {
    if (retriesLeft === 0) return false;
    retriesLeft--;
    return true;
  };
  for (let round = 1; round <= options.rounds; round++) {
    for (const scenario of selectedScenarios) {
      for (const { spec, prepared } of servers) {
        if (!plays(spec, scenario)) continue;
        const launch = launchFor(prepared, scenario);
        const tag = `[round ${round}/${options.rounds}] ${scenario.id.padEnd(13)} ${spec.name.padEnd(10)}`;
        const attempt = () => (launch instanceof Error ? Promise.reject(launch) : runOnce(spec, launch, scenario));
        const outcome = await measureWithRetries(tag, attempt, takeRetry);
        records.push({ round, scenario: scenario.id, server: spec.name, ...outcome });
        console.log(`${tag} ${outcome.sample ? progressLine(outcome.sample) : `FAILED: ${outcome.error}`}${outcome.contended ? " (disturbed)" : ""}`);
        await Bun.sleep(pauseBetweenRunsMilliseconds);
      }
    }
  }

  const scenarioIds = selectedScenarios.map((s) => s.id);
  const serverNames = servers.map((s) => s.spec.name);
  const summary = summarize(records, scenarioIds, serverNames);
  const verdicts = judge(summary);
  const labels: TableLabels = {
    scenarioTitles: Object.fromEntries(selectedScenarios.map((s) => [s.id, s.label(timing)])),
    serverLabels: Object.fromEntries(servers.map((s) => [s.spec.name, s.spec.label])),
    compared: Object.fromEntries(selectedScenarios.map((s) => [s.id, s.compare])),
  };
  const finishedAt = new Date();
  const minutes = ((finishedAt.getTime() - startedAt.getTime()) / 60_000).toFixed(1);

  const table = textTable(summary, labels);
  const warnings = [...loadgenWarnings(summary, labels), ...exclusionNotes(summary, labels)];
  const verdictText = verdictLines(verdicts);
  console.log(
    `\nmedian [min–max] over ${options.rounds} rounds; ratios paired by round, skyport ÷ bare Bun, over the rounds judged fair ` +
      `(both servers saturated their core, or the load generator did not; not disturbed) (${minutes} min)\n`,
  );
  console.log(table);
  const disturbed = records.filter((r) => r.contended);
  if (disturbed.length) {
    warnings.push(
      `note: ${disturbed.length} of ${records.length} runs were disturbed by other processes on the pinned cores even after retries ` +
        `(other processes used > ${disturbedShare * 100}% of a pinned core; "contended" in latest.json): their ratios are not judged, treat their numbers with care`,
    );
  }
  if (warnings.length) console.log(`\n${warnings.join("\n")}`);
  if (options.quick) verdictText.unshift(`(--quick: short windows, fan-out at ${timing.subscriberScale * 100}% of its subscribers: indicative only)`);
  console.log(`\nskyport targets (median across rounds unless noted):\n${verdictText.join("\n")}`);

  const complete = !options.quick && !options.only && !options.servers;
  const chart: ChartInput = {
    rows: summary,
    scenarioOrder: scenarioIds,
    scenarioTitles: labels.scenarioTitles,
    serverOrder: serverNames,
    serverLabels: labels.serverLabels,
    subtitle: `${machineLine(machine)}. Bars: median of ${options.rounds} rounds; whiskers: min–max. ${startedAt.toISOString().slice(0, 10)}`,
  };
  const written = writeResults({
    directory: resultsDir,
    chartPath: complete ? docsChartPath : join(resultsDir, "latest.svg"),
    result: {
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      command,
      machine,
      options: { ...options, timing, serverCore, loadCore },
      servers: servers.map((s) => ({ name: s.spec.name, label: s.spec.label })),
      commands,
      skipped,
      scenarios: selectedScenarios.map(({ id, group, title }) => ({ id, group, title, workload: workloads.get(id) })),
      records,
      summary,
      verdicts,
      // What the chart was drawn from, so that bench/redraw.ts can draw it again.
      chart,
    },
    markdown:
      `${machineLine(machine)}; ${command}; ${startedAt.toISOString()}\n\n` +
      `${markdownTable(summary, labels)}\n\n${warnings.length ? `${warnings.join("\n")}\n\n` : ""}${verdictText.join("\n")}\n`,
    chart,
  });
  console.log(`\nwrote ${written.map((path) => relative(repoRoot, path)).join(", ")}`);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  killAllChildren();
  if (error instanceof UsageError) {
    console.error(`bench: ${error.message}\n\n${usage}`);
    process.exit(2);
  }
  console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
}
