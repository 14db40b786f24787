/**
 * A raw RFC 6455 client over plain TCP, for tests that must send what no
 * well-behaved WebSocket library would: hand-written handshakes and frames
 * with any opcode, RSV bits, mask, or length.
 */
import { connect, type Socket } from "node:net";

export const opcodes = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  /** RSV1..3 as a 3-bit number. */
  rsv?: number;
  /** Clients must mask; tests may not. */
  mask?: boolean;
  /** Claim a different payload length in the header than the bytes sent. */
  lengthOverride?: number;
}

/** Encodes one frame exactly as described, right or wrong. */
export function encodeFrame(spec: FrameSpec): Uint8Array {
  const payload = typeof spec.payload === "string" ? new TextEncoder().encode(spec.payload) : (spec.payload ?? new Uint8Array());
  const mask = spec.mask ?? true;
  const length = spec.lengthOverride ?? payload.length;
  const header: number[] = [((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0xf)];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) header.push(maskBit | length);
  else if (length < 65536) header.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    header.push(maskBit | 127);
    const big = BigInt(length);
    for (let shift = 56n; shift >= 0n; shift -= 8n) header.push(Number((big >> shift) & 0xffn));
  }
  const key = mask ? crypto.getRandomValues(new Uint8Array(4)) : new Uint8Array();
  const out = new Uint8Array(header.length + key.length + payload.length);
  out.set(header, 0);
  out.set(key, header.length);
  for (let i = 0; i < payload.length; i++) out[header.length + key.length + i] = payload[i]! ^ (mask ? key[i & 3]! : 0);
  return out;
}

/** A close frame's payload: code plus UTF-8 reason. */
export function closePayload(code: number, reason = ""): Uint8Array {
  const text = new TextEncoder().encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** The result of a raw handshake: the HTTP response and, on 101, a frame-level connection. */
export interface RawConnection {
  status: number;
  statusLine: string;
  headers: Record<string, string>;
  body: string;
  socket: Socket;
  send(frame: Uint8Array): void;
  /** The next frame from the server, or an error on timeout or end of stream. */
  nextFrame(timeoutMs?: number): Promise<ServerFrame>;
  /** Resolves when the server closes the TCP connection. */
  ended: Promise<void>;
  close(): void;
}

/** Sends a hand-written upgrade request and parses the response. */
export function rawConnect(
  port: number,
  request: { path?: string; method?: string; headers?: Record<string, string | null>; key?: string },
  timeoutMs = 5000,
): Promise<RawConnection> {
  const headers: Record<string, string | null> = {
    Host: `127.0.0.1:${port}`,
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": request.key ?? "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    ...request.headers,
  };
  const lines = [`${request.method ?? "GET"} ${request.path ?? "/echo"} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) if (value !== null) lines.push(`${name}: ${value}`);
  if ((request.method ?? "GET") !== "GET") lines.push("Content-Length: 0");
  const socket = connect(port, "127.0.0.1");
  let buffer = Buffer.alloc(0);
  let wake: (() => void) | null = null;
  let endedFlag = false;
  let resolveEnded!: () => void;
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    wake?.();
  });
  const onEnd = () => {
    endedFlag = true;
    resolveEnded();
    wake?.();
  };
  socket.on("end", onEnd);
  socket.on("close", onEnd);
  socket.on("error", onEnd);

  async function waitFor<T>(take: () => T | null, what: string, ms: number): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = take();
      if (value !== null) return value;
      if (endedFlag) throw new Error(`connection ended while waiting for ${what}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no ${what} within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  }

  function takeFrame(): ServerFrame | null {
    if (buffer.length < 2) return null;
    const fin = (buffer[0]! & 0x80) !== 0;
    const opcode = buffer[0]! & 0x0f;
    let length = buffer[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return null;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return null;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    if (buffer.length < offset + length) return null;
    const payload = new Uint8Array(buffer.subarray(offset, offset + length));
    buffer = buffer.subarray(offset + length);
    return { fin, opcode, payload };
  }

  return new Promise((resolve, reject) => {
    socket.once("error", (error) => reject(error));
    socket.once("connect", async () => {
      socket.write(lines.join("\r\n") + "\r\n\r\n");
      try {
        const head = await waitFor(
          () => {
            const end = buffer.indexOf("\r\n\r\n");
            if (end === -1) return null;
            const text = buffer.subarray(0, end).toString("latin1");
            buffer = buffer.subarray(end + 4);
            return text;
          },
          "HTTP response",
          timeoutMs,
        );
        const [statusLine, ...headerLines] = head.split("\r\n");
        const parsed: Record<string, string> = {};
        for (const line of headerLines) {
          const colon = line.indexOf(":");
          parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const status = Number(statusLine!.split(" ")[1]);
        let body = "";
        if (status !== 101 && parsed["content-length"]) {
          const length = Number(parsed["content-length"]);
          body = await waitFor(
            () => (buffer.length >= length ? buffer.subarray(0, length).toString("utf8") : null),
            "HTTP body",
            timeoutMs,
          );
        }
        resolve({
          status,
          statusLine: statusLine!,
          headers: parsed,
          body,
          socket,
          send: (frame) => void socket.write(frame),
          nextFrame: (ms = 5000) => waitFor(takeFrame, "frame", ms),
          ended,
          close: () => socket.destroy(),
        });
      } catch (error) {
        socket.destroy();
        reject(error);
      }
    });
  });
}

/** Reads the close code from a close frame's payload (1005 when it has none). */
export function closeCodeOf(frame: ServerFrame): number {
  return frame.payload.length >= 2 ? (frame.payload[0]! << 8) | frame.payload[1]! : 1005;
}
