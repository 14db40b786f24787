/**
 * MAVLink ingest, side by side with a simulated fleet of the same size:
 * `bun run bench/mavlink-ingest.ts [--vehicles 50] [--hz 50] [--viewers 1000] [--seconds 10]`.
 *
 * Two runs of a real `server.ts` pinned to one core (`taskset`), each with
 * `--telemetry-hz` = `--hz` and the same viewers (one WebSocket each,
 * subscribed to one vehicle, spread evenly):
 * - mavlink: N `--mavlink vNN=tcp:...` vehicles, each fed by a fake autopilot
 *   in this process on its own loopback port (HEARTBEAT at 1 Hz,
 *   GLOBAL_POSITION_INT at `--hz`, whose heading carries a counter);
 * - simulated: N `--drones` (the built-in simulator, no MAVLink).
 * It reports server CPU per second and per delivered frame, MAVLink packets
 * parsed per second and per core, frames delivered per second, and latency:
 * for MAVLink from the packet's send to the viewer's receipt (the tick in
 * between included: the frame goes out at the next telemetry tick), and for
 * both from the frame's `time` to the viewer. Ratios mavlink/simulated are
 * printed, since this machine is shared and noisy.
 *
 * Owns only this measurement; it spawns through `children.ts`, reads CPU
 * through `proc.ts` and percentiles through `histogram.ts`.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import type { TCPSocketListener, Socket } from "bun";
import { FakeAutopilot } from "../tests/support/mavlink-autopilot.ts";
import { spawnChild, stopChild } from "./children.ts";
import { LatencyHistogram, percentile } from "./histogram.ts";
import { cpuBetween, sampleCpu } from "./proc.ts";

const repoRoot = join(import.meta.dir, "..");

interface Options {
  vehicles: number;
  hz: number;
  viewers: number;
  seconds: number;
  /** The core the server is pinned to; the load runs on the others. */
  core: number;
}

/** What one run measured. */
export interface IngestResult {
  kind: "mavlink" | "simulated";
  serverCpuPerSecond: number;
  framesPerSecond: number;
  cpuMicrosPerFrame: number;
  packetsPerSecond: number | null;
  /** Packets parsed per second of server CPU: the ingest rate one core sustains at this share of its time. */
  packetsPerCoreSecond: number | null;
  /** Packet sent (MAVLink only) to frame received by a viewer, ms. */
  packetToViewer: { p50: number; p99: number } | null;
  /** Frame `time` (the server's tick) to frame received by a viewer, ms. */
  tickToViewer: { p50: number; p99: number };
  /** Frames missing from a viewer's seq sequence. */
  gaps: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: { vehicles: { type: "string" }, hz: { type: "string" }, viewers: { type: "string" }, seconds: { type: "string" }, core: { type: "string" } },
  });
  const number = (raw: string | undefined, fallback: number, min: number, max: number, name: string) => {
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}: received ${raw}`);
    return value;
  };
  return {
    vehicles: number(values.vehicles, 50, 1, 200, "vehicles"),
    hz: number(values.hz, 50, 1, 100, "hz"),
    viewers: number(values.viewers, 1000, 1, 5000, "viewers"),
    seconds: number(values.seconds, 10, 2, 120, "seconds"),
    core: number(values.core, 1, 0, 255, "core"),
  };
}

/** A fake autopilot per vehicle, each on its own loopback port, streaming to whoever connects. */
function startAutopilots(count: number, hz: number) {
  const sendTimes: Float64Array[] = [];
  const listeners: TCPSocketListener<undefined>[] = [];
  const sockets: Array<Socket<undefined> | null> = [];
  const counters = new Uint32Array(count);
  for (let index = 0; index < count; index++) {
    sendTimes.push(new Float64Array(36_000));
    sockets.push(null);
    listeners.push(
      Bun.listen<undefined>({
        hostname: "127.0.0.1",
        port: 0,
        socket: {
          open: (socket) => void (sockets[index] = socket),
          data: () => {},
          close: () => void (sockets[index] = null),
        },
      }),
    );
  }
  // The same fake ArduCopter the tests use: packets encoded by node-mavlink from system 1.
  const autopilot = new FakeAutopilot(1, 1);
  const beat = setInterval(() => {
    const bytes = autopilot.heartbeat({ armed: true, customMode: 4 });
    for (const socket of sockets) socket?.write(bytes);
  }, 1000);
  const stream = setInterval(() => {
    for (let index = 0; index < count; index++) {
      const socket = sockets[index];
      if (socket === null || socket === undefined) continue;
      const counter = counters[index]! % 36_000;
      counters[index] = counter + 1;
      // The heading carries the counter (hdg = counter centidegrees): the viewer reads it back from the frame to time the packet.
      const bytes = autopilot.position(0, 0, 10, { heading: counter / 100 });
      sendTimes[index]![counter] = performance.now();
      socket.write(bytes);
    }
  }, 1000 / hz);
  return {
    ports: listeners.map((listener) => listener.port),
    sendTimeOf: (index: number, counter: number) => sendTimes[index]![counter]!,
    stop() {
      clearInterval(beat);
      clearInterval(stream);
      for (const listener of listeners) listener.stop(true);
    },
  };
}

async function startServer(flags: string[], core: number) {
  const child = spawnChild(["taskset", "-c", String(core), process.execPath, "run", join(repoRoot, "server.ts"), "--addr", "127.0.0.1:0", ...flags], { stdout: "pipe", stderr: "pipe" });
  // The banner is on stderr; stdout (JSON log lines) is drained so the server never blocks on a full pipe.
  const logs = new Response(child.stdout as ReadableStream).text();
  const reader = child.stderr!.getReader();
  let text = "";
  const deadline = Date.now() + 15_000;
  while (!/listening on 127\.0\.0\.1:(\d+)/.test(text)) {
    if (Date.now() > deadline) throw new Error(`server did not print its address: ${text.slice(0, 300)}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited: ${text.slice(0, 300)} ${(await logs).slice(0, 300)}`);
    text += new TextDecoder().decode(value);
  }
  // Keep draining stderr too (warnings, error lines).
  void (async () => {
    while (!(await reader.read()).done);
  })();
  return { child, port: Number(/listening on 127\.0\.0\.1:(\d+)/.exec(text)![1]) };
}

/** The number right after `key` in a frame's JSON text. */
export function numberAfter(text: string, key: string): number {
  const start = text.indexOf(key) + key.length;
  let end = start;
  while (end < text.length && "-.0123456789eE+".includes(text[end]!)) end++;
  return Number(text.slice(start, end));
}

async function packetsParsed(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) if (line.startsWith("skyport_mavlink_packets_total{")) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  return total;
}

async function run(kind: "mavlink" | "simulated", options: Options): Promise<IngestResult> {
  const ids = Array.from({ length: options.vehicles }, (_, i) => `${kind === "mavlink" ? "v" : "s"}${String(i).padStart(2, "0")}`);
  const autopilots = kind === "mavlink" ? startAutopilots(options.vehicles, options.hz) : null;
  const vehicleFlags = autopilots === null ? ["--drones", ids.join(",")] : ["--drones", "alpha", ...ids.flatMap((id, i) => ["--mavlink", `${id}=tcp:127.0.0.1:${autopilots.ports[i]}`])];
  const server = await startServer(
    [...vehicleFlags, "--telemetry-hz", String(options.hz), "--max-connections-per-ip", String(options.viewers + 10), "--max-connections", String(options.viewers + 10), "--slow-consumer-bytes", String(16 * 1024 * 1024), "--no-record"],
    options.core,
  );
  const packetLatency = new LatencyHistogram();
  const tickLatency = new LatencyHistogram();
  let frames = 0;
  let gaps = 0;
  let measuring = false;
  const sockets: WebSocket[] = [];
  try {
    await Promise.all(
      Array.from({ length: options.viewers }, (_, i) => {
        const index = i % options.vehicles;
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/drone?drone=${ids[index]}`);
        sockets.push(ws);
        let last = -1;
        ws.onmessage = (event) => {
          const text = String(event.data);
          if (!text.startsWith('{"type":"telemetry"')) return;
          const now = performance.now();
          // Three numbers read in place: a JSON.parse per frame would make this process, not the server, the bottleneck.
          const seq = numberAfter(text, '"seq":');
          if (last >= 0 && seq !== last + 1) gaps += seq - last - 1;
          last = seq;
          if (!measuring) return;
          frames += 1;
          tickLatency.record(Math.max(0, Date.now() - numberAfter(text, '"time":')) * 1000);
          if (autopilots !== null && text.includes('"link":{"status":"up"')) {
            const sentAt = autopilots.sendTimeOf(index, Math.round(numberAfter(text, '"heading":') * 100));
            if (sentAt > 0) packetLatency.record(Math.max(0, now - sentAt) * 1000);
          }
        };
        return new Promise<void>((resolve, reject) => {
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error("viewer failed to connect"));
        });
      }),
    );
    // Warm up: every link up and streaming.
    await Bun.sleep(3000);
    measuring = true;
    const cpuBefore = sampleCpu(server.child.pid);
    const packetsBefore = autopilots === null ? 0 : await packetsParsed(server.port);
    gaps = 0;
    const started = performance.now();
    await Bun.sleep(options.seconds * 1000);
    measuring = false;
    const wallSeconds = (performance.now() - started) / 1000;
    const cpu = cpuBetween(cpuBefore, sampleCpu(server.child.pid));
    const packets = autopilots === null ? null : ((await packetsParsed(server.port)) - packetsBefore) / wallSeconds;
    const cpuPerSecond = cpu.cpuSeconds / wallSeconds;
    const ms = (snapshot: ReturnType<LatencyHistogram["snapshot"]>) => ({ p50: percentile(snapshot, 0.5) / 1000, p99: percentile(snapshot, 0.99) / 1000 });
    return {
      kind,
      serverCpuPerSecond: cpuPerSecond,
      framesPerSecond: frames / wallSeconds,
      cpuMicrosPerFrame: (cpu.cpuSeconds * 1e6) / Math.max(1, frames),
      packetsPerSecond: packets,
      packetsPerCoreSecond: packets === null ? null : packets / Math.max(1e-9, cpuPerSecond),
      packetToViewer: autopilots === null ? null : ms(packetLatency.snapshot()),
      tickToViewer: ms(tickLatency.snapshot()),
      gaps,
    };
  } finally {
    for (const ws of sockets) ws.close();
    await stopChild(server.child);
    autopilots?.stop();
  }
}

function format(results: IngestResult[], options: Options): string {
  const [mavlink, simulated] = results as [IngestResult, IngestResult];
  const fixed = (value: number | null | undefined, digits = 1) => (value === null || value === undefined ? "–" : value.toFixed(digits));
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const rows = [
    ["", "mavlink", "simulated", "mavlink / simulated"],
    ["server CPU, % of a core", fixed(mavlink.serverCpuPerSecond * 100), fixed(simulated.serverCpuPerSecond * 100), ratio(mavlink.serverCpuPerSecond, simulated.serverCpuPerSecond)],
    ["frames delivered / s", fixed(mavlink.framesPerSecond, 0), fixed(simulated.framesPerSecond, 0), ratio(mavlink.framesPerSecond, simulated.framesPerSecond)],
    ["server CPU per delivered frame, µs", fixed(mavlink.cpuMicrosPerFrame, 2), fixed(simulated.cpuMicrosPerFrame, 2), ratio(mavlink.cpuMicrosPerFrame, simulated.cpuMicrosPerFrame)],
    ["MAVLink packets parsed / s", fixed(mavlink.packetsPerSecond, 0), "–", ""],
    ["packets parsed per second of server CPU", fixed(mavlink.packetsPerCoreSecond, 0), "–", ""],
    [
      "ingest cost per packet (CPU above the simulated run), µs",
      mavlink.packetsPerSecond ? fixed(((mavlink.serverCpuPerSecond - simulated.serverCpuPerSecond) * 1e6) / mavlink.packetsPerSecond, 1) : "–",
      "–",
      "",
    ],
    ["packet → viewer, p50 / p99 ms", `${fixed(mavlink.packetToViewer?.p50)} / ${fixed(mavlink.packetToViewer?.p99)}`, "–", ""],
    ["tick → viewer, p50 / p99 ms", `${fixed(mavlink.tickToViewer.p50)} / ${fixed(mavlink.tickToViewer.p99)}`, `${fixed(simulated.tickToViewer.p50)} / ${fixed(simulated.tickToViewer.p99)}`, ratio(mavlink.tickToViewer.p99, simulated.tickToViewer.p99) + " (p99)"],
    ["frames missing at viewers", String(mavlink.gaps), String(simulated.gaps), ""],
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`);
  lines.splice(1, 0, `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  const expectedFrames = options.viewers * options.hz;
  const expectedPackets = options.vehicles * (options.hz + 1);
  const notes = [
    ...results.filter((r) => r.framesPerSecond < 0.95 * expectedFrames).map((r) => `note: ${r.kind}: viewers got ${r.framesPerSecond.toFixed(0)} frames/s of the ${expectedFrames} sent: this process (the load), not the server, fell behind`),
    ...(mavlink.packetsPerSecond !== null && mavlink.packetsPerSecond < 0.95 * expectedPackets ? [`note: the fake autopilots sent ${mavlink.packetsPerSecond.toFixed(0)} packets/s of ${expectedPackets}: this process fell behind`] : []),
  ];
  return [`${options.vehicles} vehicles at ${options.hz} Hz into ${options.viewers} viewers (one vehicle each), ${options.seconds} s, server on core ${options.core}`, "", ...lines, ...(notes.length ? ["", ...notes] : [])].join("\n");
}

if (import.meta.main) {
  const options = parseOptions(process.argv.slice(2));
  const results = [await run("mavlink", options), await run("simulated", options)];
  console.log(format(results, options));
  console.log(JSON.stringify({ options, results }));
  process.exit(0);
}
