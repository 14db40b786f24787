/**
 * The client SDK (`client/sdk/`) against real in-process servers: the
 * simulated fleet on a fake clock for anything about drones, and bare
 * `Bun.serve` sockets for servers that misbehave (never answer, never speak).
 * Where a test is about the client's own timing (stable connections, an
 * idle link), the client runs on a `FakeClock` too and the test moves time.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { ServerWebSocket } from "bun";
import {
  reconnectDelayMs,
  SkyportClient,
  SkyportError,
  type SkyportClientOptions,
  type SkyportEvents,
} from "../../client/sdk/index.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { serveScriptedDrone } from "../support/scripted-drone-server.ts";
import { startSimServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

/** Everything a test started, stopped after it whatever happened. */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function simServer(overrides: Parameters<typeof startSimServer>[0] = {}) {
  const server = startSimServer(overrides);
  cleanups.push(() => server.stop());
  return server;
}

function client(options: SkyportClientOptions): SkyportClient {
  const sdk = new SkyportClient(options);
  cleanups.push(() => sdk.close());
  return sdk;
}

/** Resolves with the next `event` whose payload matches; fails after timeoutMs. Call it before the action that causes the event. */
function nextEvent<E extends keyof SkyportEvents>(
  sdk: SkyportClient,
  event: E,
  match: (payload: SkyportEvents[E]) => boolean = () => true,
  timeoutMs = 3000,
): Promise<SkyportEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no matching "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = sdk.on(event, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      stop();
      resolve(payload);
    });
  });
}

/** Connects and resolves once the client is welcomed. */
async function connected(sdk: SkyportClient) {
  const welcome = nextEvent(sdk, "welcome");
  sdk.connect();
  return welcome;
}

/** The SkyportError a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<SkyportError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SkyportError);
    return error as SkyportError;
  }
  throw new Error("expected the promise to reject");
}

/** Waits until the client has delivered telemetry up to `seq` for a drone. */
function seenSeq(sdk: SkyportClient, drone: string, seq: number, timeoutMs = 3000): Promise<unknown> {
  if ((sdk.lastSeq(drone) ?? -1) >= seq) return Promise.resolve();
  return nextEvent(sdk, "telemetry", (frame) => frame.drone === drone && frame.seq >= seq, timeoutMs);
}

/**
 * A bare WebSocket server for misbehaviour: it accepts, optionally sends a
 * plausible welcome, and then never answers anything (except, with
 * `ackCommands`, an ack for each command, whose done never comes).
 */
function silentServer(options: { welcome: boolean; ackCommands?: boolean }) {
  const sockets = new Set<ServerWebSocket<unknown>>();
  const received: string[] = [];
  let opened = 0;
  const server = serveScriptedDrone({
    open(ws) {
      opened++;
      sockets.add(ws);
      if (!options.welcome) return;
      const limits = { maxMessageBytes: 65536, commandsPerSecond: 50, telemetryHz: 10, replayBufferFrames: 600, failsafeSeconds: 10 };
      const drones = [{ id: "alpha", state: "landed", pilot: null, seq: null }];
      ws.send(JSON.stringify({ type: "welcome", data: { session: `silent${opened}`, role: "observer", protocolVersion: 1, drones, subscribed: ["alpha"], limits } }));
    },
    message(ws, message) {
      received.push(String(message));
      const request = JSON.parse(String(message));
      if (options.ackCommands && request.type === "command") ws.send(JSON.stringify({ type: "ack", id: request.id, data: { drone: "alpha", command: request.data.name } }));
    },
    close(ws) {
      sockets.delete(ws);
    },
  });
  cleanups.push(() => server.stop(true));
  return {
    url: `ws://127.0.0.1:${server.port}/drone`,
    sockets,
    received,
    get opened() {
      return opened;
    },
  };
}

/**
 * A WebSocket that can be frozen into a half-open link: while frozen it
 * neither delivers nor sends anything and ignores close(), so the server
 * still believes the old connection is alive. It also lets a test await the
 * next message it delivers (after the client has handled it).
 */
class FreezableSocket {
  static all: FreezableSocket[] = [];
  readonly inner: WebSocket;
  frozen = false;
  private delivered: Array<() => void> = [];
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  constructor(url: string, protocols?: string[]) {
    this.inner = new WebSocket(url, protocols);
    this.inner.onopen = (event) => this.onopen?.(event);
    this.inner.onmessage = (event) => {
      if (this.frozen) return;
      this.onmessage?.(event);
      for (const resolve of this.delivered.splice(0)) resolve();
    };
    this.inner.onclose = (event) => {
      if (!this.frozen) this.onclose?.(event);
    };
    this.inner.onerror = (event) => this.onerror?.(event);
    FreezableSocket.all.push(this);
  }

  get readyState(): number {
    return this.inner.readyState;
  }

  /** Resolves once the next message has been delivered to the client. */
  nextMessage(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.delivered.push(resolve);
    return promise;
  }

  send(text: string): void {
    if (!this.frozen) this.inner.send(text);
  }

  close(code?: number, reason?: string): void {
    if (!this.frozen) this.inner.close(code, reason);
  }
}

describe("connection", () => {
  test("connect: state events, welcome, session and leases from the welcome; close sends 1000", async () => {
    const server = simServer();
    const sdk = client({ url: server.ws("/drone") });
    const states: string[] = [];
    sdk.on("state", (state) => states.push(state));
    expect(sdk.state).toBe("closed");

    const welcome = await connected(sdk);
    expect(states).toEqual(["connecting", "open"]);
    expect(sdk.state).toBe("open");
    expect(welcome.protocolVersion).toBe(2);
    expect(welcome.subscribed).toEqual(["alpha"]);
    expect(sdk.session).toBe(welcome.session);
    expect(sdk.welcome).toEqual(welcome);
    expect(sdk.pilotOf("alpha")).toBeNull();
    expect(sdk.isPilot("alpha")).toBe(false);
    expect(await sdk.ping()).toBeGreaterThanOrEqual(0);

    await sdk.close();
    expect(states).toEqual(["connecting", "open", "closed"]);
    const closeLine = server.logger.lines.find((line) => line.event === "ws_close");
    expect(closeLine?.code).toBe(1000);
  });

  test("telemetry arrives as events and through the async iterator, which ends on close()", async () => {
    const server = simServer();
    const sdk = client({ url: server.ws("/drone") });
    await connected(sdk);
    const frames = sdk.telemetry("alpha");
    server.advance(0.5);
    const seqs: number[] = [];
    for await (const frame of frames) {
      seqs.push(frame.seq);
      expect(frame.state).toBe("landed");
      if (seqs.length === 5) break;
    }
    expect(seqs).toEqual([0, 1, 2, 3, 4]);
    expect(sdk.lastSeq("alpha")).toBe(4);

    const open = sdk.telemetry();
    const ended = open.next();
    await sdk.close();
    expect(await ended).toEqual({ value: undefined, done: true });
  });

  test("a listener that throws goes to the logger; the other listeners and the connection carry on", async () => {
    const server = simServer();
    const logged: Array<[string, unknown]> = [];
    const sdk = client({ url: server.ws("/drone"), logger: { error: (message, cause) => logged.push([message, cause]) } });
    const failure = new Error("page handler bug");
    sdk.on("welcome", () => {
      throw failure;
    });
    const welcome = await connected(sdk);
    expect(welcome.subscribed).toEqual(["alpha"]);
    expect(logged).toEqual([['skyport: a "welcome" listener threw:', failure]]);
    expect(await sdk.ping()).toBeGreaterThanOrEqual(0);
  });

  test("bad options are refused up front, naming the option and the value", () => {
    expect(() => new SkyportClient({ url: "http://localhost:8080/drone" })).toThrow(`'url' must be a ws:// or wss:// URL: received "http://localhost:8080/drone"`);
    expect(() => new SkyportClient({ url: "ws://x/drone", requestTimeoutMs: 0 })).toThrow("'requestTimeoutMs' must be a positive number of milliseconds: received 0");
  });
});

describe("requests", () => {
  test("claim, then a command resolves on its ack and its done resolves on completion", async () => {
    const server = simServer();
    const sdk = client({ url: server.ws("/drone") });
    await connected(sdk);
    const lease = nextEvent(sdk, "lease");
    const claimed = await sdk.claim("alpha");
    expect(claimed).toEqual({ drone: "alpha", role: "pilot", pilot: sdk.session!, resume: expect.any(String) });
    expect(sdk.isPilot("alpha")).toBe(true);
    expect(await lease).toEqual({ drone: "alpha", pilot: sdk.session, reason: "claimed" });

    const takeoff = await sdk.command("alpha", "takeoff");
    expect(takeoff.ack).toMatchObject({ drone: "alpha", command: "takeoff", target: { x: 0, y: 0, z: 2 } });
    expect(takeoff.roundTripMs).toBeGreaterThanOrEqual(0);
    server.advance(2);
    expect(await takeoff.done).toEqual({ drone: "alpha", command: "takeoff", status: "completed" });

    const up = await sdk.command("alpha", "up", [3]);
    expect(up.ack).toMatchObject({ command: "up 3", target: { z: 5 } });
    server.advance(3);
    expect((await up.done).status).toBe("completed");

    const status = await sdk.command("alpha", "status");
    expect(status.ack.status.state).toBe("hovering");
    await status.done;

    expect(await sdk.release("alpha")).toEqual({ drone: "alpha", role: "observer", pilot: null });
    expect(sdk.isPilot("alpha")).toBe(false);
  });

  test("a mission uploaded and started reaches every client as mission and missionProgress events", async () => {
    const server = simServer();
    const pilot = client({ url: server.ws("/drone") });
    const viewer = client({ url: server.ws("/drone") });
    await connected(pilot);
    await connected(viewer);
    await pilot.claim("alpha");
    const items = [{ type: "takeoff" as const, altitude: 5 }, { type: "land" as const }];
    const shown = nextEvent(viewer, "mission");
    const upload = await pilot.mission("alpha", "mission", items);
    expect(await upload.done).toMatchObject({ status: "completed" });
    expect(await shown).toEqual({ drone: "alpha", items });
    const running = nextEvent(viewer, "missionProgress", (progress) => progress.state === "running");
    await (await pilot.mission("alpha", "mission_start")).done;
    expect(await running).toMatchObject({ drone: "alpha", current: 0, reached: [] });
    const completed = nextEvent(viewer, "missionProgress", (progress) => progress.state === "completed");
    server.advance(10);
    expect(await completed).toMatchObject({ drone: "alpha", reached: [0, 1], distanceToGo: 0 });
    const cleared = nextEvent(viewer, "mission");
    await (await pilot.mission("alpha", "mission_clear")).done;
    expect(await cleared).toEqual({ drone: "alpha", items: null });
  });

  test("an error reply rejects with the server's code and field", async () => {
    const server = simServer();
    const sdk = client({ url: server.ws("/drone") });
    await connected(sdk);

    const notPilot = await rejection(sdk.command("alpha", "takeoff"));
    expect(notPilot.code).toBe("not_pilot");
    expect(notPilot.message).toBe("claim alpha before flying it");

    await sdk.claim("alpha");
    const range = await rejection(sdk.command("alpha", "forward", [5000]));
    expect(range.code).toBe("out_of_range");
    expect(range.field).toBe("data.args[0]");

    const unknown = await rejection(sdk.claim("zulu"));
    expect(unknown.code).toBe("unknown_drone");
    expect(unknown.field).toBe("data.drone");

    const other = client({ url: server.ws("/drone") });
    await connected(other);
    expect(other.pilotOf("alpha")).toBe(sdk.session);
    const taken = await rejection(other.claim("alpha"));
    expect(taken.code).toBe("lease_taken");
    expect(taken.message).toContain(`alpha is already flown by session ${sdk.session}`);
  });

  test("a request the server never answers rejects with timeout", async () => {
    const server = silentServer({ welcome: true });
    const sdk = client({ url: server.url, requestTimeoutMs: 50, staleAfterMs: 10_000 });
    await connected(sdk);
    const error = await rejection(sdk.command("alpha", "takeoff"));
    expect(error.code).toBe("timeout");
    expect(error.message).toBe("command timed out after 50 ms waiting for the server's reply");
    expect(server.received.map((text) => JSON.parse(text).type)).toContain("command");
    expect(sdk.state).toBe("open");
  });

  test("requests in flight reject with disconnected when the socket drops; close() rejects with closed", async () => {
    const server = silentServer({ welcome: true });
    const sdk = client({ url: server.url, staleAfterMs: 10_000, backoff: { initialMs: 10_000 } });
    await connected(sdk);
    const pinged = sdk.ping();
    const claimed = sdk.claim("alpha");
    for (const ws of server.sockets) ws.close(1011, "going away");
    expect((await rejection(pinged)).code).toBe("disconnected");
    expect((await rejection(claimed)).code).toBe("disconnected");
    expect(sdk.state).toBe("reconnecting");

    // Made while the link is down: waits for it, until close() gives up.
    const waiting = sdk.ping();
    await sdk.close();
    const closed = await rejection(waiting);
    expect(closed.code).toBe("closed");
  });

  test("a command's done rejects with disconnected when the socket drops before it completes", async () => {
    const server = silentServer({ welcome: true, ackCommands: true });
    const sdk = client({ url: server.url, staleAfterMs: 10_000, backoff: { initialMs: 10_000 } });
    await connected(sdk);
    const takeoff = await sdk.command("alpha", "takeoff");
    expect<object>(takeoff.ack).toEqual({ drone: "alpha", command: "takeoff" }); // the silent server's ack has no target
    for (const ws of server.sockets) ws.close(1001, "server shutting down");
    const error = await rejection(takeoff.done);
    expect(error.code).toBe("disconnected");
  });
});

describe("reconnection", () => {
  test("the backoff doubles to the ceiling with equal jitter", () => {
    const backoff = { initialMs: 500, maxMs: 30_000, stableAfterMs: 10_000 };
    expect([1, 2, 3, 4].map((attempt) => reconnectDelayMs(attempt, backoff, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([1, 2, 3, 4].map((attempt) => reconnectDelayMs(attempt, backoff, () => 0.999999))).toEqual([500, 1000, 2000, 4000]);
    expect(reconnectDelayMs(20, backoff, () => 0.5)).toBe(22_500);
  });

  test("a lease the server dropped for silence while the socket stayed open is reclaimed with the resume token (issue 19)", async () => {
    const server = simServer({ leaseGraceSeconds: 3 });
    const sdk = client({ url: server.ws("/drone") });
    await connected(sdk);
    await sdk.claim("alpha");
    const dropped = nextEvent(sdk, "lease", (lease) => lease.pilot === null);
    const back = nextEvent(sdk, "lease", (lease) => lease.pilot === sdk.session && lease.reason === "reclaimed");
    // The server found this pilot silent (a frozen tab): the lease is reserved for it while the failsafe holds.
    server.flight.pilotSilent(sdk.session!, 5);
    expect(await dropped).toMatchObject({ drone: "alpha", reason: "pilot silent for 5 s (no message or pong)", reservedSeconds: 3 });
    expect(await back).toMatchObject({ drone: "alpha", pilot: sdk.session });
    expect(sdk.isPilot("alpha")).toBe(true);
  });

  test("after a restart on the same port: reconnects on schedule, resets the stream, reclaims the lease, sends queued requests", async () => {
    const first = startSimServer();
    let firstStopped = false;
    cleanups.push(() => (firstStopped ? undefined : first.stop()));
    const jitter = [0, 1, 0.5, 0.25, 0, 0, 0, 0];
    let draws = 0;
    const backoff = { initialMs: 40, maxMs: 100, stableAfterMs: 60_000 };
    const sdk = client({ url: first.ws("/drone"), backoff, random: () => jitter[draws++ % jitter.length]! });
    const firstWelcome = await connected(sdk);
    await sdk.claim("alpha");
    first.advance(0.5);
    await seenSeq(sdk, "alpha", 4);

    const attempts: Array<{ attempt: number; delayMs: number; at: number; heardAt: number }> = [];
    sdk.on("reconnecting", (info) => attempts.push({ ...info, heardAt: Date.now() }));
    const thirdAttempt = nextEvent(sdk, "reconnecting", (info) => info.attempt === 3);
    await first.stop();
    firstStopped = true;
    await thirdAttempt;
    const queuedPing = sdk.ping();

    const second = simServer({ port: first.port });
    const reset = nextEvent(sdk, "event", (event) => event.kind === "stream_reset");
    const secondWelcome = nextEvent(sdk, "welcome");
    const reclaimed = nextEvent(sdk, "lease", (lease) => lease.pilot !== null && lease.pilot === sdk.session);
    const welcome = await secondWelcome;
    expect(welcome.session).not.toBe(firstWelcome.session);
    expect(sdk.state).toBe("open");

    // delay = min(max, initial * 2^(attempt-1)) * (0.5 + random/2)
    const expected = [20, 80, 75, 63, 50, 50, 50, 50];
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    attempts.forEach((info, i) => {
      expect(info.attempt).toBe(i + 1);
      expect(info.delayMs).toBe(expected[i]!);
      expect(Math.abs(info.at - info.heardAt - info.delayMs)).toBeLessThanOrEqual(5);
      // Each attempt dialled no earlier than announced (timers may be ~1 ms early).
      const nextHeard = attempts[i + 1]?.heardAt;
      if (nextHeard !== undefined) expect(nextHeard).toBeGreaterThanOrEqual(info.at - 2);
    });

    // The new server's stream began again: the client's seq 4 is ahead of it.
    expect((await reset).drone).toBe("alpha");
    expect(sdk.lastSeq("alpha")).toBeNull();
    await reclaimed;
    expect(second.flight.fleet.pilotOf("alpha")).toBe(sdk.session);
    expect(sdk.isPilot("alpha")).toBe(true);
    expect(await queuedPing).toBeGreaterThanOrEqual(0);

    second.advance(0.2);
    await seenSeq(sdk, "alpha", 1);
    expect(sdk.lastSeq("alpha")).toBe(1);
  });

  test("a dropped socket resumes with since: every frame exactly once, in order, even those published during the resume", async () => {
    const server = simServer();
    const sdk = client({ url: server.ws("/drone"), backoff: { initialMs: 20, maxMs: 20 } });
    const seqs: number[] = [];
    sdk.on("telemetry", (frame) => seqs.push(frame.seq));
    await connected(sdk);
    server.advance(1);
    await seenSeq(sdk, "alpha", 9);

    const reconnecting = nextEvent(sdk, "reconnecting");
    server.connections.closeAll(1012, "test: drop the client");
    await reconnecting;
    server.advance(1); // frames 10..19 go to nobody but the replay buffer

    // Frames published right after the welcome reach the new socket live,
    // before the server handles the resume: the client must not let them
    // push lastSeq past the frames still to be replayed.
    const welcomed = nextEvent(sdk, "welcome");
    const stopLive = sdk.on("welcome", () => server.advance(0.3));
    await welcomed;
    stopLive();
    await seenSeq(sdk, "alpha", 22);
    server.advance(0.5);
    await seenSeq(sdk, "alpha", 27);

    expect(seqs).toEqual(Array.from({ length: 28 }, (_, seq) => seq));
    const resume = server.logger.lines.filter((line) => line.event === "ws_open");
    expect(resume.length).toBe(2);
  });

  test("watching * (one batch per tick) resumes every drone after a drop: each frame exactly once, in order", async () => {
    const server = simServer({ drones: ["alpha", "bravo"] });
    const sdk = client({ url: server.ws("/drone?drone=*"), backoff: { initialMs: 20, maxMs: 20 } });
    const seqs = new Map<string, number[]>();
    sdk.on("telemetry", (frame) => seqs.set(frame.drone, [...(seqs.get(frame.drone) ?? []), frame.seq]));
    expect((await connected(sdk)).subscribed).toEqual(["*"]);
    server.advance(1);
    await seenSeq(sdk, "bravo", 9);

    const reconnecting = nextEvent(sdk, "reconnecting");
    server.connections.closeAll(1012, "test: drop the client");
    await reconnecting;
    server.advance(1); // frames 10..19 of both drones go to nobody but the replay buffers

    const welcomed = nextEvent(sdk, "welcome");
    const stopLive = sdk.on("welcome", () => server.advance(0.3)); // live batches race the resume
    await welcomed;
    stopLive();
    await seenSeq(sdk, "alpha", 22);
    await seenSeq(sdk, "bravo", 22);
    server.advance(0.5);
    await seenSeq(sdk, "bravo", 27);

    const expected = Array.from({ length: 28 }, (_, seq) => seq);
    expect(seqs.get("alpha")).toEqual(expected);
    expect(seqs.get("bravo")).toEqual(expected);
  });

  test("frames no longer buffered are announced with frames_lost, and the stream continues after them", async () => {
    const server = simServer({ replaySeconds: 0.5 }); // 5 frames at 10 Hz
    const sdk = client({ url: server.ws("/drone"), backoff: { initialMs: 20, maxMs: 20 } });
    const seqs: number[] = [];
    sdk.on("telemetry", (frame) => seqs.push(frame.seq));
    await connected(sdk);
    server.advance(0.3);
    await seenSeq(sdk, "alpha", 2);
    const reconnecting = nextEvent(sdk, "reconnecting");
    server.connections.closeAll(1012, "test: drop the client");
    await reconnecting;
    server.advance(1); // 3..12 published; the buffer keeps 8..12
    const lost = nextEvent(sdk, "event", (event) => event.kind === "frames_lost");
    await seenSeq(sdk, "alpha", 12);
    expect(await lost).toMatchObject({ drone: "alpha", lost: 5 });
    expect(seqs).toEqual([0, 1, 2, 8, 9, 10, 11, 12]);
  });

  test("the backoff starts over after a connection that stayed open for stableAfterMs", async () => {
    const server = simServer();
    const clock = new FakeClock();
    const sdk = client({ url: server.ws("/drone"), backoff: { initialMs: 20, maxMs: 1000, stableAfterMs: 100 }, random: () => 0, clock });
    const attempts: number[] = [];
    sdk.on("reconnecting", (info) => attempts.push(info.attempt));
    await connected(sdk);

    // Two quick drops in a row (no time passes on the client's clock): the second connection was not stable.
    let dropped = nextEvent(sdk, "reconnecting");
    server.connections.closeAll(1012, "drop");
    let wait = await dropped;
    let welcomed = nextEvent(sdk, "welcome");
    clock.advance(wait.delayMs);
    await welcomed;
    dropped = nextEvent(sdk, "reconnecting");
    server.connections.closeAll(1012, "drop");
    wait = await dropped;
    expect(attempts).toEqual([1, 2]);

    welcomed = nextEvent(sdk, "welcome");
    clock.advance(wait.delayMs);
    await welcomed;
    clock.advance(150); // stay open past stableAfterMs
    dropped = nextEvent(sdk, "reconnecting");
    server.connections.closeAll(1012, "drop");
    await dropped;
    expect(attempts).toEqual([1, 2, 1]);
  });

  test("a lease still held by the client's previous, half-open session is reclaimed as soon as the server frees it", async () => {
    FreezableSocket.all = [];
    const server = simServer();
    const sdk = client({
      url: server.ws("/drone"),
      staleAfterMs: 150,
      backoff: { initialMs: 20, maxMs: 20 },
      WebSocketImpl: FreezableSocket as unknown as typeof WebSocket,
    });
    const firstWelcome = await connected(sdk);
    await sdk.claim("alpha");
    const oldSocket = FreezableSocket.all[0]!;

    // The link goes half-open: the server still thinks the old session flies alpha.
    const secondWelcome = nextEvent(sdk, "welcome", (welcome) => welcome.session !== firstWelcome.session);
    oldSocket.frozen = true;
    const welcome = await secondWelcome;
    expect(welcome.drones[0]!.pilot).toBe(firstWelcome.session);
    expect(sdk.isPilot("alpha")).toBe(false);

    // The server finally notices the old socket is gone: the client takes the lease back at once.
    const reclaimed = nextEvent(sdk, "lease", (lease) => lease.pilot === welcome.session);
    oldSocket.inner.close();
    await reclaimed;
    expect(server.flight.fleet.pilotOf("alpha")).toBe(welcome.session);
    expect(sdk.isPilot("alpha")).toBe(true);
  });
});

describe("staleness", () => {
  test("a server that accepts but never sends is declared dead and redialled", async () => {
    FreezableSocket.all = [];
    const server = silentServer({ welcome: false });
    const clock = new FakeClock();
    const staleAfterMs = 150;
    const sdk = client({ url: server.url, staleAfterMs, clock, backoff: { initialMs: 20, maxMs: 20 }, WebSocketImpl: FreezableSocket as unknown as typeof WebSocket });
    const drops: Array<{ attempt: number }> = [];
    sdk.on("reconnecting", (info) => drops.push(info));
    sdk.connect();
    await waitUntil(() => FreezableSocket.all[0]?.readyState === WebSocket.OPEN, 2000, "the client's socket opened");
    // Silent for exactly staleAfterMs: still alive; the next watchdog check (every staleAfterMs / 3) declares it dead.
    for (let elapsed = 0; elapsed < staleAfterMs; elapsed += staleAfterMs / 3) clock.advance(staleAfterMs / 3);
    expect(drops).toEqual([]);
    clock.advance(staleAfterMs / 3);
    expect(drops.map((info) => info.attempt)).toEqual([1]);
    expect(sdk.state).toBe("reconnecting");
    clock.advance(20); // the backoff: it dials again
    await waitUntil(() => server.opened >= 2, 2000, "a second connection");
  });

  test("a welcomed socket that falls silent is dead too; pings went out every staleAfterMs / 3", async () => {
    const server = silentServer({ welcome: true });
    const sdk = client({ url: server.url, staleAfterMs: 150, backoff: { initialMs: 20, maxMs: 20 } });
    await connected(sdk);
    const dropped = nextEvent(sdk, "state", (state) => state === "reconnecting");
    await dropped;
    const pings = server.received.filter((text) => JSON.parse(text).type === "ping");
    expect(pings.length).toBeGreaterThanOrEqual(2);
  });

  test("an idle but healthy link stays open: its pings are answered", async () => {
    FreezableSocket.all = [];
    const server = simServer(); // no telemetry: the server's fake clock never moves
    const clock = new FakeClock();
    const staleAfterMs = 250;
    const sdk = client({ url: server.ws("/drone"), staleAfterMs, clock, WebSocketImpl: FreezableSocket as unknown as typeof WebSocket });
    await connected(sdk);
    const socket = FreezableSocket.all[0]!;
    const drops: unknown[] = [];
    sdk.on("reconnecting", (info) => drops.push(info));
    // Four stale periods of silence but for the pongs, one watchdog check (staleAfterMs / 3) at a time.
    for (let check = 1; check <= 12; check++) {
      const pong = socket.nextMessage();
      clock.advance(staleAfterMs / 3);
      if (drops.length > 0) break; // declared dead at this check: no pong will come
      await pong;
    }
    expect(drops).toEqual([]);
    expect(sdk.state).toBe("open");
    await sdk.close();
    const closeLine = server.logger.lines.find((line) => line.event === "ws_close");
    expect(closeLine?.messagesIn).toBeGreaterThanOrEqual(8);
  });
});
