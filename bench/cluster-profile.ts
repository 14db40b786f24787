/**
 * Where a cluster's worker CPU goes (issue 18): `bun run
 * bench/cluster-profile.ts [--server skyport|socketio] [--drones N]
 * [--viewers N] [--seconds S] [--strace-seconds S] [--cpu-prof DIR] [--perf]`.
 *
 * Two skyport nodes share the drones through Redis exactly as two
 * `--workers` do (a worker is a node sharing the port), but each on its own
 * port, so that which viewers each node serves is known: node `emitter`
 * simulates every drone and publishes each tick to Redis; node `relay` gets
 * each tick from Redis and republishes it. Half the viewers watch every
 * drone on each. Both nodes and redis-server are pinned to core 0, the load
 * generators to core 1, as in bench:cluster's pinned rows. With `--server
 * socketio` the Socket.IO peer runs instead, as bench:cluster runs it (two
 * Node workers sharing a port, the first emitting, the other relaying
 * through the Redis adapter): which worker serves which viewer is not
 * known there, so its figures are for both workers together.
 *
 * Windows, each with fresh viewers:
 * 1. clean: deliveries per group of viewers, and the CPU of the processes
 *    serving them from /proc/PID/stat, split into user (the server's code
 *    and runtime: JavaScript, Bun or Node, uWebSockets, libc) and system
 *    (the kernel), per delivery.
 * 2. one per group under `strace -c -f` (counts only: strace slows every
 *    call): send syscalls per delivery and per viewer per tick, and the
 *    busiest syscalls.
 * 3. with --perf, one under `perf record` per group: the top shared objects
 *    and symbols, kernel ones included.
 * With --cpu-prof DIR skyport's nodes run under `bun --cpu-prof-md` (through
 * `BUN_OPTIONS`) and write their profile into DIR when they stop.
 *
 * Owns this protocol and its printout; starting servers is cluster-nodes.ts
 * and cluster-socketio.ts, viewers are driver.ts's listening load generators.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startRedis, redisServerPath } from "../tests/support/redis.ts";
import { killAllChildren, spawnChild } from "./children.ts";
import { killLeftoverWorkers, startNode, type RunningNode } from "./cluster-nodes.ts";
import { skyportMessageBytes, startSocketIoCluster } from "./cluster-socketio.ts";
import { flushRedis, waitForCluster } from "./cluster-redis.ts";
import { machineCores, startCpuWindow } from "./cluster-window.ts";
import { LoadGroup } from "./driver.ts";
import { describeMachine } from "./machine.ts";
import { formatCount } from "./report.ts";
import { droneIds, subscribeMessage } from "./servers.ts";
import { parsePerfStatCounts, parseStraceSummary, sendCalls, sendTracepoints, topCalls } from "./syscall-counts.ts";

/** Core the nodes and redis-server run on; the load generators get `loadCore`. */
const serverCore = 0;
const loadCore = 1;
const hz = 100;
/** Seconds viewers read before a window starts. */
const warmupSeconds = 1;
/** Longest wait for the drones to have an owner and both nodes to be on the bus. */
const clusterReadyTimeoutMilliseconds = 15_000;
/** After a window, viewers keep reading this long before loss is judged. */
const lossGraceMilliseconds = 500;
/** strace and perf get this long to attach before the window is marked. */
const attachMilliseconds = 300;
/** perf's sampling rate, per second: coarse, to disturb little. */
const perfHz = 999;
/**
 * Kernel functions whose share with callees the perf window prints: every
 * syscall (`do_syscall_64`: nearly all are sends here; the kernel inlines
 * each syscall's own entry), TCP's send (`tcp_sendmsg`), the loopback
 * receive processing a send triggers (`net_rx_action`, `tcp_v4_rcv`: the
 * reading side's TCP work, done in the sender's softirq, on its time) and
 * the reader's wake-up (`sock_def_readable`).
 */
const inclusiveSymbols: readonly string[] = ["do_syscall_64", "tcp_sendmsg", "net_rx_action", "tcp_v4_rcv", "sock_def_readable"];
/** Rows of strace's and perf's tables printed. */
const topRows = 12;

const usage = `usage: bun run bench/cluster-profile.ts [flags]

Where two cluster nodes' CPU goes: one simulating every drone (emitter), one
relaying its ticks from Redis (relay), half the viewers on each; or the
Socket.IO peer's two workers.

flags:
  --server NAME       skyport (default) or socketio (two Node workers with the Redis adapter)
  --drones N          drones every viewer watches at ${hz} Hz (default 5: bench:cluster's deliveries workload)
  --viewers N         viewers in all, half per node (default 2000)
  --seconds S         each window (default 4)
  --strace-seconds S  each strace window (default 3; 0 skips strace)
  --cpu-prof DIR      run both nodes under bun --cpu-prof-md, profiles into DIR
  --perf              also a perf record window per node
  --help              print this help`;

interface Options {
  server: "skyport" | "socketio";
  drones: number;
  viewers: number;
  seconds: number;
  straceSeconds: number;
  cpuProfDir: string | null;
  perf: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: "string", default: "skyport" },
      drones: { type: "string", default: "5" },
      viewers: { type: "string", default: "2000" },
      seconds: { type: "string", default: "4" },
      "strace-seconds": { type: "string", default: "3" },
      "cpu-prof": { type: "string" },
      perf: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const number = (name: string, text: string, min: number, max: number, integer = true): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}: got ${JSON.stringify(text)}`);
    return n;
  };
  if (values.server !== "skyport" && values.server !== "socketio") throw new Error(`--server must be skyport or socketio: got ${JSON.stringify(values.server)}`);
  if (values.server === "skyport" && Number(values.viewers) % 2 !== 0) throw new Error(`--viewers must be even with --server skyport (half on each node): got ${values.viewers}`);
  if (values.perf && !Bun.which("perf")) throw new Error("--perf needs perf on PATH (Debian: apt-get install linux-perf)");
  if (Number(values["strace-seconds"]) > 0 && !Bun.which("strace")) throw new Error("strace windows need strace on PATH (apt-get install strace), or --strace-seconds 0");
  if (values.server === "socketio" && values["cpu-prof"] !== undefined) throw new Error("--cpu-prof profiles skyport's nodes (bun --cpu-prof-md): it does not apply to --server socketio");
  return {
    server: values.server,
    drones: number("drones", values.drones, 1, 100),
    viewers: number("viewers", values.viewers, 2, 20_000),
    seconds: number("seconds", values.seconds, 1, 60, false),
    straceSeconds: number("strace-seconds", values["strace-seconds"], 0, 30, false),
    cpuProfDir: values["cpu-prof"] === undefined ? null : resolve(values["cpu-prof"]),
    perf: values.perf,
  };
}

/** Viewers of one kind and the processes that serve them. */
interface ViewerGroup {
  /** `emitter`, `relay`, or `workers` (Socket.IO's, not told apart). */
  name: string;
  port: number;
  path: string;
  openingMessages: string[];
  replies: number;
  viewers: number;
  pids: number[];
}

/** What one window measured on each group's viewers. */
interface Window<T> {
  /** Deliveries per second, per group. */
  perSecond: number[];
  /** Deliveries in the window, per group. */
  deliveries: number[];
  lost: number;
  during: T;
}

/** Opens every group's viewers, lets them warm up, runs `during` around the marked window, and collects the deliveries. */
async function window<T>(groups: readonly ViewerGroup[], during: (mark: () => void, loadgenPids: number[]) => Promise<T>): Promise<Window<T>> {
  const opened: LoadGroup[] = [];
  try {
    for (const group of groups) {
      opened.push(
        await LoadGroup.open({
          port: group.port,
          path: group.path,
          connections: group.viewers,
          processes: 1,
          core: loadCore,
          behaviour: { mode: "listen", send: group.openingMessages, replies: group.replies, graceMilliseconds: lossGraceMilliseconds },
        }),
      );
    }
    await Bun.sleep(warmupSeconds * 1000);
    const value = await during(
      () => opened.forEach((group) => group.command("mark")),
      opened.flatMap((group) => group.pids),
    );
    const results = [];
    for (const group of opened) results.push(await group.stop());
    return {
      perSecond: results.map((rs) => rs.reduce((sum, r) => sum + r.messages / r.windowSeconds, 0)),
      deliveries: results.map((rs) => rs.reduce((sum, r) => sum + r.messages, 0)),
      lost: results.flat().reduce((sum, r) => sum + (r.telemetry ? r.telemetry.lostInGaps + r.telemetry.framesBehind : 0), 0),
      during: value,
    };
  } finally {
    await Promise.all(opened.map((group) => group.close()));
  }
}

/** Tools attached to running processes (strace, perf), stopped together with SIGINT; `finish` gives each one's output. */
async function attach(commands: readonly string[][]): Promise<{ finish(): Promise<string[]> }> {
  const children = commands.map((command) => spawnChild(command, { stdout: "pipe", stderr: "pipe" }));
  if (children.length > 0) await Bun.sleep(attachMilliseconds);
  return {
    async finish() {
      for (const child of children) child.kill("SIGINT");
      return Promise.all(
        children.map(async (child) => {
          const [stdout, stderr] = await Promise.all([new Response(child.stdout as ReadableStream).text(), new Response(child.stderr as ReadableStream).text()]);
          await child.exited;
          return stdout + stderr;
        }),
      );
    },
  };
}

/** Runs `command` beside the window, marks the window once it attached, and stops it after `seconds`; its output. */
async function attached(command: string[], seconds: number, mark: () => void): Promise<string> {
  const tool = await attach([command]);
  mark();
  await Bun.sleep(seconds * 1000);
  return (await tool.finish())[0]!;
}

const micros = (coreShare: number, perSecond: number) => ((coreShare / perSecond) * 1e6).toFixed(3);
const percent = (share: number) => `${Math.round(share * 100)}%`;

/** skyport's two nodes: `emitter` flies every drone, `relay` gets its ticks from Redis. Returns the viewer groups and what to stop. */
async function startSkyport(options: Options, redisUrl: string, started: Array<() => Promise<void>>): Promise<ViewerGroup[]> {
  const drones = droneIds(options.drones);
  const node = async (name: string) => {
    const env = options.cpuProfDir ? { BUN_OPTIONS: `--cpu-prof-md --cpu-prof-dir=${options.cpuProfDir} --cpu-prof-name=${name}.md` } : undefined;
    const running = await startNode({ drones, hz, redisUrl, nodeId: name, core: serverCore, ...(env ? { env } : {}) });
    started.push(() => running.stop());
    return running;
  };
  const emitter = await node("emitter");
  const first = await waitForCluster(redisUrl, drones, 1, clusterReadyTimeoutMilliseconds);
  if (first.owners.some((owner) => owner !== "emitter")) throw new Error(`node emitter should own every drone, found owners ${first.owners.join(", ")}`);
  const relay = await node("relay");
  await waitForCluster(redisUrl, drones, 2, clusterReadyTimeoutMilliseconds);
  const group = (name: string, running: RunningNode): ViewerGroup => ({
    name,
    port: running.port,
    path: `/drone?drone=${drones.join(",")}`,
    openingMessages: [subscribeMessage(drones[0]!)],
    replies: 2,
    viewers: options.viewers / 2,
    pids: running.serverPids,
  });
  return [group("emitter", emitter), group("relay", relay)];
}

/** The Socket.IO peer with two workers (the first emits, the other relays through the Redis adapter), all viewers on their shared port. */
async function startSocketIo(options: Options, redisUrl: string, started: Array<() => Promise<void>>): Promise<ViewerGroup[]> {
  const peer = await startSocketIoCluster({ workers: 2, rooms: options.drones, hz, frameBytes: skyportMessageBytes, redisUrl, core: serverCore });
  started.push(() => peer.stop());
  const { target } = peer;
  return [{ name: "workers", port: target.port, path: target.path, openingMessages: target.openingMessages, replies: target.replies, viewers: options.viewers, pids: target.serverPids }];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const cores = machineCores();
  if (cores.length < 2) throw new Error(`needs 2 cores or more (one for the load generator): this machine has ${cores.length}`);
  const machine = describeMachine();
  console.log(`${machine.cpuModel}, ${machine.cores} cores, Linux ${machine.kernel}, Bun ${machine.bun}`);
  console.log(
    `${options.server === "skyport" ? "skyport, 2 nodes" : "Socket.IO with the Redis adapter, 2 workers"}: ${options.viewers.toLocaleString("en-US")} viewers × ${options.drones} drones at ${hz} Hz ` +
      `(${formatCount(options.viewers * options.drones * hz)} deliveries/s asked); servers and redis-server on core ${serverCore}, load generators on core ${loadCore}\n`,
  );
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });
  const redis = await startRedis();
  const started: Array<() => Promise<void>> = [];
  const scratch = mkdtempSync(join(tmpdir(), "skyport-cluster-profile-"));
  try {
    Bun.spawnSync(["taskset", "-a", "-p", "-c", String(serverCore), String(redis.pid)], { stdout: "ignore" });
    await flushRedis(redis.url);
    const groups = await (options.server === "skyport" ? startSkyport : startSocketIo)(options, redis.url, started);
    const pids = groups.flatMap((group) => group.pids);

    // 1. clean: user and system CPU per delivery, and (perf stat on the syscall tracepoints, almost free) send calls.
    const counting = Bun.which("perf") !== null;
    const clean = await window(groups, async (mark, loadgenPids) => {
      const counters = await attach(counting ? groups.map((group) => ["perf", "stat", "-x,", "-e", sendTracepoints.join(","), "-p", group.pids.join(",")]) : []);
      mark();
      const cpu = startCpuWindow([...pids, redis.pid, ...loadgenPids], cores);
      await Bun.sleep(options.seconds * 1000);
      const result = cpu.finish();
      return { cpu: result, sends: (await counters.finish()).map((text) => sendCalls(parsePerfStatCounts(text))) };
    });
    const { cpu } = clean.during;
    console.log(
      `clean window, ${options.seconds} s: CPU from /proc/PID/stat (user: the server's code and runtime; system: the kernel); lost ${clean.lost}, ` +
        `load generators ${percent(cpu.shares.slice(pids.length + 1).reduce((sum, share) => sum + share, 0))}, others ${percent(cpu.otherCores)}`,
    );
    console.log(`viewers  deliveries/s  CPU    user   system  µs/delivery  user µs  system µs  ${counting ? "sends/delivery  sends/viewer-tick  " : ""}(CPU per process)`);
    groups.forEach((group, i) => {
      if (clean.deliveries[i] === 0) {
        // Seen only under heavy outside load: the starved load generator stopped reading and the slow-consumer rule stopped every viewer's telemetry.
        console.log(`${group.name.padEnd(8)} no deliveries in the window (its viewers stalled? run it on a quieter machine)`);
        return;
      }
      const at = (pid: number) => pids.indexOf(pid);
      const share = group.pids.reduce((sum, pid) => sum + cpu.shares[at(pid)]!, 0);
      const user = group.pids.reduce((sum, pid) => sum + cpu.userShares[at(pid)]!, 0);
      const perSecond = clean.perSecond[i]!;
      const each = group.pids.map((pid) => `${percent(cpu.shares[at(pid)]!)} (user ${percent(cpu.userShares[at(pid)]!)})`).join(" + ");
      const sends = clean.during.sends[i];
      // Every tick brings each viewer one frame of every drone.
      const sendColumns = sends === undefined ? "" : `${(sends / clean.deliveries[i]!).toFixed(3).padStart(14)}  ${((sends / clean.deliveries[i]!) * options.drones).toFixed(2).padStart(17)}  `;
      console.log(
        `${group.name.padEnd(8)} ${formatCount(perSecond).padStart(12)}  ${percent(share).padStart(4)}   ${percent(user).padStart(4)}   ${percent(share - user).padStart(4)}    ` +
          `${micros(share, perSecond).padStart(9)}    ${micros(user, perSecond).padStart(5)}    ${micros(share - user, perSecond).padStart(5)}  ${sendColumns}${each}`,
      );
    });
    console.log(`redis    ${percent(cpu.shares[pids.length]!)} of a core\n`);

    // 2. strace: send syscalls per delivery, per group.
    for (const [i, group] of (options.straceSeconds > 0 ? groups : []).entries()) {
      const traced = await window(groups, (mark) => attached(["strace", "-c", "-f", "-q", ...group.pids.flatMap((pid) => ["-p", String(pid)])], options.straceSeconds, mark));
      const calls = parseStraceSummary(traced.during);
      if (calls.size === 0) throw new Error(`strace on ${group.name} gave no summary: ${traced.during.slice(0, 400)}`);
      const sends = sendCalls(calls);
      const deliveries = traced.deliveries[i]!;
      if (deliveries === 0) {
        console.log(`strace -c on ${group.name}: no deliveries in the window (its viewers stalled? run it on a quieter machine); ${formatCount(sends)} send calls`);
        continue;
      }
      // Ticks each viewer got: every tick brings one frame of every drone.
      const viewerTicks = deliveries / options.drones;
      console.log(
        `strace -c on ${group.name}, ${options.straceSeconds} s (slowed by strace: counts only): ${formatCount(deliveries)} deliveries to its ${group.viewers} viewers, ` +
          `${formatCount(sends)} send calls: ${(sends / deliveries).toFixed(3)} per delivery, ${(sends / viewerTicks).toFixed(2)} per viewer per tick received`,
      );
      console.log(`  busiest: ${topCalls(calls, topRows).map(([name, count]) => `${name} ${formatCount(count)}`).join(", ")}`);
    }
    if (options.straceSeconds > 0) console.log("");

    // 3. perf: kernel and user symbols, per group.
    for (const group of options.perf ? groups : []) {
      const data = join(scratch, `${group.name}.perf.data`);
      await window(groups, (mark) => attached(["perf", "record", "-F", String(perfHz), "-g", "-o", data, "-p", group.pids.join(",")], options.seconds, mark));
      for (const sort of ["dso", "sym"]) {
        const report = Bun.spawnSync(["perf", "report", "-i", data, "--no-children", "--sort", sort, "--stdio", "--percent-limit", sort === "dso" ? "0.1" : "0.8", "-g", "none"], { stdout: "pipe", stderr: "pipe" });
        const rows = report.stdout.toString().split("\n").filter((line) => /^\s+\d/.test(line)).slice(0, sort === "dso" ? topRows : topRows * 2);
        console.log(`perf on ${group.name}, by ${sort === "dso" ? "shared object" : "symbol"}:\n${rows.join("\n")}`);
      }
      // Inclusive shares: the whole send syscall, and inside it the loopback's receive side (the reader's TCP work runs in the sender's softirq, on its time).
      const inclusive = Bun.spawnSync(["perf", "report", "-i", data, "--children", "--sort", "sym", "--stdio", "-g", "none"], { stdout: "pipe", stderr: "pipe" });
      const shares = inclusive.stdout
        .toString()
        .split("\n")
        .map((line) => /^\s+([\d.]+)%\s+[\d.]+%\s+\[k\]\s+(\S+)/.exec(line))
        .filter((match): match is RegExpExecArray => match !== null && inclusiveSymbols.includes(match[2]!))
        .map((match) => `${match[2]} ${match[1]}%`);
      console.log(`perf on ${group.name}, with callees: ${shares.join(", ") || "none of " + inclusiveSymbols.join(", ")}`);
      console.log("");
    }
  } finally {
    for (const stop of started) await stop();
    await redis.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const name of options.cpuProfDir ? ["emitter", "relay"] : []) {
    const path = join(options.cpuProfDir!, `${name}.md`);
    try {
      const hot = readFileSync(path, "utf8").split("## Hot Functions")[1]?.split("\n").filter((line) => line.startsWith("| ") && /\d/.test(line)).slice(0, topRows) ?? [];
      console.log(`bun --cpu-prof-md of ${name} (${path}), hottest by self time (the Self column counts samples weighted by the gap before each: compare sample counts in the file):\n${hot.join("\n")}\n`);
    } catch {
      console.log(`bun --cpu-prof-md of ${name}: no profile at ${path} (did the node exit cleanly?)\n`);
    }
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killAllChildren();
    killLeftoverWorkers();
    process.exit(130);
  });
}

try {
  if (!(await Bun.file(redisServerPath).exists())) {
    console.log(`bench/cluster-profile: skipped: ${redisServerPath} not found`);
    process.exit(0);
  }
  await main();
  process.exit(0);
} catch (error) {
  killAllChildren();
  console.error(`bench/cluster-profile: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
