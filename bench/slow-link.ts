/**
 * The slow-link benchmark: `bun run bench:slowlink [--quick] [--rounds N]
 * [--viewers N] [--max-hz HZ] [--rate-kbit N] [--loss SHARE] [--delay-ms N]`.
 * Needs root (it makes a network namespace).
 *
 * A phone on a cellular link next to the operators on a LAN: skyport flies
 * 100 drones at 10 Hz; `--viewers` (1,000) loopback viewers watch them all at
 * the full rate (one `telemetry_batch` per tick), and one viewer behind a
 * shaped link (shaped-link.ts: 1 Mbit/s each way, 1 % loss each way; plus
 * 100 ms one-way delay added by slow-viewer.ts) watches them with
 * `maxHz: 1` and permessage-deflate. Each round measures the loopback
 * viewers' delivery latency in one window without the slow viewer and one
 * with it (the order alternating by round), and the slow viewer's frame age
 * over its window. Server on core 0, everything else on core 1, as `bun run bench`.
 *
 * Owns the rounds and the report (stdout and bench/results/slowlink.json);
 * the link is shaped-link.ts's, the viewer slow-viewer.ts's, the loopback
 * viewers fanout.ts's.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { spawnChild, stopChild } from "./children.ts";
import { runFanout } from "./fanout.ts";
import { describeMachine } from "./machine.ts";
import { formatNumber } from "./report.ts";
import { fullTiming, quickTiming, type Sample, type ScenarioContext } from "./scenarios.ts";
import { repoRoot, serverSpecs, startServer, type Launch, type TelemetryWorkload } from "./servers.ts";
import { linkUnavailable, makeShapedLink, type ShapedLink } from "./shaped-link.ts";
import type { SlowViewerReport } from "./slow-viewer.ts";
import { lines } from "./streams.ts";

/** Cores as `bun run bench` pins them: the server alone on one, load and this runner on the other. */
const serverCore = 0;
const loadCore = 1;
/** The fleet: 100 drones at 10 Hz, watched as one batch per tick (the `fleet` scenario's workload). */
const workload: TelemetryWorkload = { role: "telemetry", drones: 100, hz: 10, view: "batch", unpaced: false, slowConsumerBytes: 1024 * 1024 };
/** The issue's target: the slow viewer's frames arrive under this age. */
const maxFrameAgeMillis = 1000;
/** Longest wait for the slow viewer to be subscribed, then to report. */
const viewerTimeoutMilliseconds = 30_000;

const usage = `usage: bun run bench:slowlink [flags]   (as root: it makes a network namespace)

  --quick          200 loopback viewers, 1 round, short windows: a smoke test
  --rounds N       rounds, each a window without and one with the slow viewer (default 3)
  --viewers N      loopback viewers at the full rate (default 1000)
  --max-hz HZ      the slow viewer's subscribe maxHz (default 1)
  --rate-kbit N    the link's rate each way, kbit/s (default 1000)
  --loss SHARE     packets dropped each way, 0 to below 1 (default 0.01)
  --delay-ms N     one-way delay added towards the slow viewer (default 100)`;

interface Options {
  quick: boolean;
  rounds: number;
  viewers: number;
  maxHz: number;
  rateKbit: number;
  loss: number;
  delayMs: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      viewers: { type: "string" },
      "max-hz": { type: "string", default: "1" },
      "rate-kbit": { type: "string", default: "1000" },
      loss: { type: "string", default: "0.01" },
      "delay-ms": { type: "string", default: "100" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const number = (flag: string, raw: string, min: number, max: number): number => {
    const value = Number(raw);
    if (!(Number.isFinite(value) && value >= min && value <= max)) throw new Error(`--${flag} must be a number from ${min} to ${max}: received ${JSON.stringify(raw)}`);
    return value;
  };
  const quick = values.quick === true;
  return {
    quick,
    rounds: number("rounds", values.rounds ?? (quick ? "1" : "3"), 1, 20),
    viewers: number("viewers", values.viewers ?? (quick ? "200" : "1000"), 1, 20_000),
    maxHz: number("max-hz", values["max-hz"]!, 0.1, 100),
    rateKbit: number("rate-kbit", values["rate-kbit"]!, 8, 10_000_000),
    loss: number("loss", values.loss!, 0, 0.5),
    delayMs: number("delay-ms", values["delay-ms"]!, 0, 10_000),
  };
}

/** The slow viewer, running inside the namespace until `finish`. */
interface SlowViewer {
  finish(): Promise<SlowViewerReport>;
}

async function startSlowViewer(link: ShapedLink, port: number, options: Options): Promise<SlowViewer> {
  const cmd = link.inside([
    "taskset", "-c", String(loadCore),
    process.execPath, "run", join(repoRoot, "bench/slow-viewer.ts"),
    "--server", `${link.hostAddress}:${port}`, "--max-hz", String(options.maxHz), "--delay-ms", String(options.delayMs),
  ]);
  const child = spawnChild(cmd, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const output = lines(child.stdout as ReadableStream<Uint8Array>);
  const next = async (what: string): Promise<any> => {
    const line = await Promise.race([output.next(), Bun.sleep(viewerTimeoutMilliseconds).then(() => null)]);
    if (line === null || line.done) {
      const stderr = await new Response(child.stderr as ReadableStream).text().catch(() => "");
      await stopChild(child, 500);
      throw new Error(`the slow viewer ${line === null ? "timed out" : "exited"} before ${what}: ${stderr.trim()}`);
    }
    return JSON.parse(line.value);
  };
  await next("it subscribed");
  return {
    async finish() {
      const stdin = child.stdin as import("bun").FileSink;
      stdin.write("stop\n");
      stdin.flush();
      const report = (await next("its report")) as SlowViewerReport;
      await stopChild(child, 2000);
      return report;
    },
  };
}

/** One round's figures. */
interface RoundResult {
  alone: Sample;
  withSlowViewer: Sample;
  viewer: SlowViewerReport;
  /** Bytes per second that crossed the link towards the slow viewer while it watched (its veth's rx, headers included). */
  linkBytesPerSecond: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function spread(values: number[], format: (value: number) => string): string {
  return `${format(median(values))} [${format(Math.min(...values))}–${format(Math.max(...values))}]`;
}

async function main(): Promise<void> {
  const options = parseOptions(Bun.argv.slice(2));
  const unavailable = linkUnavailable();
  if (unavailable !== null) throw new Error(`cannot shape a link here: ${unavailable}`);
  const machine = describeMachine();
  const pin = Bun.spawnSync(["taskset", "-a", "-p", "-c", String(loadCore), String(process.pid)], { stdout: "ignore", stderr: "pipe" });
  if (pin.exitCode !== 0) throw new Error(`taskset failed: ${pin.stderr.toString().trim()}`);
  const timing = options.quick ? quickTiming : fullTiming;
  const skyport = serverSpecs.find((spec) => spec.name === "skyport")!;
  const prepared = await skyport.prepare(repoRoot, repoRoot);
  if ("skip" in prepared) throw new Error(`skyport cannot run: ${prepared.skip}`);

  const link = makeShapedLink({ rateKbit: options.rateKbit, loss: options.loss });
  console.log(
    `slow link: ${options.rateKbit} kbit/s each way, ${options.loss * 100}% loss each way, ${options.delayMs} ms one-way delay towards the viewer; ` +
      `${options.viewers} loopback viewers of ${workload.drones} drones at ${workload.hz} Hz (one batch per tick); the slow viewer at maxHz ${options.maxHz} with permessage-deflate`,
  );
  const rounds: RoundResult[] = [];
  try {
    // Listening on the host's end of the link: the loopback viewers reach that address over lo, the slow viewer over the link.
    const base = prepared.launch(workload);
    const launch: Launch = { ...base, cmd: base.cmd.map((part) => (part === "127.0.0.1:0" ? `${link.hostAddress}:0` : part)) };
    for (let round = 1; round <= options.rounds; round++) {
      const server = await startServer(skyport, launch, serverCore);
      try {
        const context: ScenarioContext = { server, launch, timing, serverCore, loadCore, loadProcesses: 1 };
        const fanout = () => runFanout(options.viewers, context, link.hostAddress);
        const withViewer = async () => {
          const viewer = await startSlowViewer(link, server.port, options);
          const rxBefore = link.receivedBytes();
          const startedAt = performance.now();
          const sample = await fanout();
          const report = await viewer.finish();
          const linkBytesPerSecond = (link.receivedBytes() - rxBefore) / ((performance.now() - startedAt) / 1000);
          return { sample, report, linkBytesPerSecond };
        };
        let alone: Sample;
        let measured: Awaited<ReturnType<typeof withViewer>>;
        if (round % 2 === 1) {
          alone = await fanout();
          measured = await withViewer();
        } else {
          measured = await withViewer();
          alone = await fanout();
        }
        const result = { alone, withSlowViewer: measured.sample, viewer: measured.report, linkBytesPerSecond: measured.linkBytesPerSecond };
        rounds.push(result);
        const v = result.viewer;
        console.log(
          `[round ${round}/${options.rounds}] loopback p99 ${formatNumber(alone.p99Micros! / 1000)} ms alone, ${formatNumber(result.withSlowViewer.p99Micros! / 1000)} ms with the slow viewer ` +
            `(${alone.lostFrames}/${result.withSlowViewer.lostFrames} frames lost; others ${Math.round(Math.max(alone.otherLoadServerCore ?? 0, alone.otherLoadLoadCore ?? 0) * 100)}%/${Math.round(Math.max(result.withSlowViewer.otherLoadServerCore ?? 0, result.withSlowViewer.otherLoadLoadCore ?? 0) * 100)}%); ` +
            `slow viewer ${v.batches} batches in ${v.seconds.toFixed(1)} s, age p50 ${Math.round(v.ageP50Millis)} ms, p99 ${Math.round(v.ageP99Millis)} ms, max ${Math.round(v.ageMaxMillis)} ms, ` +
            `${formatNumber(result.linkBytesPerSecond / 1024)} KiB/s on the link, extensions "${v.extensions}"`,
        );
      } finally {
        await server.stop();
      }
    }
  } finally {
    link.close();
  }

  const p99Alone = rounds.map((r) => r.alone.p99Micros! / 1000);
  const p99With = rounds.map((r) => r.withSlowViewer.p99Micros! / 1000);
  const ratios = rounds.map((r) => r.withSlowViewer.p99Micros! / r.alone.p99Micros!);
  const ageP99 = rounds.map((r) => r.viewer.ageP99Millis);
  const ageMax = Math.max(...rounds.map((r) => r.viewer.ageMaxMillis));
  const disturbed = rounds.filter((r) => [r.alone, r.withSlowViewer].some((s) => Math.max(s.otherLoadServerCore ?? 0, s.otherLoadLoadCore ?? 0) > 0.1)).length;
  const ms = (value: number) => `${formatNumber(value)} ms`;
  console.log(`\nmedian [min–max] over ${rounds.length} rounds${disturbed > 0 ? ` (${disturbed} disturbed by other processes: > 10% of a pinned core)` : ""}`);
  console.log(`loopback viewers' delivery p99: ${spread(p99Alone, ms)} alone, ${spread(p99With, ms)} with the slow viewer (ratio ${spread(ratios, (r) => r.toFixed(2))})`);
  console.log(`slow viewer's frame age p99: ${spread(ageP99, ms)}, largest ${ms(ageMax)} (target < ${maxFrameAgeMillis} ms: ${ageMax < maxFrameAgeMillis ? "met" : "missed"})`);
  console.log(`slow viewer's link: ${spread(rounds.map((r) => r.linkBytesPerSecond / 1024), (v) => `${formatNumber(v)} KiB/s`)} of ${formatNumber(options.rateKbit / 8 / 1.024)} KiB/s`);

  const directory = join(repoRoot, "bench/results");
  mkdirSync(directory, { recursive: true });
  const path = join(directory, "slowlink.json");
  writeFileSync(path, JSON.stringify({ startedAt: new Date().toISOString(), machine, options, workload, rounds }, null, 2) + "\n");
  console.log(`\nwrote ${path}`);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(`bench:slowlink: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
