/**
 * A viewer that stops reading must not hurt the others.
 *
 * The issue, measured: one socket that never reads plus 100 that do, at 50 Hz
 * telemetry, against a real `server.ts` process (so its RSS is its own). The
 * readers' delivery rate and latency with the stuck socket connected are
 * compared with a baseline phase without it; the stuck socket is cut off
 * (`--stall-seconds 5` instead of the default 30, so it happens within the
 * run) and the server's RSS stays bounded.
 *
 * Then, in-process on a fake clock: a socket that stalls and later resumes
 * is told how many frames it missed (`frames_dropped`) and fetches exactly
 * those with `subscribe` `since`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closePayload, encodeFrame, opcodes } from "../support/frames.ts";
import { health, mebibytes, metricsText, metricValue, rssBytes, stopServer } from "../support/process-stats.ts";
import { closeCodeOf, rawConnect, type RawConnection, type ServerFrame } from "../support/raw.ts";
import { spawnServer, startSimServer, type ServerProcess } from "../support/server.ts";
import { openSocket, waitUntil } from "../support/sockets.ts";
import { subscriptionsOf } from "../../src/edge/sessions/session.ts";

// ------------------------------------------------------------------ the real-process scenario

const telemetryHz = 50;
const droneCount = 40;
const droneIds = Array.from({ length: droneCount }, (_, i) => `d${i}`);
const readerCount = 100;
/** The server's stall limit for this run, seconds (default 30). */
const stallSeconds = 5;
/** Unsent bytes above which a socket stops getting telemetry, for this run (default 1 MiB). */
const slowConsumerBytes = 256 * 1024;
/** Seconds discarded after the readers connect (JIT warm-up, connection setup). */
const warmupSeconds = 2;
/** Baseline phase: readers only, seconds. */
const phaseASeconds = 5;
/**
 * Phase with the stuck socket connected, seconds: at least `phaseBMinSeconds`,
 * and until a second after it is cut off, but never past `phaseBMaxSeconds`.
 * It does not read, so first the kernel's loopback buffers fill (about 5 MB
 * here, some 7 s of its ~700 KB/s of telemetry), then the server's own buffer
 * passes 256 KiB and the next sweep stalls it, and `stallSeconds` later it is
 * closed: about 13 s on this machine.
 */
const phaseBMinSeconds = 15;
const phaseBMaxSeconds = 22;
/**
 * Longest from the stall (the time of the last telemetry frame the stuck
 * socket was sent) to the cut-off as /healthz sees it, seconds:
 * `stallSeconds`, plus the once-a-second sweep, plus the 2 s after which a
 * close the peer does not answer becomes a terminate, plus the 250 ms health
 * poll and scheduling slack.
 */
const cutOffAfterStallMaxSeconds = stallSeconds + 1 + 2 + 0.5;
/** Readers' delivery rate in phase B may differ from phase A by this fraction (the issue's 10 %). */
const rateTolerance = 0.1;
/**
 * Latency p50 in phase B may exceed phase A's by 10 % plus this many
 * milliseconds. Frame times have 1 ms resolution and the baseline is a few
 * milliseconds on loopback, where 10 % is below the clock's resolution; the
 * absolute slack covers one scheduler quantum on a loaded 2-core machine.
 */
const latencySlackMs = 5;
/**
 * Latency p99 in phase B may exceed phase A's by 10 % plus one telemetry
 * period. The tail is where other processes on a shared 2-core machine show
 * (a p99 of 13 ms against 11.6 allowed failed a run under load); a reader
 * the stuck socket really held up would fall a whole frame behind or more,
 * and that still fails, as do a lost frame or a 10 % lower rate.
 */
const latencyTailSlackMs = 1000 / telemetryHz;
/** The server's RSS during phase B may exceed the phase A baseline by this much: the stalled socket holds at most a few MiB. */
const rssBoundBytes = 64 * 1024 * 1024;

const processes: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(processes.map((server) => stopServer(server)));
});

interface PhaseStats {
  frames: number;
  latencies: number[];
}

/** 100 /drone?drone=d0 sockets that read everything, recording each frame's latency into the current phase. */
async function connectReaders(server: ServerProcess) {
  const phases = new Map<string, PhaseStats>();
  let phase = "warmup";
  const problems: string[] = [];
  const sockets: WebSocket[] = [];
  const lastSeq: number[] = [];
  for (let i = 0; i < readerCount; i++) {
    const ws = await openSocket(server.ws("/drone?drone=d0"));
    const index = i;
    lastSeq.push(-1);
    ws.onmessage = (event) => {
      const text = event.data as string;
      if (!text.startsWith('{"type":"telemetry"')) return;
      const now = Date.now();
      // Regexes rather than JSON.parse: 5,000 frames a second, and the reader must not be the bottleneck.
      const seq = Number(/"seq":(\d+)/.exec(text)![1]);
      const time = Number(/"time":(\d+)/.exec(text)![1]);
      if (lastSeq[index]! >= 0 && seq !== lastSeq[index]! + 1 && problems.length < 10) problems.push(`reader ${index}: seq ${lastSeq[index]} then ${seq}`);
      lastSeq[index] = seq;
      let stats = phases.get(phase);
      if (!stats) phases.set(phase, (stats = { frames: 0, latencies: [] }));
      stats.frames++;
      stats.latencies.push(now - time);
    };
    ws.onclose = (event) => problems.length < 10 && problems.push(`reader ${index} closed: ${event.code} ${event.reason}`);
    sockets.push(ws);
  }
  return {
    phases,
    problems,
    setPhase: (name: string) => void (phase = name),
    /** Waits until the readers have received `framesEach` frames each (in total) in `name`; fails after twice the time that takes at full rate. */
    waitForFrames: (name: string, framesEach: number) =>
      waitUntil(() => (phases.get(name)?.frames ?? 0) >= framesEach * readerCount, (2 * framesEach * 1000) / telemetryHz, `${framesEach} frames per reader in phase ${name}`),
    close: () => sockets.forEach((ws) => ((ws.onclose = null), ws.close())),
  };
}

function percentile(values: number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe("slow consumer against a real server process", () => {
  test(`1 stuck socket and ${readerCount} readers at ${telemetryHz} Hz: readers unaffected, stuck one cut off, RSS bounded`, async () => {
    const server = await spawnServer([
      "--telemetry-hz", String(telemetryHz),
      "--drones", droneIds.join(","),
      "--stall-seconds", String(stallSeconds),
      "--slow-consumer-bytes", String(slowConsumerBytes),
      "--max-connections-per-ip", "1000",
    ]);
    processes.push(server);
    const pid = server.proc.pid;
    const readers = await connectReaders(server);

    // Phases end on what the readers received, not on the wall clock: a phase is its nominal length's worth of frames.
    await readers.waitForFrames("warmup", warmupSeconds * telemetryHz);
    readers.setPhase("A");
    const phaseAStart = Date.now();
    await readers.waitForFrames("A", phaseASeconds * telemetryHz);
    const phaseAMs = Date.now() - phaseAStart;
    const baselineRss = rssBytes(pid);

    // Phase B: the stuck socket subscribes to all 40 drones and never reads after the handshake.
    readers.setPhase("B");
    const phaseBStart = Date.now();
    const stuck: RawConnection = await rawConnect(server.port, { path: "/drone" });
    expect(stuck.status).toBe(101);
    stuck.socket.pause();
    let peakRss = baselineRss;
    let cutOffAt: number | null = null;
    for (;;) {
      const elapsed = Date.now() - phaseBStart;
      if (elapsed >= phaseBMaxSeconds * 1000) break;
      if (elapsed >= phaseBMinSeconds * 1000 && cutOffAt !== null && Date.now() - cutOffAt >= 1000) break;
      peakRss = Math.max(peakRss, rssBytes(pid));
      if (cutOffAt === null && (await health(server)).connections.drone === readerCount) cutOffAt = Date.now();
      await Bun.sleep(250);
    }
    const phaseBMs = Date.now() - phaseBStart;
    readers.setPhase("after");
    const metrics = await metricsText(server);

    // Everything the stuck socket was sent before the cut-off is still in the kernel's buffers: read it now.
    stuck.socket.resume();
    const received: ServerFrame[] = [];
    const drainDeadline = Date.now() + 5000;
    try {
      while (Date.now() < drainDeadline && !received.some((frame) => frame.opcode === opcodes.close)) {
        received.push(await stuck.nextFrame(Math.max(1, drainDeadline - Date.now())));
      }
    } catch {
      // Ended without a close frame: checked below.
    }
    stuck.close();
    readers.close();

    const a = readers.phases.get("A")!;
    const b = readers.phases.get("B")!;
    const rateA = a.frames / readerCount / (phaseAMs / 1000);
    const rateB = b.frames / readerCount / (phaseBMs / 1000);
    const latency = (stats: PhaseStats) => ({ p50: percentile(stats.latencies, 50), p99: percentile(stats.latencies, 99), max: percentile(stats.latencies, 100) });
    const telemetry = received
      .filter((frame) => frame.opcode === opcodes.text && new TextDecoder().decode(frame.payload.subarray(0, 20)).startsWith('{"type":"telemetry"'))
      .map((frame) => JSON.parse(new TextDecoder().decode(frame.payload)).data as { drone: string; seq: number; time: number });
    const closeFrame = received.find((frame) => frame.opcode === opcodes.close);
    // The stall happens in the sweep right after a tick's frames are published: the last frame it was sent dates it.
    const stalledAt = Math.max(...telemetry.map((frame) => frame.time));
    const cutOffAfterStallMs = cutOffAt === null ? null : cutOffAt - stalledAt;
    console.log(
      `slow consumer: readers ${rateA.toFixed(2)} → ${rateB.toFixed(2)} frames/s each (phase A ${phaseAMs} ms, B ${phaseBMs} ms); ` +
        `latency A ${JSON.stringify(latency(a))} ms, B ${JSON.stringify(latency(b))} ms; ` +
        `stuck socket: ${telemetry.length} telemetry frames (${received.reduce((sum, f) => sum + f.payload.length, 0)} bytes) until it stalled ${stalledAt - phaseBStart} ms after connecting, ` +
        `cut off ${cutOffAfterStallMs} ms after the stall${closeFrame ? ` with close ${closeCodeOf(closeFrame)}` : ", no close frame"}; ` +
        `RSS baseline ${mebibytes(baselineRss)} MiB, peak ${mebibytes(peakRss)} MiB; ` +
        `slow_consumers_closed ${metricValue(metrics, "skyport_slow_consumers_closed_total")}, frames_dropped ${metricValue(metrics, "skyport_telemetry_frames_dropped_total")}`,
    );

    // Readers: nothing lost, none closed, same rate and latency.
    expect(readers.problems).toEqual([]);
    expect(rateA).toBeGreaterThan(telemetryHz * 0.8);
    expect(Math.abs(rateB - rateA) / rateA).toBeLessThanOrEqual(rateTolerance);
    expect(latency(b).p50).toBeLessThanOrEqual(latency(a).p50 * 1.1 + latencySlackMs);
    expect(latency(b).p99).toBeLessThanOrEqual(latency(a).p99 * 1.1 + latencyTailSlackMs);

    // The stuck socket was cut off in time, told why, and counted.
    expect(cutOffAt).not.toBeNull();
    expect(closeFrame).toBeDefined();
    expect(closeCodeOf(closeFrame!)).toBe(1008);
    expect(new TextDecoder().decode(closeFrame!.payload.subarray(2))).toContain("too slow");
    expect(metricValue(metrics, "skyport_slow_consumers_closed_total")).toBeGreaterThanOrEqual(1);
    // The unsubscription took effect: its telemetry stopped at the stall, at least stallSeconds before the close
    // (without it, frames would have kept queueing right up to the close frame), and the cut-off followed within the slack.
    expect(cutOffAfterStallMs!).toBeGreaterThanOrEqual(stallSeconds * 1000);
    expect(cutOffAfterStallMs!).toBeLessThanOrEqual(cutOffAfterStallMaxSeconds * 1000);
    // What it was sent is, per drone, an unbroken run of seqs ending at the stall: no silent gap, nothing after.
    const seqsByDrone = new Map<string, number[]>();
    for (const frame of telemetry) seqsByDrone.set(frame.drone, [...(seqsByDrone.get(frame.drone) ?? []), frame.seq]);
    expect(seqsByDrone.size).toBe(droneCount);
    const lastSeqs = new Set<number>();
    for (const [drone, seqs] of seqsByDrone) {
      expect({ drone, gaps: seqs.filter((seq, i) => i > 0 && seq !== seqs[i - 1]! + 1) }).toEqual({ drone, gaps: [] });
      lastSeqs.add(seqs.at(-1)!);
    }
    expect(lastSeqs.size).toBe(1); // every drone's stream stopped at the same tick

    // Memory stayed bounded while the stuck socket was there.
    expect(peakRss).toBeLessThanOrEqual(baselineRss + rssBoundBytes);
  }, 45_000);
});

// ------------------------------------------------------------------ in-process, fake clock

/** Telemetry frames per second per drone in the fake-clock tests. */
const simHz = 10;
const simDrones = Array.from({ length: 40 }, (_, i) => `s${i}`);

/** A raw /drone client on a fake-clock server, with its frames decoded as they are read. */
async function rawDroneClient(server: ReturnType<typeof startSimServer>, path: string) {
  const conn = await rawConnect(server.port, { path });
  expect(conn.status).toBe(101);
  const welcome = JSON.parse(new TextDecoder().decode((await conn.nextFrame()).payload));
  expect(welcome.type).toBe("welcome");
  const session = [...server.connections.sockets("drone")].find((ws) => ws.data.session!.id === welcome.data.session)!.data.session!;
  let masks = 0;
  return {
    conn,
    session,
    async next(timeoutMs = 5000): Promise<any> {
      return JSON.parse(new TextDecoder().decode((await conn.nextFrame(timeoutMs)).payload));
    },
    send(message: object): void {
      conn.send(encodeFrame({ opcode: opcodes.text, payload: JSON.stringify(message), maskKey: new Uint8Array([masks++ & 0xff, 7, 13, 31]) }));
    },
    close(): void {
      conn.send(encodeFrame({ opcode: opcodes.close, payload: closePayload(1000), maskKey: new Uint8Array([1, 1, 1, 1]) }));
      conn.close();
    },
  };
}

/**
 * Stops reading and advances the fake clock a simulated second at a time
 * (publishing 40 frames a tick) until the server's once-a-second sweep finds
 * more than the slow-consumer limit unsent and stalls the socket.
 */
async function stall(server: ReturnType<typeof startSimServer>, client: Awaited<ReturnType<typeof rawDroneClient>>): Promise<void> {
  client.conn.socket.pause();
  for (let second = 0; second < 200 && client.session.stalledSince === null; second++) {
    server.advance(1);
    await Bun.sleep(1); // let the kernel take what it will, so the server's own buffer is what fills
  }
  expect(client.session.stalledSince).not.toBeNull();
}

describe("a socket that stalls, then resumes", () => {
  test("is told how many frames it missed (frames_dropped) and fetches exactly those with subscribe since", async () => {
    const server = startSimServer({ drones: simDrones, telemetryHz: simHz, replaySeconds: 60, slowConsumerBytes: 64 * 1024, stallSeconds: 3600 });
    try {
      const client = await rawDroneClient(server, "/drone");
      await stall(server, client);
      server.advance(3); // frames the stalled socket is not sent (loopback may drain it sooner: the checks below hold either way)

      // Resume reading: what was queued arrives, Bun reports the drain, telemetry resumes after a frames_dropped per drone.
      client.conn.socket.resume();
      const lastSeen = new Map<string, number>();
      const dropped = new Map<string, { dropped: number; since: number | null; seenBefore: number | undefined }>();
      const firstAfter = new Map<string, number>();
      const deadline = Date.now() + 10_000;
      while (dropped.size < simDrones.length && Date.now() < deadline) {
        const message = await client.next(Math.max(1, deadline - Date.now()));
        if (message.type === "telemetry") {
          const { drone, seq } = message.data;
          if (dropped.has(drone) && !firstAfter.has(drone)) firstAfter.set(drone, seq);
          else if (lastSeen.has(drone)) expect({ drone, seq }).toEqual({ drone, seq: lastSeen.get(drone)! + 1 });
          lastSeen.set(drone, seq);
        } else if (message.type === "event" && message.data.kind === "frames_dropped") {
          dropped.set(message.data.drone, { dropped: message.data.dropped, since: message.data.since, seenBefore: lastSeen.get(message.data.drone) });
        }
      }
      server.advance(0.1); // one live frame per drone after the drain
      while (firstAfter.size < simDrones.length && Date.now() < deadline) {
        const message = await client.next(Math.max(1, deadline - Date.now()));
        if (message.type === "telemetry" && !firstAfter.has(message.data.drone)) firstAfter.set(message.data.drone, message.data.seq);
      }
      expect(dropped.size).toBe(simDrones.length);
      for (const drone of simDrones) {
        const event = dropped.get(drone)!;
        // It was sent every frame up to `since`, then told how many it missed, then live frames resume right after those.
        expect({ drone, since: event.since, firstAfter: firstAfter.get(drone) }).toEqual({ drone, since: event.seenBefore!, firstAfter: event.seenBefore! + event.dropped + 1 });
        expect(event.dropped).toBeGreaterThanOrEqual(simHz); // at least one sweep's worth
      }
      expect(server.metrics.telemetryFramesDropped).toBe([...dropped.values()].reduce((sum, event) => sum + event.dropped, 0));

      // Fetch the missed frames of one drone with subscribe since: exactly those, then live continues with no gap or duplicate.
      const missed = dropped.get("s0")!;
      client.send({ type: "subscribe", id: "refill", data: { drone: "s0", since: missed.since } });
      let ack: any = null;
      const replayed: number[] = [];
      const refillDeadline = Date.now() + 5000;
      while ((ack === null || replayed.length < ack.data.replayed) && Date.now() < refillDeadline) {
        const message = await client.next(Math.max(1, refillDeadline - Date.now()));
        if (message.type === "ack" && message.id === "refill") ack = message;
        else if (ack !== null && message.type === "telemetry" && message.data.drone === "s0") replayed.push(message.data.seq);
      }
      // Replay covers the gap and the live frame already seen: since+1 .. latest.
      const latest = server.flight.latestSeq("s0")!;
      expect(ack.data).toMatchObject({ drone: "s0", subscribed: true, lost: 0, replayed: latest - missed.since! });
      expect(replayed).toEqual(Array.from({ length: latest - missed.since! }, (_, i) => missed.since! + 1 + i));
      server.advance(0.1);
      let next: any;
      do next = await client.next(Math.max(1, refillDeadline + 5000 - Date.now()));
      while (!(next.type === "telemetry" && next.data.drone === "s0") && Date.now() < refillDeadline + 5000);
      expect(next.data.seq).toBe(latest + 1);
      client.close();
    } finally {
      await server.stop();
    }
  });

  test("an all-drones (*) watcher is told per drone what it missed, and resumes every drone with one since map", async () => {
    const server = startSimServer({ drones: simDrones, telemetryHz: simHz, replaySeconds: 60, slowConsumerBytes: 64 * 1024, stallSeconds: 3600 });
    try {
      const client = await rawDroneClient(server, "/drone?drone=*");
      await stall(server, client);
      server.advance(3);
      client.conn.socket.resume();
      const lastSeen = new Map<string, number>();
      const dropped = new Map<string, { dropped: number; since: number | null }>();
      const deadline = Date.now() + 10_000;
      while (dropped.size < simDrones.length && Date.now() < deadline) {
        const message = await client.next(Math.max(1, deadline - Date.now()));
        if (message.type === "telemetry_batch") for (const frame of message.data.frames) lastSeen.set(frame.drone, frame.seq);
        else if (message.type === "event" && message.data.kind === "frames_dropped") dropped.set(message.data.drone, message.data);
      }
      expect(dropped.size).toBe(simDrones.length);
      for (const drone of simDrones) expect({ drone, since: dropped.get(drone)!.since }).toEqual({ drone, since: lastSeen.get(drone)! });

      const since = Object.fromEntries([...dropped].map(([drone, event]) => [drone, event.since!]));
      client.send({ type: "subscribe", id: "refill", data: { drone: "*", since } });
      let ack: any = null;
      const replayed = new Map<string, number[]>();
      const refillDeadline = Date.now() + 5000;
      while ((ack === null || [...replayed.values()].flat().length < ack.data.replayed) && Date.now() < refillDeadline) {
        const message = await client.next(Math.max(1, refillDeadline - Date.now()));
        if (message.type === "ack" && message.id === "refill") ack = message;
        else if (ack !== null && message.type === "telemetry") replayed.set(message.data.drone, [...(replayed.get(message.data.drone) ?? []), message.data.seq]);
      }
      server.advance(0.1);
      let next: any;
      do next = await client.next(Math.max(1, refillDeadline + 5000 - Date.now()));
      while (next.type !== "telemetry_batch" && Date.now() < refillDeadline + 5000);
      for (const drone of simDrones) {
        const latest = server.flight.latestSeq(drone)! - 1; // the batch just read is the newest tick
        const from = since[drone]! + 1;
        expect({ drone, replayed: replayed.get(drone) }).toEqual({ drone, replayed: Array.from({ length: latest - from + 1 }, (_, i) => from + i) });
      }
      expect(next.data.frames.map((frame: any) => frame.seq)).toEqual(simDrones.map((drone) => server.flight.latestSeq(drone)));
      client.close();
    } finally {
      await server.stop();
    }
  });

  /*
   * Regression guard for a bug this test found: a drone subscribed to WHILE
   * the socket was stalled had no entry in `stalledAtSeq`, so on drain the
   * server reported `dropped = latestSeq + 1` (its whole history) with
   * `since: null`, and inflated `skyport_telemetry_frames_dropped_total`.
   * Now the seq at subscription is recorded: only frames after it count.
   */
  test("a drone subscribed while stalled reports only the frames after its subscription, with a usable since", async () => {
    const server = startSimServer({ drones: simDrones, telemetryHz: simHz, replaySeconds: 60, slowConsumerBytes: 64 * 1024, stallSeconds: 3600 });
    try {
      const watched = simDrones.slice(0, -1);
      const late = simDrones.at(-1)!;
      const client = await rawDroneClient(server, `/drone?drone=${watched.join(",")}`);
      await stall(server, client);
      client.send({ type: "subscribe", id: "late", data: { drone: late } });
      // The request reaches the server (its ack waits in the stalled socket's buffer) before the clock moves on.
      await waitUntil(() => subscriptionsOf(client.session).includes(late), 5000, `the subscription to ${late}`);
      server.advance(3);
      client.conn.socket.resume();
      let ack: any = null;
      let event: any = null;
      const deadline = Date.now() + 10_000;
      while ((ack === null || event === null) && Date.now() < deadline) {
        const message = await client.next(Math.max(1, deadline - Date.now()));
        if (message.type === "ack" && message.id === "late") ack = message;
        if (message.type === "event" && message.data.kind === "frames_dropped" && message.data.drone === late) event = message;
      }
      expect(ack.data).toMatchObject({ drone: late, subscribed: true, replayed: 0 });
      const subscribedAt = ack.data.latestSeq as number;
      // Observed: {"dropped": latestSeq + 1 (e.g. 370 although 30 frames were published since the subscribe), "since": null}.
      expect(event.data.since).toBe(subscribedAt);
      expect(event.data.dropped).toBeLessThanOrEqual(server.flight.latestSeq(late)! - subscribedAt);
      client.close();
    } finally {
      await server.stop();
    }
  });
});
