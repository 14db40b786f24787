/**
 * A raw RFC 6455 client over plain TCP, for tests that must send what no
 * well-behaved WebSocket library would: hand-written handshakes and frames
 * with any opcode, RSV bits, mask, or length (encoded by frames.ts).
 *
 * Owns the TCP connection, the handshake and reading the server's frames;
 * building frames is frames.ts's job.
 */
import { connect, type Socket } from "node:net";

export interface ServerFrame {
  fin: boolean;
  /** RSV1: set on a message compressed with permessage-deflate (RFC 7692); absent means unset. */
  rsv1?: boolean;
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
    const rsv1 = (buffer[0]! & 0x40) !== 0;
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
    return { fin, rsv1, opcode, payload };
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
