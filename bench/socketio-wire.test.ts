/**
 * Tests for bench/socketio-wire.ts: the load generator's Engine.IO / Socket.IO
 * framing, checked against socket.io-parser (the encoder and decoder the
 * Socket.IO server itself runs) both ways, and against hostile input.
 */
import { describe, expect, test } from "bun:test";
import { Decoder, Encoder, PacketType } from "socket.io-parser";
import {
  connectMessage,
  decodeEnginePacket,
  decodeSocketPacket,
  encodeEnginePacket,
  encodeSocketPacket,
  eventPayloadStart,
  eventPrefix,
  isPing,
  isRefusal,
  pongMessage,
  SocketIoFramingError,
  type SocketPacket,
} from "./socketio-wire.ts";

/** socket.io-parser's decoding of one Socket.IO packet string (it emits synchronously). */
function officialDecode(text: string): { type: number; nsp: string; id?: number; data?: unknown } {
  const decoder = new Decoder();
  let decoded: { type: number; nsp: string; id?: number; data?: unknown } | undefined;
  decoder.on("decoded", (packet) => (decoded = packet));
  decoder.add(text);
  if (!decoded) throw new Error(`socket.io-parser decoded nothing from ${text}`);
  return decoded;
}

const samples: SocketPacket[] = [
  { type: "connect", namespace: "/" },
  { type: "connect", namespace: "/", data: { token: "abc", rooms: ["d00", "d01"] } },
  { type: "connect", namespace: "/admin" },
  { type: "disconnect", namespace: "/" },
  { type: "event", namespace: "/", data: ["telemetry", { drone: "d07", seq: 48, time: 1763712000123, pad: "   " }] },
  { type: "event", namespace: "/fleet", id: 12, data: ["subscribe", ["d00", "d01"]] },
  { type: "event", namespace: "/", data: [7, "numbered"] },
  { type: "ack", namespace: "/", id: 0, data: [] },
  { type: "ack", namespace: "/admin", id: 9_007_199_254_740_991, data: [{ ok: true }] },
  { type: "connectError", namespace: "/", data: { message: "Not authorized" } },
  { type: "connectError", namespace: "/", data: "Invalid namespace" },
];

describe("Socket.IO packets against socket.io-parser", () => {
  for (const packet of samples) {
    test(`round trip of ${packet.type} ${JSON.stringify(packet).slice(0, 60)}`, () => {
      const ours = encodeSocketPacket(packet);
      // The official encoder writes the same text for the same packet.
      const official = new Encoder().encode({ type: PacketType[packet.type === "connectError" ? "CONNECT_ERROR" : (packet.type.toUpperCase() as "EVENT")], nsp: packet.namespace, id: "id" in packet ? packet.id : undefined, data: "data" in packet ? packet.data : undefined });
      expect(official).toEqual([ours]);
      // The official decoder reads ours, and ours reads it back to the same packet.
      const decoded = officialDecode(ours);
      expect(decoded.nsp).toBe(packet.namespace);
      expect(decoded.data).toEqual("data" in packet ? packet.data : undefined);
      expect(decodeSocketPacket(ours)).toEqual(packet);
    });
  }

  test("an Engine.IO message wraps the Socket.IO packet after a 4", () => {
    expect(connectMessage()).toBe("40");
    expect(connectMessage("/", { token: "t" })).toBe('40{"token":"t"}');
    expect(connectMessage("/admin")).toBe("40/admin,");
    const event: SocketPacket = { type: "event", namespace: "/", data: ["telemetry", { seq: 1 }] };
    expect(encodeEnginePacket({ type: "message", packet: event })).toBe('42["telemetry",{"seq":1}]');
    expect(decodeEnginePacket('42["telemetry",{"seq":1}]')).toEqual({ type: "message", packet: event });
  });
});

describe("Engine.IO packets", () => {
  test("decodes the open handshake, ping, pong, close and noop", () => {
    const handshake = { sid: "Xk3a", upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 };
    expect(decodeEnginePacket(`0${JSON.stringify(handshake)}`)).toEqual({ type: "open", data: handshake });
    expect(decodeEnginePacket("2")).toEqual({ type: "ping", data: "" });
    expect(decodeEnginePacket("3probe")).toEqual({ type: "pong", data: "probe" });
    expect(decodeEnginePacket("1")).toEqual({ type: "close", data: "" });
    expect(decodeEnginePacket("6")).toEqual({ type: "noop", data: "" });
    expect(pongMessage).toBe("3");
    expect(encodeEnginePacket({ type: "open", data: handshake })).toBe(`0${JSON.stringify(handshake)}`);
  });
});

describe("hostile input is refused with the rule and what was received", () => {
  const refused: Array<[string, RegExp]> = [
    ["", /starts with its type digit 0-6/],
    ["7", /starts with its type digit 0-6/],
    ["x", /starts with its type digit 0-6/],
    ["bAAEC", /long-polling/],
    ["0not json", /handshake as JSON/],
    ['0{"sid":1}', /sid, upgrades, pingInterval/],
    ['0{"sid":"a","upgrades":[],"pingInterval":-1,"pingTimeout":1,"maxPayload":1}', /pingInterval/],
    ["4", /Socket.IO packet starts with its type digit/],
    ["49", /Socket.IO packet starts with its type digit/],
    ['451-["a",{"_placeholder":true,"num":0}]', /binary packets/],
    ['42["connect"]', /reserved/],
    ["42[]", /first item is the event's name/],
    ['42{"not":"an array"}', /first item is the event's name/],
    ['42["telemetry",{', /data is JSON/],
    ["41{}", /disconnect packet has no data/],
    ["40[1]", /connect packet's data is an object/],
    ['43["no id"]', /names the id it answers/],
    ['431{"a":1}', /ack's data is an array/],
    ["44", /string or an object/],
    [`43${"9".repeat(20)}[]`, /ack id is an integer up to/],
    [`40/${"n".repeat(300)},`, /namespace is at most 256/],
  ];
  for (const [text, rule] of refused) {
    test(JSON.stringify(text.slice(0, 40)), () => {
      let error: unknown;
      try {
        decodeEnginePacket(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SocketIoFramingError);
      expect((error as Error).message).toMatch(rule);
      expect((error as Error).message).toContain("received");
    });
  }

  test("the encoder refuses what the server would reject", () => {
    expect(() => encodeSocketPacket({ type: "event", namespace: "/", data: ["disconnect"] })).toThrow(/reserved/);
    expect(() => encodeSocketPacket({ type: "connect", namespace: "admin" })).toThrow(/starts with \//);
    expect(() => encodeSocketPacket({ type: "ack", namespace: "/", id: -1, data: [] })).toThrow(/non-negative integer/);
  });
});

describe("the hot path on bytes", () => {
  const prefix = eventPrefix("telemetry");
  const inChunk = (text: string) => {
    const payload = Buffer.from(text);
    return { bytes: Buffer.concat([Buffer.from("xx"), payload, Buffer.from("42[")]), start: 2, end: 2 + payload.length };
  };

  test("finds the payload of the telemetry event, and nothing in anything else", () => {
    expect(new TextDecoder().decode(prefix)).toBe('42["telemetry",');
    const { bytes, start, end } = inChunk('42["telemetry",{"drone":"t0","seq":5}]');
    const at = eventPayloadStart(bytes, start, end, prefix);
    expect(bytes.toString("utf8", at, end - 1)).toBe('{"drone":"t0","seq":5}');
    for (const other of ['42["telemetryx",{}]', '42["other",{}]', '42["telemetry",', "40", '42["telemetry",{}', '43["telemetry",{}]']) {
      const c = inChunk(other);
      expect(eventPayloadStart(c.bytes, c.start, c.end, prefix)).toBe(-1);
    }
  });

  test("tells a ping and a refusal from replies", () => {
    const check = (text: string) => {
      const c = inChunk(text);
      return { ping: isPing(c.bytes, c.start, c.end), refusal: isRefusal(c.bytes, c.start, c.end) };
    };
    expect(check("2")).toEqual({ ping: true, refusal: false });
    expect(check("3")).toEqual({ ping: false, refusal: false });
    expect(check('40{"sid":"a"}')).toEqual({ ping: false, refusal: false });
    expect(check('44{"message":"Not authorized"}')).toEqual({ ping: false, refusal: true });
    expect(check("41")).toEqual({ ping: false, refusal: true });
    expect(check("22")).toEqual({ ping: false, refusal: false });
  });
});
