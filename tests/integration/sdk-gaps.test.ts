/**
 * The SDK fills a gap it detects by itself (issue 19 #8): a frame whose seq
 * is not the last + 1, with no `frames_lost` announcing it, makes the client
 * resume that subscription with `since` (and its epoch), holding live frames
 * meanwhile; it delivers every frame once and in order. A scripted server on
 * a real loopback socket skips seqs on purpose and answers the resume from
 * its "buffer".
 */
import { afterEach, expect, test } from "bun:test";
import { SkyportClient, type EventData } from "../../client/sdk/index.ts";
import { serveScriptedDrone } from "../support/scripted-drone-server.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const epoch = "Qx3v9LkT2aE";
const frame = (seq: number) => JSON.stringify({ type: "telemetry", data: { drone: "alpha", seq, state: "hovering" } });
const limits = { maxMessageBytes: 65536, commandsPerSecond: 50, telemetryHz: 10, replayBufferFrames: 600, failsafeSeconds: 10, maxSubscriptions: 100, maxAltitudeMetres: 120, maxRadiusMetres: 500 };

/**
 * Sends frames 0..3 and 7 (a silent gap). A `subscribe` with `since` gets
 * the ack, then the buffered frames after `since` up to 7 (or, with
 * `lostUpTo`, a `frames_lost` up to it and the rest: without its range
 * when `rangeless`, as servers before issue 19 said it), then live frame 8.
 */
function gappyServer(options: { lostUpTo?: number; rangeless?: boolean } = {}) {
  const subscribes: any[] = [];
  const server = serveScriptedDrone({
    open(ws) {
      const drones = [{ id: "alpha", state: "hovering", pilot: null, seq: 3, epoch }];
      ws.send(JSON.stringify({ type: "welcome", data: { session: "s1", role: "observer", protocolVersion: 1, drones, subscribed: ["alpha"], limits } }));
      for (const seq of [0, 1, 2, 3, 7]) ws.send(frame(seq));
    },
    message(ws, message) {
      const request = JSON.parse(String(message));
      if (request.type === "ping") return void ws.send(JSON.stringify({ type: "pong", id: request.id, data: { time: 0 } }));
      if (request.type !== "subscribe") return;
      subscribes.push(request.data);
      const since = request.data.since as number;
      const lostUpTo = options.lostUpTo ?? since;
      const replayed = [];
      for (let seq = lostUpTo + 1; seq <= 7; seq++) replayed.push(seq);
      const ack = { drone: "alpha", subscribed: true, replayed: replayed.length, lost: lostUpTo - since, latestSeq: 7, epoch };
      ws.send(JSON.stringify({ type: "ack", id: request.id, data: ack }));
      if (lostUpTo > since) {
        const lost = { drone: "alpha", kind: "frames_lost", message: "gone", lost: lostUpTo - since };
        const event = options.rangeless ? lost : { ...lost, from: since + 1, to: lostUpTo };
        ws.send(JSON.stringify({ type: "event", data: event }));
      }
      for (const seq of replayed) ws.send(frame(seq));
      ws.send(frame(8));
    },
  });
  cleanups.push(() => server.stop(true));
  return { url: `ws://127.0.0.1:${server.port}/drone?drone=alpha`, subscribes };
}

function recordingClient(url: string) {
  const sdk = new SkyportClient({ url });
  cleanups.push(() => sdk.close());
  const seqs: number[] = [];
  const events: EventData[] = [];
  sdk.on("telemetry", (frame) => seqs.push(frame.seq));
  sdk.on("event", (event) => events.push(event));
  return { sdk, seqs, events };
}

async function until(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

test("a silent gap is fetched with since and the epoch: every frame once, in order", async () => {
  const server = gappyServer();
  const { sdk, seqs } = recordingClient(server.url);
  sdk.connect();
  await until("frame 8", () => seqs.includes(8));
  expect(server.subscribes).toEqual([{ drone: "alpha", since: 3, epoch }]);
  expect(seqs).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
});

test("a gap the server no longer has is reported lost, and the frames after it follow in order", async () => {
  const server = gappyServer({ lostUpTo: 5 });
  const { sdk, seqs, events } = recordingClient(server.url);
  sdk.connect();
  await until("frame 8", () => seqs.includes(8));
  expect(seqs).toEqual([0, 1, 2, 3, 6, 7, 8]);
  expect(events).toMatchObject([{ kind: "frames_lost", from: 4, to: 5 }]);
});

test("a server that replays past the gap without saying which frames it lost is asked once, not again and again", async () => {
  const server = gappyServer({ lostUpTo: 5, rangeless: true });
  const { sdk, seqs } = recordingClient(server.url);
  sdk.connect();
  await until("frame 8", () => seqs.includes(8));
  await sdk.ping(); // a round trip after frame 8: a second fetch would have gone out before it
  expect(server.subscribes.length).toBe(1);
  expect(seqs).toEqual([0, 1, 2, 3, 6, 7, 8]);
});
