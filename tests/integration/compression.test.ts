/**
 * permessage-deflate (RFC 7692): negotiated when the client offers it. By
 * default (`--compression throttled`) `/drone` compresses what it sends one
 * socket at a time (replies, a `maxHz` subscription's frames) and not the
 * full-rate telemetry it publishes; `--compression drone` compresses that
 * too; `/echo`'s replies are compressed only with `all`; `off` negotiates
 * nothing. Bun has one compression setting per server, so `/echo` negotiates
 * it too: checked here as it is, byte for byte on the wire, with a raw client
 * and with Node's `ws`.
 */
import { afterEach, expect, test } from "bun:test";
import { constants, inflateRawSync } from "node:zlib";
import WebSocket from "ws";
import { encodeFrame, opcodes } from "../support/frames.ts";
import { rawConnect, type RawConnection, type ServerFrame } from "../support/raw.ts";
import { startSimServer } from "../support/server.ts";

const offer = { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function server(overrides: Parameters<typeof startSimServer>[0] = {}) {
  const running = startSimServer({ drones: ["alpha", "bravo"], ...overrides });
  cleanups.push(() => running.stop());
  return running;
}

async function raw(port: number, path: string, headers: Record<string, string> = offer): Promise<RawConnection> {
  const connection = await rawConnect(port, { path, headers: { "Sec-WebSocket-Protocol": "skyport.v1.json", ...headers } });
  cleanups.push(() => connection.close());
  return connection;
}

/** A frame's text: inflated when RSV1 says it was compressed (RFC 7692 §7.2.2: the stripped 00 00 ff ff tail put back). */
function textOf(frame: ServerFrame): string {
  const bytes = frame.rsv1 ? inflateRawSync(Buffer.concat([frame.payload, Buffer.from([0x00, 0x00, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH }) : frame.payload;
  return new TextDecoder().decode(bytes);
}

/** The next telemetry frame on a raw connection, skipping anything else. */
async function nextTelemetry(connection: RawConnection): Promise<ServerFrame> {
  for (;;) {
    const frame = await connection.nextFrame();
    if (JSON.parse(textOf(frame)).type === "telemetry") return frame;
  }
}

test("/drone negotiates permessage-deflate when offered: replies and a maxHz subscription's frames compressed, full-rate telemetry not", async () => {
  const running = server();
  const full = await raw(running.port, "/drone?drone=alpha");
  const slow = await raw(running.port, "/drone?drone=bravo");
  expect(full.status).toBe(101);
  expect(full.headers["sec-websocket-extensions"]).toStartWith("permessage-deflate");
  const welcome = await full.nextFrame();
  expect(welcome.rsv1).toBe(true);
  expect(JSON.parse(textOf(welcome)).type).toBe("welcome");
  await slow.nextFrame();
  slow.send(encodeFrame({ opcode: opcodes.text, payload: JSON.stringify({ type: "subscribe", id: "s", data: { drone: "alpha", maxHz: 2 } }) }));
  const ack = await slow.nextFrame();
  expect(ack.rsv1).toBe(true);
  expect(JSON.parse(textOf(ack))).toMatchObject({ type: "ack", id: "s", data: { maxHz: 2 } });
  running.advance(0.1);
  const fullFrame = await nextTelemetry(full);
  expect(fullFrame.rsv1).toBe(false);
  expect(JSON.parse(textOf(fullFrame))).toMatchObject({ type: "telemetry", data: { drone: "alpha", seq: 0 } });
  const slowFrame = await nextTelemetry(slow);
  expect(slowFrame.rsv1).toBe(true);
  expect(JSON.parse(textOf(slowFrame))).toMatchObject({ type: "telemetry", data: { drone: "alpha", seq: 0 } });
  expect(slowFrame.payload.length).toBeLessThan(textOf(slowFrame).length);
});

test("--compression drone: full-rate telemetry arrives compressed too", async () => {
  const running = server({ compression: "drone" });
  const connection = await raw(running.port, "/drone?drone=alpha");
  await connection.nextFrame();
  running.advance(0.1);
  const frame = await nextTelemetry(connection);
  expect(frame.rsv1).toBe(true);
  expect(JSON.parse(textOf(frame))).toMatchObject({ type: "telemetry", data: { drone: "alpha", seq: 0 } });
});

test("a client that offers nothing gets no extension and plain frames", async () => {
  const running = server();
  const connection = await raw(running.port, "/drone?drone=alpha", {});
  expect(connection.headers["sec-websocket-extensions"]).toBeUndefined();
  const welcome = await connection.nextFrame();
  expect(welcome.rsv1).toBe(false);
  expect(JSON.parse(textOf(welcome)).type).toBe("welcome");
});

test("/echo: negotiated (one setting per Bun server) but replies uncompressed by default; compressed with --compression all", async () => {
  for (const [compression, compressed] of [["throttled", false], ["drone", false], ["all", true]] as const) {
    const running = server({ compression });
    const connection = await raw(running.port, "/echo");
    expect(connection.headers["sec-websocket-extensions"]).toStartWith("permessage-deflate");
    const message = "skyport ".repeat(64);
    connection.send(encodeFrame({ opcode: opcodes.text, payload: message }));
    const reply = await connection.nextFrame();
    expect(reply.rsv1).toBe(compressed);
    expect(textOf(reply)).toBe(message);
  }
});

test("--compression off: nothing is negotiated on /drone or /echo", async () => {
  const running = server({ compression: "off" });
  for (const path of ["/drone?drone=alpha", "/echo"]) {
    const connection = await raw(running.port, path);
    expect(connection.status).toBe(101);
    expect(connection.headers["sec-websocket-extensions"]).toBeUndefined();
  }
});

test("Node's ws with perMessageDeflate exchanges compressed messages with /drone: a subscribe and its ack, then telemetry", async () => {
  const running = server();
  const client = new WebSocket(running.ws("/drone?drone=bravo"), "skyport.v1.json", { perMessageDeflate: true });
  cleanups.push(() => client.terminate());
  const received: any[] = [];
  client.on("message", (data) => received.push(JSON.parse(String(data))));
  await new Promise<void>((resolve, reject) => {
    client.once("open", () => resolve());
    client.once("error", reject);
  });
  expect(client.extensions).toStartWith("permessage-deflate");
  // ws compresses what it sends once the extension is on (its threshold is 1 KiB: this message is over it).
  client.send(JSON.stringify({ type: "subscribe", id: "s".repeat(60), data: { drone: "alpha", maxHz: 5 } }) + " ".repeat(1100));
  await until(() => received.some((message) => message.type === "ack"));
  expect(received.find((message) => message.type === "ack").data).toMatchObject({ drone: "alpha", subscribed: true, maxHz: 5 });
  running.advance(0.5);
  await until(() => received.filter((message) => message.type === "telemetry" && message.data.drone === "alpha").length >= 2);
});

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(5);
  }
}
