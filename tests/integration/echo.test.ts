/** The echo contract on /echo, through real sockets on an ephemeral port. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closePayload, encodeFrame, opcodes } from "../support/frames.ts";
import { closeCodeOf, rawConnect } from "../support/raw.ts";
import { startTestServer } from "../support/server.ts";
import { Inbox, openSocket } from "../support/sockets.ts";

const sixteenMebibytes = 16 * 1024 * 1024;
let server: ReturnType<typeof startTestServer>;

beforeAll(() => {
  server = startTestServer();
});
afterAll(async () => {
  await server.stop();
});

async function echoClient() {
  const ws = await openSocket(server.ws("/echo"));
  return { ws, inbox: new Inbox(ws) };
}

function bytes(length: number, seed = 7): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) out[i] = x = (x * 1103515245 + 12345) & 0xff;
  return out;
}

describe("echo contract", () => {
  test("text comes back as the same text", async () => {
    const { ws, inbox } = await echoClient();
    ws.send("hello, skyport");
    expect(await inbox.next()).toBe("hello, skyport");
    ws.close();
  });

  test("binary comes back as binary, byte for byte", async () => {
    const { ws, inbox } = await echoClient();
    const payload = bytes(1000);
    ws.send(payload);
    const reply = await inbox.next();
    expect(reply).toBeInstanceOf(ArrayBuffer);
    expect(new Uint8Array(reply as ArrayBuffer)).toEqual(payload);
    ws.close();
  });

  test("empty text and empty binary messages keep their opcode", async () => {
    const { ws, inbox } = await echoClient();
    ws.send("");
    ws.send(new Uint8Array(0));
    expect(await inbox.next()).toBe("");
    const binary = await inbox.next();
    expect(binary).toBeInstanceOf(ArrayBuffer);
    expect((binary as ArrayBuffer).byteLength).toBe(0);
    ws.close();
  });

  test("multi-byte UTF-8, including 4-byte emoji, survives unchanged", async () => {
    const { ws, inbox } = await echoClient();
    const text = "héllo wörld – 日本語 – 🚁🛰️👩🏽‍🚀 – 𝄞";
    ws.send(text);
    expect(await inbox.next()).toBe(text);
    ws.close();
  });

  test("64 KiB text and binary messages", async () => {
    const { ws, inbox } = await echoClient();
    const text = "skyport ".repeat(8192);
    const binary = bytes(64 * 1024, 3);
    ws.send(text);
    ws.send(binary);
    expect(await inbox.next()).toBe(text);
    expect(new Uint8Array((await inbox.next()) as ArrayBuffer)).toEqual(binary);
    ws.close();
  });

  test("a message of exactly the maximum size is echoed", async () => {
    const { ws, inbox } = await echoClient();
    const payload = bytes(sixteenMebibytes, 11);
    ws.send(payload);
    const reply = new Uint8Array((await inbox.next(20_000)) as ArrayBuffer);
    expect(reply.length).toBe(sixteenMebibytes);
    expect(Buffer.compare(reply, payload)).toBe(0);
    ws.close();
  });

  test("one byte over the maximum closes with 1009", async () => {
    const { ws, inbox } = await echoClient();
    ws.send(new Uint8Array(sixteenMebibytes + 1));
    expect((await inbox.waitClose(20_000)).code).toBe(1009);
    expect(inbox.pending).toBe(0);
  });

  test("the maximum is configurable", async () => {
    const small = startTestServer({ echoMaxBytes: 1024 });
    const ws = await openSocket(small.ws("/echo"));
    const inbox = new Inbox(ws);
    ws.send("x".repeat(1024));
    expect(await inbox.next()).toBe("x".repeat(1024));
    ws.send("x".repeat(1025));
    expect((await inbox.waitClose()).code).toBe(1009);
    await small.stop();
  });

  test("1,000 pipelined messages come back in order", async () => {
    const { ws, inbox } = await echoClient();
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) ws.send(`message ${i}`);
      else ws.send(new Uint32Array([i]));
    }
    for (let i = 0; i < 1000; i++) {
      const reply = await inbox.next();
      if (i % 2 === 0) expect(reply).toBe(`message ${i}`);
      else expect(new Uint32Array(reply as ArrayBuffer)[0]).toBe(i);
    }
    ws.close();
  });

  test("100 concurrent clients each get exactly their own echoes", async () => {
    const clients = await Promise.all(Array.from({ length: 100 }, () => echoClient()));
    clients.forEach(({ ws }, c) => {
      for (let i = 0; i < 20; i++) ws.send(`client ${c} message ${i}`);
    });
    await Promise.all(
      clients.map(async ({ inbox }, c) => {
        for (let i = 0; i < 20; i++) expect(await inbox.next()).toBe(`client ${c} message ${i}`);
      }),
    );
    for (const { ws, inbox } of clients) {
      expect(inbox.pending).toBe(0);
      ws.close();
    }
  });
});

describe("close handshake and protocol errors", () => {
  test("a client close with 1000 comes back as 1000", async () => {
    const conn = await rawConnect(server.port, { path: "/echo" });
    expect(conn.status).toBe(101);
    conn.send(encodeFrame({ opcode: opcodes.close, payload: closePayload(1000, "bye") }));
    const frame = await conn.nextFrame();
    expect(frame.opcode).toBe(opcodes.close);
    expect(closeCodeOf(frame)).toBe(1000);
    await conn.ended;
  });

  test("the standard client sees its 1000 close echoed", async () => {
    const { ws, inbox } = await echoClient();
    ws.close(1000, "done");
    expect((await inbox.waitClose()).code).toBe(1000);
  });

  test("invalid UTF-8 in a text frame closes with 1007", async () => {
    const conn = await rawConnect(server.port, { path: "/echo" });
    conn.send(encodeFrame({ opcode: opcodes.text, payload: new Uint8Array([0x68, 0xc3, 0x28, 0xff]) }));
    const frame = await conn.nextFrame();
    expect(frame.opcode).toBe(opcodes.close);
    expect(closeCodeOf(frame)).toBe(1007);
    conn.close();
  });

  test("an unknown opcode closes with 1002", async () => {
    const conn = await rawConnect(server.port, { path: "/echo" });
    conn.send(encodeFrame({ opcode: 0x3, payload: "reserved" }));
    const frame = await conn.nextFrame();
    expect(closeCodeOf(frame)).toBe(1002);
    conn.close();
  });

  test("a text frame fragmented across frames is reassembled and echoed", async () => {
    const conn = await rawConnect(server.port, { path: "/echo" });
    conn.send(encodeFrame({ opcode: opcodes.text, payload: "frag", fin: false }));
    conn.send(encodeFrame({ opcode: opcodes.ping, payload: "in between" }));
    conn.send(encodeFrame({ opcode: opcodes.continuation, payload: "mented", fin: true }));
    const pong = await conn.nextFrame();
    expect(pong.opcode).toBe(opcodes.pong);
    expect(new TextDecoder().decode(pong.payload)).toBe("in between");
    const echo = await conn.nextFrame();
    expect(echo.opcode).toBe(opcodes.text);
    expect(new TextDecoder().decode(echo.payload)).toBe("fragmented");
    conn.close();
  });
});

describe("the per-address echo budget, charged a batch at a time (issue 18)", () => {
  /** Per second: below the charge batch (32) would make every message a charge; this makes every 32nd one. */
  const perSecond = 40;

  test("one address over its budget is closed with 1008 within a batch; its other sockets share the bill", async () => {
    const budgeted = startTestServer({ echoMessagesPerSecond: perSecond });
    try {
      // An address's bucket lives while it has a socket open: this one holds it.
      const holder = await openSocket(budgeted.ws("/echo"));
      const first = await openSocket(budgeted.ws("/echo"));
      const firstInbox = new Inbox(first);
      // 20 messages: under a batch, so not yet charged; charged when the socket closes.
      for (let i = 0; i < 20; i++) first.send(`a${i}`);
      for (let i = 0; i < 20; i++) expect(await firstInbox.next()).toBe(`a${i}`);
      first.close();
      await firstInbox.waitClose();
      const second = await openSocket(budgeted.ws("/echo"));
      const secondInbox = new Inbox(second);
      // A flood far over the budget: the first batch's charge (32 against the ~20 left) closes it.
      for (let i = 0; i < 200; i++) second.send(`b${i}`);
      const closed = await secondInbox.waitClose();
      expect(closed.code).toBe(1008);
      expect(closed.reason).toBe(`echo budget: at most ${perSecond} messages per second from one address`);
      // Closed at the first charge: at most one batch was echoed.
      expect(secondInbox.pending).toBeLessThanOrEqual(32);
      holder.close();
    } finally {
      await budgeted.stop();
    }
  });
});
