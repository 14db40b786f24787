/**
 * Connection floods against a real `server.ts` process.
 *
 * 5,000 /echo connections in 10 waves of 500 open at once: a third are
 * standard WebSocket clients that close cleanly, a third raw clients that
 * send a close frame, a third raw clients that vanish at TCP level (FIN or
 * RST) without one; about half send one message first. Throughout, a live
 * echo client keeps round-tripping and `/healthz` keeps answering. Afterwards
 * the server counts 0 echo connections and its RSS is back near the baseline
 * measured after a warm-up wave.
 *
 * Then the admission limits: `--max-connections 50` answers the 51st upgrade
 * with 503, `--max-connections-per-ip 20` the 21st from one address with 429,
 * and both admit again once some close.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closePayload, encodeFrame, opcodes } from "../support/frames.ts";
import { health, mebibytes, rssBytes, rssFallingTo, settledRssBytes, stopServer } from "../support/process-stats.ts";
import { closeCodeOf, rawConnect, type RawConnection } from "../support/raw.ts";
import { spawnServer, type ServerProcess } from "../support/server.ts";
import { Inbox, openSocket } from "../support/sockets.ts";

const waves = 10;
const connectionsPerWave = 500;
/** Longest a wave may take to open, hold and close all its connections, milliseconds. */
const waveTimeoutMs = 10_000;
/** Longest the live client may wait for one echo, and /healthz for one answer, milliseconds. */
const liveTimeoutMs = 2000;
/**
 * How far above the post-warm-up baseline the server's RSS may end, bytes.
 * JavaScriptCore's GC and bmalloc keep freed pages for reuse rather than
 * return them at once, so RSS never drops back exactly; a leak of even 1 KiB
 * per connection would add about 5 MiB over 5,000 connections and a leaked
 * 64 KiB receive buffer per connection over 300 MiB, so 30 MiB separates
 * allocator slack from a per-connection leak of any real size.
 */
const rssSlackBytes = 30 * 1024 * 1024;

const started: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((server) => stopServer(server)));
});

async function startServer(args: string[]): Promise<ServerProcess> {
  const server = await spawnServer(args);
  started.push(server);
  return server;
}

// ------------------------------------------------------------------ one flood connection

type Style = "websocket" | "raw-close-frame" | "raw-fin" | "raw-reset";
const styles: Style[] = ["websocket", "raw-close-frame", "raw-fin", "raw-reset"];

/** Opens one /echo connection, maybe sends one message, and returns how to end it. */
async function openOne(server: ServerProcess, style: Style, message: string | null): Promise<() => Promise<void>> {
  if (style === "websocket") {
    const ws = await openSocket(server.ws("/echo"), undefined, waveTimeoutMs);
    const inbox = new Inbox(ws);
    if (message !== null) {
      ws.send(message);
      const echo = await inbox.next(waveTimeoutMs);
      if (echo !== message) throw new Error(`echo of ${message} came back as ${JSON.stringify(echo)}`);
    }
    return async () => {
      ws.close(1000);
      await inbox.waitClose(waveTimeoutMs);
    };
  }
  const conn: RawConnection = await rawConnect(server.port, { path: "/echo" }, waveTimeoutMs);
  if (conn.status !== 101) {
    conn.close();
    throw new Error(`upgrade answered ${conn.statusLine}`);
  }
  if (message !== null) {
    conn.send(encodeFrame({ opcode: opcodes.text, payload: message }));
    // Raw clients that vanish do not wait for their echo: the server must cope with writing to a dead peer.
    if (style === "raw-close-frame") {
      const echo = await conn.nextFrame(waveTimeoutMs);
      if (new TextDecoder().decode(echo.payload) !== message) throw new Error(`raw echo of ${message} was wrong`);
    }
  }
  return async () => {
    if (style === "raw-close-frame") {
      conn.send(encodeFrame({ opcode: opcodes.close, payload: closePayload(1000), maskKey: new Uint8Array([1, 2, 3, 4]) }));
      const reply = await conn.nextFrame(waveTimeoutMs);
      if (reply.opcode !== opcodes.close || closeCodeOf(reply) !== 1000) throw new Error("the close frame was not answered with 1000");
      await Promise.race([conn.ended, Bun.sleep(waveTimeoutMs)]);
      conn.close();
    } else if (style === "raw-fin") {
      conn.socket.end();
      conn.socket.destroySoon?.();
    } else {
      (conn.socket as unknown as { resetAndDestroy(): void }).resetAndDestroy();
    }
  };
}

/**
 * Opens `count` connections at once and holds them all open together; at
 * that peak, `atPeak` runs (health and live checks); then ends them all.
 */
async function wave(server: ServerProcess, index: number, count: number, atPeak: () => Promise<void> = async () => {}): Promise<{ openMs: number; peakOpen: number }> {
  const t0 = performance.now();
  const closers = await Promise.all(
    Array.from({ length: count }, (_, i) => openOne(server, styles[i % styles.length]!, i % 2 === 0 ? `wave ${index} connection ${i}` : null)),
  );
  const openMs = Math.round(performance.now() - t0);
  const [report] = await Promise.all([health(server, liveTimeoutMs), atPeak()]);
  await Promise.all(closers.map((close) => close()));
  return { openMs, peakOpen: report.connections.echo ?? 0 };
}

// ------------------------------------------------------------------ background checkers

/** A client connected for the whole flood, round-tripping numbered messages. */
function liveEchoLoop(ws: WebSocket, inbox: Inbox) {
  const state = { running: true, roundTrips: 0, maxRttMs: 0, failure: null as string | null, done: Promise.resolve() };
  state.done = (async () => {
    for (let n = 0; state.running && n < 100_000; n++) {
      const t0 = performance.now();
      ws.send(`live ${n}`);
      try {
        const echo = await inbox.next(liveTimeoutMs);
        if (echo !== `live ${n}`) throw new Error(`expected "live ${n}", got ${JSON.stringify(echo)}`);
      } catch (error) {
        state.failure = `live echo ${n}: ${(error as Error).message}`;
        return;
      }
      state.maxRttMs = Math.max(state.maxRttMs, performance.now() - t0);
      state.roundTrips++;
      await Bun.sleep(5);
    }
  })();
  return state;
}

/** Polls /healthz and samples the server's RSS while the flood runs. */
function healthLoop(server: ServerProcess) {
  const state = { running: true, answers: 0, maxLatencyMs: 0, peakRss: 0, failure: null as string | null, done: Promise.resolve() };
  state.done = (async () => {
    for (let n = 0; state.running && n < 10_000; n++) {
      const t0 = performance.now();
      try {
        const report = await health(server, liveTimeoutMs);
        if (report.status !== "ok") throw new Error(`status ${report.status}`);
      } catch (error) {
        state.failure = `/healthz poll ${n}: ${(error as Error).message}`;
        return;
      }
      state.maxLatencyMs = Math.max(state.maxLatencyMs, performance.now() - t0);
      state.peakRss = Math.max(state.peakRss, rssBytes(server.proc.pid));
      state.answers++;
      await Bun.sleep(20);
    }
  })();
  return state;
}

// ------------------------------------------------------------------ tests

describe("connection flood", () => {
  test(`${waves * connectionsPerWave} connections in ${waves} waves of ${connectionsPerWave}: health and a live client unaffected, nothing leaks`, async () => {
    const server = await startServer(["--max-connections-per-ip", "10000"]);
    const pid = server.proc.pid;

    // Warm-up wave: JIT, allocator pools and socket buffers reach their working size first.
    await wave(server, -1, connectionsPerWave);
    await waitForEchoConnections(server, 0);
    const baseline = await settledRssBytes(pid);

    const liveSocket = await openSocket(server.ws("/echo"));
    const live = liveEchoLoop(liveSocket, new Inbox(liveSocket));
    const healthy = healthLoop(server);
    const stats: Array<{ openMs: number; peakOpen: number }> = [];
    /** At each wave's peak the live client must have completed a fresh round trip too. */
    const liveRoundTripAtPeak = async () => {
      const before = live.roundTrips;
      const deadline = Date.now() + liveTimeoutMs;
      while (live.roundTrips === before && live.failure === null && Date.now() < deadline) await Bun.sleep(2);
      if (live.roundTrips === before) throw new Error(`the live echo client made no round trip in ${liveTimeoutMs} ms at the peak: ${live.failure}`);
    };
    for (let i = 0; i < waves; i++) {
      const result = await Promise.race([
        wave(server, i, connectionsPerWave, liveRoundTripAtPeak),
        Bun.sleep(waveTimeoutMs * 2).then(() => {
          throw new Error(`wave ${i} did not finish within ${waveTimeoutMs * 2} ms`);
        }),
      ]);
      stats.push(result);
      expect(live.failure).toBeNull();
      expect(healthy.failure).toBeNull();
    }
    live.running = false;
    healthy.running = false;
    await Promise.all([live.done, healthy.done]);
    expect(live.failure).toBeNull();
    expect(healthy.failure).toBeNull();
    expect(live.roundTrips).toBeGreaterThan(waves);
    expect(healthy.answers).toBeGreaterThan(waves);
    // Each wave really held its 500 connections open at once (plus the live client).
    for (const { peakOpen } of stats) expect(peakOpen).toBe(connectionsPerWave + 1);

    // Everything closed: the live client is the last, then none.
    await waitForEchoConnections(server, 1);
    liveSocket.close();
    await waitForEchoConnections(server, 0);
    expect((await health(server)).connections.total).toBe(0);

    // The collector returns memory in its own time: wait for RSS to come within the bound (see rssSlackBytes), then check it did.
    const final = await rssFallingTo(pid, baseline + rssSlackBytes);
    console.log(
      `flood: baseline RSS ${mebibytes(baseline)} MiB, peak ${mebibytes(healthy.peakRss)} MiB, final ${mebibytes(final)} MiB; ` +
        `waves opened in ${stats.map((s) => s.openMs).join("/")} ms; live echo ${live.roundTrips} round trips, max ${Math.round(live.maxRttMs)} ms; ` +
        `/healthz ${healthy.answers} answers, max ${Math.round(healthy.maxLatencyMs)} ms`,
    );
    expect(final).toBeLessThanOrEqual(baseline + rssSlackBytes);
  }, 60_000);
});

async function waitForEchoConnections(server: ServerProcess, count: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  while (Date.now() < deadline) {
    seen = (await health(server)).connections.echo ?? 0;
    if (seen === count) return;
    await Bun.sleep(50);
  }
  throw new Error(`/healthz still counts ${seen} echo connections after ${timeoutMs} ms (expected ${count})`);
}

describe("admission limits", () => {
  /** Opens raw /echo connections one by one; returns them (all must be admitted). */
  async function admit(server: ServerProcess, count: number): Promise<RawConnection[]> {
    const open: RawConnection[] = [];
    for (let i = 0; i < count; i++) {
      const conn = await rawConnect(server.port, { path: "/echo" });
      open.push(conn);
      expect(conn.status).toBe(101);
    }
    return open;
  }

  function closeAll(connections: RawConnection[]): void {
    for (const conn of connections) conn.close();
  }

  test("--max-connections 50: the 51st upgrade gets 503 with Retry-After; after closing some, new ones are admitted", async () => {
    const server = await startServer(["--max-connections", "50"]);
    const open = await admit(server, 50);
    const refused = await rawConnect(server.port, { path: "/echo" });
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBe("10");
    refused.close();
    // A /drone upgrade counts against the same total.
    const drone = await rawConnect(server.port, { path: "/drone" });
    expect(drone.status).toBe(503);
    drone.close();

    closeAll(open.splice(0, 5));
    await waitForTotal(server, 45);
    open.push(...(await admit(server, 5)));
    const again = await rawConnect(server.port, { path: "/echo" });
    expect(again.status).toBe(503);
    again.close();
    closeAll(open);
  });

  test("--max-connections-per-ip 20: the 21st from 127.0.0.1 gets 429 with Retry-After; after closing some, new ones are admitted", async () => {
    const server = await startServer(["--max-connections-per-ip", "20"]);
    const open = await admit(server, 20);
    const refused = await rawConnect(server.port, { path: "/echo" });
    expect(refused.status).toBe(429);
    expect(refused.headers["retry-after"]).toBe("10");
    expect(refused.body).toContain("127.0.0.1");
    refused.close();

    closeAll(open.splice(0, 3));
    await waitForTotal(server, 17);
    open.push(...(await admit(server, 3)));
    const again = await rawConnect(server.port, { path: "/echo" });
    expect(again.status).toBe(429);
    again.close();
    closeAll(open);
    await waitForTotal(server, 0);
  });
});

async function waitForTotal(server: ServerProcess, total: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  while (Date.now() < deadline) {
    seen = (await health(server)).connections.total;
    if (seen === total) return;
    await Bun.sleep(20);
  }
  throw new Error(`/healthz counts ${seen} connections after ${timeoutMs} ms (expected ${total})`);
}
