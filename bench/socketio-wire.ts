/**
 * The Engine.IO v4 / Socket.IO v5 framing the load generator speaks to the
 * Socket.IO peer over raw WebSocket, so that every server in a fan-out
 * scenario is driven by the same generator. Over the websocket transport one
 * WebSocket text message is one Engine.IO packet: a type digit and its data
 * (`0{"sid":…}` open, `2` ping, `3` pong, `4…` message); a message carries
 * one Socket.IO packet: a type digit, an optional `/namespace,`, an optional
 * ack id and optional JSON (`40` connect, `42["telemetry",{…}]` an event).
 *
 * Owns encoding the client's packets, decoding the server's (with an error
 * naming the rule and what was received for anything malformed), and the
 * allocation-free checks the hot path needs (is this a ping, where does the
 * telemetry event's payload start). Binary packets (`45`, `46`) and polling's
 * base64 `b…` messages are outside what the benchmark uses and are refused.
 * Pure: strings and bytes in and out, no socket, no clock.
 */

/** Engine.IO packet types: the first character of every message. */
export const engineTypes = { open: 0, close: 1, ping: 2, pong: 3, message: 4, upgrade: 5, noop: 6 } as const;
export type EngineTypeName = keyof typeof engineTypes;

/** Socket.IO packet types: the character after the Engine.IO `4`. */
export const socketTypes = { connect: 0, disconnect: 1, event: 2, ack: 3, connectError: 4, binaryEvent: 5, binaryAck: 6 } as const;
export type SocketTypeName = keyof typeof socketTypes;

/** Event names Socket.IO keeps for itself: an event packet naming one is invalid (socket.io-parser's RESERVED_EVENTS). */
const reservedEvents: ReadonlySet<string> = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);
/** Where a client opens Engine.IO v4 straight over WebSocket, without long-polling first (Socket.IO's default path). */
export const websocketPath = "/socket.io/?EIO=4&transport=websocket";
/** The default namespace, which the wire leaves out. */
const defaultNamespace = "/";
/** Longest namespace accepted when decoding (the server names its own; a longer one is garbage). */
const maxNamespaceLength = 256;

/** What the server says in its `0` open packet (engine.io's handshake). */
export interface OpenHandshake {
  sid: string;
  upgrades: string[];
  /** Milliseconds between the server's pings. */
  pingInterval: number;
  /** Milliseconds the server waits for a pong before closing. */
  pingTimeout: number;
  /** Largest message the server accepts, bytes. */
  maxPayload: number;
}

/** One Socket.IO packet, as carried by an Engine.IO `message`. */
export type SocketPacket =
  | { type: "connect"; namespace: string; data?: Record<string, unknown> }
  | { type: "disconnect"; namespace: string }
  | { type: "event"; namespace: string; id?: number; data: [string | number, ...unknown[]] }
  | { type: "ack"; namespace: string; id: number; data: unknown[] }
  | { type: "connectError"; namespace: string; data: string | Record<string, unknown> };

/** One Engine.IO packet (one WebSocket text message). */
export type EnginePacket =
  | { type: "open"; data: OpenHandshake }
  | { type: "close" | "ping" | "pong" | "upgrade" | "noop"; data: string }
  | { type: "message"; packet: SocketPacket };

/** A message that is not valid Engine.IO / Socket.IO framing. */
export class SocketIoFramingError extends Error {
  constructor(rule: string, received: string) {
    super(`Socket.IO framing: ${rule}: received ${JSON.stringify(received.length > 120 ? `${received.slice(0, 120)}…` : received)}`);
    this.name = "SocketIoFramingError";
  }
}

const engineTypeByDigit = Object.fromEntries(Object.entries(engineTypes).map(([name, digit]) => [digit, name])) as Record<number, EngineTypeName>;
const socketTypeByDigit = Object.fromEntries(Object.entries(socketTypes).map(([name, digit]) => [digit, name])) as Record<number, SocketTypeName>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The Socket.IO packet's text (what follows the Engine.IO `4`). */
export function encodeSocketPacket(packet: SocketPacket): string {
  let text = String(socketTypes[packet.type]);
  if (packet.namespace !== defaultNamespace) {
    if (!packet.namespace.startsWith("/") || packet.namespace.includes(",")) {
      throw new SocketIoFramingError("a namespace starts with / and has no comma", packet.namespace);
    }
    text += `${packet.namespace},`;
  }
  if ((packet.type === "event" || packet.type === "ack") && packet.id !== undefined) {
    if (!Number.isSafeInteger(packet.id) || packet.id < 0) throw new SocketIoFramingError("an ack id is a non-negative integer", String(packet.id));
    text += String(packet.id);
  }
  if (packet.type === "event" && (packet.data.length === 0 || (typeof packet.data[0] === "string" && reservedEvents.has(packet.data[0])))) {
    throw new SocketIoFramingError("an event's first argument is its name, not one of Socket.IO's reserved names", JSON.stringify(packet.data));
  }
  if (packet.type !== "disconnect" && "data" in packet && packet.data !== undefined) text += JSON.stringify(packet.data);
  return text;
}

/** The WebSocket message for an Engine.IO packet. */
export function encodeEnginePacket(packet: EnginePacket): string {
  const digit = String(engineTypes[packet.type]);
  if (packet.type === "message") return digit + encodeSocketPacket(packet.packet);
  if (packet.type === "open") return digit + JSON.stringify(packet.data);
  return digit + packet.data;
}

/** The client's connect to `namespace` (`40`, or `40{"token":…}` with auth data). */
export function connectMessage(namespace = defaultNamespace, auth?: Record<string, unknown>): string {
  return encodeEnginePacket({ type: "message", packet: { type: "connect", namespace, ...(auth ? { data: auth } : {}) } });
}

/** The client's answer to the server's ping: `3`. */
export const pongMessage = encodeEnginePacket({ type: "pong", data: "" });

/** Decodes one WebSocket text message from the server; throws SocketIoFramingError on anything malformed. */
export function decodeEnginePacket(text: string): EnginePacket {
  if (text.length === 0) throw new SocketIoFramingError("an Engine.IO packet starts with its type digit 0-6", text);
  if (text[0] === "b") throw new SocketIoFramingError("base64 binary packets belong to HTTP long-polling, which the benchmark does not use", text);
  const type = engineTypeByDigit[text.charCodeAt(0) - 0x30];
  if (type === undefined) throw new SocketIoFramingError("an Engine.IO packet starts with its type digit 0-6", text);
  const rest = text.slice(1);
  if (type === "message") return { type, packet: decodeSocketPacket(rest) };
  if (type !== "open") return { type, data: rest };
  const handshake = parseJson(rest, "the open packet carries the handshake as JSON");
  if (
    !isObject(handshake) ||
    typeof handshake.sid !== "string" ||
    !Array.isArray(handshake.upgrades) ||
    !isNonNegative(handshake.pingInterval) ||
    !isNonNegative(handshake.pingTimeout) ||
    !isNonNegative(handshake.maxPayload)
  ) {
    throw new SocketIoFramingError("the open packet's handshake has sid, upgrades, pingInterval, pingTimeout and maxPayload", text);
  }
  return { type, data: handshake as unknown as OpenHandshake };
}

/** Decodes a Socket.IO packet (an Engine.IO message's data), with socket.io-parser's rules. */
export function decodeSocketPacket(text: string): SocketPacket {
  const type = socketTypeByDigit[text.charCodeAt(0) - 0x30];
  if (type === undefined) throw new SocketIoFramingError("a Socket.IO packet starts with its type digit 0-6", text);
  if (type === "binaryEvent" || type === "binaryAck") throw new SocketIoFramingError("binary packets (attachments) are not used by the benchmark", text);
  let i = 1;
  let namespace = defaultNamespace;
  if (text[i] === "/") {
    const comma = text.indexOf(",", i);
    const end = comma < 0 ? text.length : comma;
    if (end - i > maxNamespaceLength) throw new SocketIoFramingError(`a namespace is at most ${maxNamespaceLength} characters`, text);
    namespace = text.slice(i, end);
    i = comma < 0 ? text.length : comma + 1;
  }
  let id: number | undefined;
  const digitsStart = i;
  while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
  if (i > digitsStart) {
    id = Number(text.slice(digitsStart, i));
    if (!Number.isSafeInteger(id)) throw new SocketIoFramingError(`an ack id is an integer up to ${Number.MAX_SAFE_INTEGER}`, text);
  }
  const hasData = i < text.length;
  const data = hasData ? parseJson(text.slice(i), "a packet's data is JSON") : undefined;
  switch (type) {
    case "connect":
      if (hasData && !isObject(data)) throw new SocketIoFramingError("a connect packet's data is an object", text);
      return hasData ? { type, namespace, data: data as Record<string, unknown> } : { type, namespace };
    case "disconnect":
      if (hasData) throw new SocketIoFramingError("a disconnect packet has no data", text);
      return { type, namespace };
    case "connectError":
      if (typeof data !== "string" && !isObject(data)) throw new SocketIoFramingError("a connect error's data is a string or an object", text);
      return { type, namespace, data };
    case "event": {
      const name = Array.isArray(data) ? data[0] : undefined;
      if (typeof name !== "number" && (typeof name !== "string" || reservedEvents.has(name))) {
        throw new SocketIoFramingError("an event's data is an array whose first item is the event's name, not a reserved one", text);
      }
      return id === undefined ? { type, namespace, data: data as [string | number, ...unknown[]] } : { type, namespace, id, data: data as [string | number, ...unknown[]] };
    }
    case "ack":
      if (id === undefined) throw new SocketIoFramingError("an ack packet names the id it answers", text);
      if (!Array.isArray(data)) throw new SocketIoFramingError("an ack's data is an array", text);
      return { type, namespace, id, data };
  }
}

function isNonNegative(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function parseJson(text: string, rule: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new SocketIoFramingError(rule, text);
  }
}

// ------------------------------------------------------------ The hot path, on bytes

const utf8 = new TextEncoder();
const enginePing = 0x30 + engineTypes.ping;
const engineMessage = 0x30 + engineTypes.message;

/** The bytes every telemetry event starts with, up to its payload: `42["telemetry",`. */
export function eventPrefix(event: string): Uint8Array {
  return utf8.encode(encodeEnginePacket({ type: "message", packet: { type: "event", namespace: defaultNamespace, data: [event] } }).slice(0, -1) + ",");
}

/** True when `bytes[start, end)` is the Engine.IO ping `2` (which the client must answer with `3`). */
export function isPing(bytes: Uint8Array, start: number, end: number): boolean {
  return end - start === 1 && bytes[start] === enginePing;
}

/**
 * True when `bytes[start, end)` is a Socket.IO refusal: a connect error
 * (`44…`) or the server disconnecting the client (`41`), on any namespace.
 */
export function isRefusal(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 2 || bytes[start] !== engineMessage) return false;
  const type = bytes[start + 1]! - 0x30;
  return type === socketTypes.connectError || type === socketTypes.disconnect;
}

/**
 * Where the payload of an event starts, when `bytes[start, end)` is the
 * event whose message begins with `prefix` (see `eventPrefix`) and ends with
 * the array's `]`; -1 otherwise. The payload is `bytes[result, end - 1)`.
 */
export function eventPayloadStart(bytes: Uint8Array, start: number, end: number, prefix: Uint8Array): number {
  if (end - start <= prefix.length || bytes[end - 1] !== 0x5d) return -1;
  for (let i = 0; i < prefix.length; i++) if (bytes[start + i] !== prefix[i]) return -1;
  return start + prefix.length;
}
