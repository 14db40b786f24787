/**
 * Frame fuzzer over raw TCP against /echo and /drone: seeded random and
 * mutated frames (reserved opcodes, RSV bits, unmasked frames, lying and
 * absurd lengths, truncation, invalid UTF-8, oversized or fragmented control
 * frames, bad fragmentation, invalid close frames, interleaved pings).
 *
 * Every case is checked against a reference reading of RFC 6455
 * (`support/frame-oracle.ts`): the exact echoes and pongs, then the exact
 * close code, or a clean TCP close, within 2 s. After every case a fresh
 * /echo connection must still round-trip, and two healthy clients connected
 * for the whole run (an /echo socket and a /drone viewer) must lose nothing.
 *
 * Replay a failure with `SKYPORT_FUZZ_SEED=<seed printed in the failure>`.
 *
 * Where Bun departs from the letter of RFC 6455 the oracle accepts both and
 * says so: a 64-bit length with its top bit set gets 1009 (the RFC calls it a
 * protocol error, 1002), and non-minimal length encodings are accepted (the
 * RFC tells senders to be minimal; receivers may be lenient).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DroneTestClient } from "../support/drone-client.ts";
import { concatBytes, expectReaction, type Expectation } from "../support/frame-oracle.ts";
import { closePayload, encodeFrame, opcodes, type FrameSpec } from "../support/frames.ts";
import { closeCodeOf, rawConnect, type RawConnection, type ServerFrame } from "../support/raw.ts";
import { fuzzSeed, SeededRandom, withSeed } from "../support/seeded-random.ts";
import { startTestServer } from "../support/server.ts";
import { Inbox, openSocket, waitUntil } from "../support/sockets.ts";

const seed = fuzzSeed(0x5eedf4a3);
/** Fuzz cases per endpoint (each takes about a millisecond on loopback). */
const casesPerEndpoint = 1500;
/** Wall-clock budget per endpoint, milliseconds: a slow machine runs fewer cases rather than time out. */
const budgetPerEndpointMs = 12_000;
/** Fewest cases per endpoint that count as a run, even on a slow machine. */
const minimumCasesPerEndpoint = 300;
/** Longest a server may take to react to one case (close, echo, or TCP close), milliseconds. */
const reactionTimeoutMs = 2000;
/** The healthy /echo client sends one numbered message every this many cases. */
const healthyEveryCases = 5;
/** Bun's frame-level limit on this server: the echo limit, the larger of the two endpoint limits. */
const maxPayloadBytes = 16 * 1024 * 1024;
const droneMaxBytes = 64 * 1024;

let server: ReturnType<typeof startTestServer>;
let healthyEcho: { ws: WebSocket; inbox: Inbox; sent: number; received: number };
let healthyDrone: DroneTestClient;
let healthySince = 0;

beforeAll(async () => {
  server = startTestServer();
  const ws = await openSocket(server.ws("/echo"));
  healthyEcho = { ws, inbox: new Inbox(ws), sent: 0, received: 0 };
  healthyDrone = await DroneTestClient.connect(server.ws("/drone"));
  healthySince = Date.now();
});

afterAll(async () => {
  healthyEcho?.ws.close();
  healthyDrone?.close();
  await server?.stop();
});

// ------------------------------------------------------------------ cases

interface FuzzCase {
  category: string;
  /** Everything sent after the handshake. */
  bytes: Uint8Array;
  /** Offsets at which the bytes are split into separate writes (exercises partial parsing). */
  splits: number[];
}

/** Text that stresses UTF-8 handling: multi-byte, 4-byte, BOM, RTL, zero-width, combining marks. */
const unicodePalette = ["a", "Z", " ", "é", "ß", "日", "本", "🚁", "𝄞", "👩🏽‍🚀", "\ufeff", "\u202e", "\u200b", "\u200d", "\u0301", "\u05d0", "\u0627", "\u{10ffff}", "\u0000", "{", "\n"];

/** Byte sequences that are never valid UTF-8 (RFC 3629), or not at the end of a message. */
const invalidUtf8 = [
  [0xc3, 0x28], // bad continuation
  [0xa0, 0xa1], // continuation without a lead byte
  [0xe2, 0x28, 0xa1],
  [0xf0, 0x28, 0x8c, 0xbc],
  [0xc0, 0xaf], // overlong "/"
  [0xe0, 0x80, 0xaf], // overlong
  [0xed, 0xa0, 0x80], // UTF-16 surrogate D800
  [0xed, 0xbf, 0xbf], // surrogate DFFF
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf8, 0x88, 0x80, 0x80, 0x80], // 5-byte form
  [0xff],
  [0xfe],
  [0xe2, 0x82], // truncated: invalid only at the end of the message
];

const invalidCloseCodes = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
const validCloseCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
const payloadSizes = [0, 1, 2, 5, 100, 124, 125, 126, 127, 128, 1000, 65535, 65536, 70_000];

class CaseMaker {
  constructor(private readonly rng: SeededRandom) {}

  frame(spec: Omit<FrameSpec, "maskKey">): Uint8Array {
    return encodeFrame({ ...spec, maskKey: this.rng.bytes(4) });
  }

  unicodeText(codePoints: number): string {
    let out = "";
    for (let i = 0; i < codePoints; i++) out += this.rng.pick(unicodePalette);
    return out;
  }

  /** A valid data payload of an interesting size: text (valid UTF-8) or binary. */
  dataPayload(): { op: number; payload: Uint8Array } {
    const size = this.rng.pick(payloadSizes);
    if (this.rng.chance(0.5)) return { op: opcodes.binary, payload: this.rng.bytes(size) };
    const text = size < 2000 ? this.unicodeText(Math.max(0, Math.floor(size / 3))) : this.rng.string(size);
    return { op: opcodes.text, payload: new TextEncoder().encode(text) };
  }

  /** A valid message as 1 to 4 frames, with pings and pongs between the fragments. */
  validMessage(): Uint8Array {
    const { op, payload } = this.dataPayload();
    const pieces = payload.length > 0 && this.rng.chance(0.4) ? this.rng.int(2, 4) : 1;
    const cuts = [...new Set(Array.from({ length: pieces - 1 }, () => this.rng.int(0, payload.length)))].sort((a, b) => a - b);
    const bounds = [0, ...cuts, payload.length];
    const frames: Uint8Array[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const last = i + 2 === bounds.length;
      frames.push(this.frame({ opcode: i === 0 ? op : opcodes.continuation, fin: last, payload: payload.subarray(bounds[i], bounds[i + 1]) }));
      if (!last && this.rng.chance(0.5)) frames.push(this.control());
    }
    return concatBytes(frames);
  }

  /** A valid ping or pong of up to 125 bytes. */
  control(): Uint8Array {
    return this.frame({ opcode: this.rng.pick([opcodes.ping, opcodes.pong]), payload: this.rng.bytes(this.rng.pick([0, 1, 60, 125])) });
  }

  /** Any frame, valid or not, as raw material for mutations. */
  anyFrame(): Uint8Array {
    return this.rng.chance(0.7) ? this.validMessage() : this.control();
  }

  closeCode(code: number, reason: Uint8Array | string = ""): Uint8Array {
    return this.frame({ opcode: opcodes.close, payload: closePayload(code, reason) });
  }

  /** One case of a category; `prefix` valid messages may come first so echoes precede the verdict. */
  make(category: string): Uint8Array {
    const r = this.rng;
    switch (category) {
      case "valid":
        return concatBytes(Array.from({ length: r.int(1, 3) }, () => (r.chance(0.8) ? this.validMessage() : this.control())));
      case "reserved-opcode":
        return this.frame({ opcode: r.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), fin: r.chance(0.8), payload: r.bytes(r.int(0, 40)) });
      case "rsv-bits": {
        const op = r.pick([opcodes.text, opcodes.binary, opcodes.ping, opcodes.close, opcodes.continuation]);
        const payload = op === opcodes.close ? closePayload(1000) : op === opcodes.text ? "hello" : r.bytes(r.int(0, 20));
        return this.frame({ opcode: op, rsv: r.int(1, 7), payload });
      }
      case "unmasked": {
        const op = r.pick([opcodes.text, opcodes.binary, opcodes.ping, opcodes.pong, opcodes.close]);
        return encodeFrame({ opcode: op, mask: false, payload: op === opcodes.close ? closePayload(1000) : op === opcodes.text ? this.unicodeText(r.int(0, 30)) : r.bytes(r.int(0, 30)) });
      }
      case "length-says-more": {
        const { op, payload } = this.dataPayload();
        const claimed = payload.length + r.pick([1, 2, 100, 5000, 70_000]);
        return this.frame({ opcode: op, payload, lengthOverride: claimed });
      }
      case "length-says-less": {
        const payload = r.bytes(r.int(4, 200));
        return this.frame({ opcode: r.pick([opcodes.text, opcodes.binary]), payload, lengthOverride: r.int(0, payload.length - 1) });
      }
      case "truncated": {
        const bytes = this.anyFrame();
        return bytes.subarray(0, r.int(1, Math.max(1, bytes.length - 1)));
      }
      case "huge-length": {
        const length = r.pick([2n ** 63n, 2n ** 64n - 1n, 2n ** 63n + 5n, 2n ** 40n, 2n ** 32n, BigInt(maxPayloadBytes + 1), 2n ** 62n]);
        return this.frame({ opcode: r.pick([opcodes.text, opcodes.binary, opcodes.continuation]), lengthOverride: length, lengthForm: 64, payload: r.bytes(r.int(0, 16)) });
      }
      case "non-minimal-length": {
        // RFC 6455 5.2 asks senders for the minimal encoding; Bun accepts longer ones, as most servers do.
        const payload = r.bytes(r.int(0, 125));
        return this.frame({ opcode: opcodes.binary, payload, lengthForm: r.pick([16, 64] as const) });
      }
      case "invalid-utf8": {
        const bad = new Uint8Array(r.pick(invalidUtf8));
        const before = new TextEncoder().encode(this.unicodeText(r.int(0, 10)));
        const after = new TextEncoder().encode(this.unicodeText(r.int(0, 10)));
        const payload = concatBytes([before, bad, after]);
        if (r.chance(0.5)) return this.frame({ opcode: opcodes.text, payload });
        const cut = r.int(0, payload.length);
        return concatBytes([this.frame({ opcode: opcodes.text, fin: false, payload: payload.subarray(0, cut) }), this.frame({ opcode: opcodes.continuation, payload: payload.subarray(cut) })]);
      }
      case "utf8-split-across-fragments": {
        // Valid text cut mid-character between fragments: must be accepted.
        const payload = new TextEncoder().encode(this.unicodeText(r.int(2, 20)));
        const cut = r.int(1, payload.length - 1);
        return concatBytes([this.frame({ opcode: opcodes.text, fin: false, payload: payload.subarray(0, cut) }), this.frame({ opcode: opcodes.continuation, payload: payload.subarray(cut) })]);
      }
      case "oversized-control":
        return this.frame({ opcode: r.pick([opcodes.ping, opcodes.pong, opcodes.close]), payload: r.bytes(r.pick([126, 127, 200, 1000, 65536])) });
      case "fragmented-control":
        return concatBytes([
          this.frame({ opcode: r.pick([opcodes.ping, opcodes.pong, opcodes.close]), fin: false, payload: r.bytes(r.int(0, 20)) }),
          this.frame({ opcode: opcodes.continuation, payload: r.bytes(r.int(0, 20)) }),
        ]);
      case "continuation-without-start":
        return this.frame({ opcode: opcodes.continuation, fin: r.chance(0.5), payload: r.bytes(r.int(0, 40)) });
      case "data-inside-fragmented":
        return concatBytes([
          this.frame({ opcode: r.pick([opcodes.text, opcodes.binary]), fin: false, payload: "abc" }),
          ...(r.chance(0.5) ? [this.control()] : []),
          this.frame({ opcode: r.pick([opcodes.text, opcodes.binary]), fin: r.chance(0.5), payload: "def" }),
        ]);
      case "invalid-close-code":
        return this.closeCode(r.pick(invalidCloseCodes), r.chance(0.5) ? "bye" : "");
      case "valid-close-code":
        return this.closeCode(r.pick(validCloseCodes), this.unicodeText(r.int(0, 20)));
      case "close-1-byte":
        return this.frame({ opcode: opcodes.close, payload: new Uint8Array([r.int(0, 255)]) });
      case "close-empty":
        return this.frame({ opcode: opcodes.close });
      case "close-bad-utf8-reason":
        return this.closeCode(r.pick([1000, 1001, 3000]), concatBytes([new TextEncoder().encode("bye "), new Uint8Array(r.pick(invalidUtf8.slice(0, -1)))]));
      case "pings-interleaved":
        return concatBytes(Array.from({ length: r.int(2, 8) }, () => (r.chance(0.5) ? this.control() : this.validMessage())));
      case "mutated": {
        const bytes = concatBytes(Array.from({ length: r.int(1, 3) }, () => this.anyFrame()));
        for (let m = r.int(1, 3); m > 0; m--) {
          const at = r.int(0, Math.min(bytes.length - 1, 15)); // headers are where parsers break
          if (r.chance(0.6)) bytes[at] = bytes[at]! ^ (1 << r.int(0, 7));
          else bytes[at] = r.int(0, 255);
        }
        return bytes;
      }
      case "garbage":
        return r.bytes(r.int(1, 64));
      default:
        throw new Error(`unknown category ${category}`);
    }
  }

  /** A whole case: sometimes a valid message first, then the attack, split into random writes. */
  next(categories: readonly string[]): FuzzCase {
    const category = this.rng.pick(categories);
    const parts: Uint8Array[] = [];
    if (category !== "valid" && this.rng.chance(0.3)) parts.push(this.validMessage());
    parts.push(this.make(category));
    const bytes = concatBytes(parts);
    const splits = this.rng.chance(0.3) ? [...new Set(Array.from({ length: this.rng.int(1, 3) }, () => this.rng.int(1, Math.max(1, bytes.length - 1))))].sort((a, b) => a - b) : [];
    return { category, bytes, splits };
  }
}

const categories = [
  "valid",
  "reserved-opcode",
  "rsv-bits",
  "unmasked",
  "length-says-more",
  "length-says-less",
  "truncated",
  "huge-length",
  "non-minimal-length",
  "invalid-utf8",
  "utf8-split-across-fragments",
  "oversized-control",
  "fragmented-control",
  "continuation-without-start",
  "data-inside-fragmented",
  "invalid-close-code",
  "valid-close-code",
  "close-1-byte",
  "close-empty",
  "close-bad-utf8-reason",
  "pings-interleaved",
  "mutated",
  "garbage",
] as const;

// ------------------------------------------------------------------ running one case

/** What the server did: the frames it sent (telemetry and its own pings left out) and whether it closed TCP. */
interface Reaction {
  frames: ServerFrame[];
  tcpClosed: boolean;
  elapsedMs: number;
}

const isTelemetry = (frame: ServerFrame) => frame.opcode === opcodes.text && Buffer.from(frame.payload.subarray(0, 20)).toString("latin1").startsWith('{"type":"telemetry"');

/** Reads frames until `stop` says so, the server closes TCP, or the deadline passes. */
async function readFrames(conn: RawConnection, into: ServerFrame[], stop: () => boolean, deadline: number): Promise<"stopped" | "ended" | "timeout"> {
  while (!stop()) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return "timeout";
    let frame: ServerFrame;
    try {
      frame = await conn.nextFrame(remaining);
    } catch (error) {
      return (error as Error).message.startsWith("connection ended") ? "ended" : "timeout";
    }
    if (isTelemetry(frame) || frame.opcode === opcodes.ping) continue;
    into.push(frame);
  }
  return "stopped";
}

async function writeInPieces(conn: RawConnection, bytes: Uint8Array, splits: number[]): Promise<void> {
  const bounds = [0, ...splits, bytes.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = bytes.subarray(bounds[i], bounds[i + 1]);
    if (piece.length === 0) continue;
    await new Promise<void>((resolve) => conn.socket.write(piece, () => resolve()));
  }
}

/**
 * Sends one case on a fresh connection and records the reaction: while the
 * oracle expects the connection to stay open the client closes it properly
 * (close 1000); while it expects the server to wait for more bytes the
 * client ends TCP. Either way the server must finish within the timeout.
 */
async function runCase(path: string, fuzz: FuzzCase, expected: Expectation, rng: SeededRandom): Promise<Reaction> {
  const started = Date.now();
  const conn = await rawConnect(server.port, { path }, reactionTimeoutMs);
  try {
    if (conn.status !== 101) throw new Error(`handshake answered ${conn.statusLine}`);
    conn.socket.setNoDelay(true);
    if (path === "/drone") {
      const welcome = await conn.nextFrame(reactionTimeoutMs);
      if (!new TextDecoder().decode(welcome.payload).includes('"welcome"')) throw new Error("the first /drone frame was not welcome");
    }
    await writeInPieces(conn, fuzz.bytes, fuzz.splits);
    const frames: ServerFrame[] = [];
    const deadline = Date.now() + reactionTimeoutMs;
    const sawClose = () => frames.some((frame) => frame.opcode === opcodes.close);
    let outcome: "stopped" | "ended" | "timeout";
    if (expected.verdict.kind === "close") {
      outcome = await readFrames(conn, frames, sawClose, deadline);
    } else {
      outcome = await readFrames(conn, frames, () => sawClose() || frames.length >= expected.replies.length, deadline);
      if (outcome === "stopped" && !sawClose()) {
        if (expected.verdict.kind === "open") conn.send(encodeFrame({ opcode: opcodes.close, payload: closePayload(1000), maskKey: rng.bytes(4) }));
        else conn.socket.end();
        outcome = await readFrames(conn, frames, sawClose, deadline);
      }
    }
    // Answer the server's close, as a client must, then the server closes TCP.
    if (sawClose() && outcome !== "ended" && !conn.socket.writableEnded) conn.send(encodeFrame({ opcode: opcodes.close, payload: closePayload(1000), maskKey: rng.bytes(4) }));
    const tcpClosed =
      outcome === "ended" ||
      (await Promise.race([conn.ended.then(() => true), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => false)]));
    return { frames, tcpClosed, elapsedMs: Date.now() - started };
  } finally {
    conn.close();
  }
}

function describeFrame(frame: { opcode: number; payload?: Uint8Array }): string {
  if (frame.opcode === opcodes.close) return `close(${closeCodeOf({ fin: true, opcode: frame.opcode, payload: frame.payload ?? new Uint8Array() })})`;
  const size = frame.payload === undefined ? "any" : `${frame.payload.length}B`;
  return `${({ 1: "text", 2: "binary", 9: "ping", 10: "pong" } as Record<number, string>)[frame.opcode] ?? `op${frame.opcode}`}(${size})`;
}

/** Compares a reaction with the oracle's expectation; returns what differs, or null. */
function mismatch(expected: Expectation, reaction: Reaction): string | null {
  const closeAt = reaction.frames.findIndex((frame) => frame.opcode === opcodes.close);
  const replies = closeAt === -1 ? reaction.frames : reaction.frames.slice(0, closeAt);
  const close = closeAt === -1 ? null : reaction.frames[closeAt]!;
  const seen = `sent ${reaction.frames.map(describeFrame).join(", ") || "nothing"}${reaction.tcpClosed ? ", then closed TCP" : ", and TCP stayed open"}`;
  const wanted = `${expected.replies.map(describeFrame).join(", ") || "no replies"}, then ${JSON.stringify(expected.verdict)}`;
  const fail = (what: string) => `${what}: expected ${wanted}; the server ${seen}`;

  if (closeAt !== -1 && closeAt !== reaction.frames.length - 1) return fail("frames after the close frame");
  if (!reaction.tcpClosed) return fail(`no TCP close within ${reactionTimeoutMs} ms`);
  const verdict = expected.verdict;
  const mayStopEarly = verdict.kind === "incomplete" && close !== null;
  if (!mayStopEarly || replies.length > expected.replies.length) {
    if (replies.length !== expected.replies.length) return fail("wrong number of replies");
  }
  for (let i = 0; i < replies.length; i++) {
    const want = expected.replies[i]!;
    const got = replies[i]!;
    if (got.opcode !== want.opcode) return fail(`reply ${i} has the wrong opcode`);
    if (want.payload !== undefined && Buffer.compare(Buffer.from(got.payload), Buffer.from(want.payload)) !== 0) return fail(`reply ${i} has the wrong payload`);
  }
  const code = close === null ? null : closeCodeOf(close);
  if (verdict.kind === "close" && (code === null || !verdict.codes.includes(code))) return fail("wrong close");
  if (verdict.kind === "open" && code !== 1000) return fail("the client's close 1000 was not answered with 1000");
  if (verdict.kind === "incomplete" && code !== null && !verdict.mayClose.includes(code)) return fail("unexpected close while waiting for more bytes");
  return null;
}

/** A fresh /echo connection must still round-trip after every case. */
async function probeEcho(token: string): Promise<void> {
  const ws = await openSocket(server.ws("/echo"), undefined, reactionTimeoutMs);
  const inbox = new Inbox(ws);
  ws.send(token);
  const reply = await inbox.next(reactionTimeoutMs);
  ws.close();
  if (reply !== token) throw new Error(`probe echo came back as ${JSON.stringify(reply)}`);
  await inbox.waitClose(reactionTimeoutMs);
}

/** The long-lived /echo client: sends a numbered message and checks every echo so far arrived in order. */
async function healthyEchoTick(): Promise<void> {
  const healthy = healthyEcho;
  if (healthy.inbox.closed) throw new Error(`the healthy /echo client was closed: ${JSON.stringify(healthy.inbox.closed)}`);
  healthy.ws.send(`healthy ${healthy.sent++}`);
  while (healthy.inbox.pending > 0) {
    const reply = await healthy.inbox.next(reactionTimeoutMs);
    if (reply !== `healthy ${healthy.received}`) throw new Error(`healthy /echo expected "healthy ${healthy.received}", got ${JSON.stringify(reply)}`);
    healthy.received++;
  }
}

interface RunSummary {
  cases: number;
  elapsedMs: number;
  slowestCaseMs: number;
  /** How many cases ended in each verdict, e.g. `close 1002`, `open`, `incomplete`. */
  verdicts: Record<string, number>;
}

async function fuzzEndpoint(path: "/echo" | "/drone", streamSeed: number): Promise<RunSummary> {
  const rng = new SeededRandom(streamSeed);
  const maker = new CaseMaker(rng);
  const summary: RunSummary = { cases: 0, elapsedMs: 0, slowestCaseMs: 0, verdicts: {} };
  const started = Date.now();
  for (let i = 0; i < casesPerEndpoint && Date.now() - started < budgetPerEndpointMs; i++) {
    const fuzz = maker.next(categories);
    const expected = expectReaction(fuzz.bytes, { endpoint: path === "/echo" ? "echo" : "drone", maxPayloadBytes, droneMaxBytes });
    const label = `${path} case ${i} (${fuzz.category}, ${fuzz.bytes.length} bytes, first ${Buffer.from(fuzz.bytes.subarray(0, 24)).toString("hex")}, splits ${JSON.stringify(fuzz.splits)})`;
    await withSeed(seed, label, async () => {
      const reaction = await runCase(path, fuzz, expected, rng);
      summary.slowestCaseMs = Math.max(summary.slowestCaseMs, reaction.elapsedMs);
      const problem = mismatch(expected, reaction);
      if (problem) throw new Error(problem);
      await probeEcho(`probe ${i}`);
      if (i % healthyEveryCases === 0) await healthyEchoTick();
    });
    const verdict = expected.verdict.kind === "close" ? `close ${expected.verdict.codes.join("|")}` : expected.verdict.kind;
    summary.verdicts[verdict] = (summary.verdicts[verdict] ?? 0) + 1;
    summary.cases++;
  }
  summary.elapsedMs = Date.now() - started;
  console.log(`${path}: ${summary.cases} cases in ${summary.elapsedMs} ms (slowest ${summary.slowestCaseMs} ms): ${JSON.stringify(summary.verdicts)}`);
  return summary;
}

// ------------------------------------------------------------------ tests

/** Reactions RFC 6455 spells out, one named case each (the fuzzer covers their variations). */
const explicitCases: Array<{ name: string; bytes: () => Uint8Array; codes: number[] }> = [
  { name: "unmasked client frame → 1002", bytes: () => encodeFrame({ opcode: opcodes.text, payload: "hi", mask: false }), codes: [1002] },
  { name: "invalid UTF-8 in text → 1007", bytes: () => encodeFrame({ opcode: opcodes.text, payload: new Uint8Array([0x68, 0xc3, 0x28]) }), codes: [1007] },
  { name: "reserved data opcode 3 → 1002", bytes: () => encodeFrame({ opcode: 3, payload: "x" }), codes: [1002] },
  { name: "reserved control opcode 0xB → 1002", bytes: () => encodeFrame({ opcode: 0xb, payload: "x" }), codes: [1002] },
  { name: "RSV1 without an extension → 1002", bytes: () => encodeFrame({ opcode: opcodes.text, payload: "x", rsv: 4 }), codes: [1002] },
  { name: "RSV3 on a ping → 1002", bytes: () => encodeFrame({ opcode: opcodes.ping, payload: "x", rsv: 1 }), codes: [1002] },
  { name: "ping of 126 bytes → 1002", bytes: () => encodeFrame({ opcode: opcodes.ping, payload: new Uint8Array(126) }), codes: [1002] },
  { name: "fragmented ping → 1002", bytes: () => encodeFrame({ opcode: opcodes.ping, payload: "x", fin: false }), codes: [1002] },
  { name: "continuation without a start → 1002", bytes: () => encodeFrame({ opcode: opcodes.continuation, payload: "x" }), codes: [1002] },
  {
    name: "new text frame inside a fragmented message → 1002",
    bytes: () => concatBytes([encodeFrame({ opcode: opcodes.text, payload: "a", fin: false }), encodeFrame({ opcode: opcodes.text, payload: "b" })]),
    codes: [1002],
  },
  ...[0, 999, 1004, 1005, 1006, 1015, 5000].map((code) => ({ name: `close code ${code} → 1002`, bytes: () => encodeFrame({ opcode: opcodes.close, payload: closePayload(code) }), codes: [1002] })),
  { name: "close with a 1-byte payload → 1002", bytes: () => encodeFrame({ opcode: opcodes.close, payload: new Uint8Array([3]) }), codes: [1002] },
  { name: "close reason not UTF-8 → 1007", bytes: () => encodeFrame({ opcode: opcodes.close, payload: closePayload(1000, new Uint8Array([0xff])) }), codes: [1007] },
  // RFC 6455 5.2: the 64-bit length's top bit "MUST be 0", so this is a protocol error (1002).
  // Bun reads it as an enormous length and answers 1009; both close at once, so both are accepted.
  { name: "64-bit length with the top bit set → 1002 (Bun: 1009)", bytes: () => encodeFrame({ opcode: opcodes.binary, lengthOverride: 2n ** 63n, lengthForm: 64 }), codes: [1002, 1009] },
  { name: "length over the 16 MiB limit → 1009", bytes: () => encodeFrame({ opcode: opcodes.binary, lengthOverride: maxPayloadBytes + 1 }), codes: [1009] },
];

describe("reactions RFC 6455 makes explicit", () => {
  for (const path of ["/echo", "/drone"] as const) {
    for (const { name, bytes, codes } of explicitCases) {
      test(`${path}: ${name}`, async () => {
        const fuzz: FuzzCase = { category: name, bytes: bytes(), splits: [] };
        const expected = expectReaction(fuzz.bytes, { endpoint: path === "/echo" ? "echo" : "drone", maxPayloadBytes, droneMaxBytes });
        // The oracle and this table agree, so the fuzzer checks the same codes.
        expect(expected.verdict).toMatchObject({ kind: "close", codes });
        const reaction = await runCase(path, fuzz, expected, new SeededRandom(seed));
        expect(mismatch(expected, reaction)).toBeNull();
      });
    }
  }
});

describe(`frame fuzzer (seed ${seed})`, () => {
  for (const [path, streamSeed] of [["/echo", seed], ["/drone", seed ^ 0x9e3779b9]] as const) {
    test(`up to ${casesPerEndpoint} seeded cases against ${path}: exact RFC 6455 reactions within ${reactionTimeoutMs} ms, fresh echoes after each`, async () => {
      const summary = await fuzzEndpoint(path, streamSeed);
      expect(summary.cases).toBeGreaterThanOrEqual(minimumCasesPerEndpoint);
    }, 40_000);
  }

  test("the healthy /echo client lost nothing and the healthy /drone viewer saw every frame", async () => {
    // Every numbered echo, in order.
    const healthy = healthyEcho;
    expect(healthy.sent).toBeGreaterThan(0);
    while (healthy.received < healthy.sent) {
      expect(await healthy.inbox.next(reactionTimeoutMs)).toBe(`healthy ${healthy.received}`);
      healthy.received++;
    }
    expect(healthy.inbox.closed).toBeNull();

    // Telemetry for alpha kept coming at about 10 Hz, seq strictly increasing by one: no gap, no duplicate.
    expect(healthyDrone.closed).toBeNull();
    const seqs = healthyDrone.telemetry.filter((frame) => frame.drone === "alpha").map((frame) => frame.seq as number);
    const expectedAtLeast = Math.floor(((Date.now() - healthySince) / 1000) * 10 * 0.5);
    expect(seqs.length).toBeGreaterThanOrEqual(Math.max(1, expectedAtLeast));
    const gaps = seqs.flatMap((seqValue, i) => (i > 0 && seqValue !== seqs[i - 1]! + 1 ? [`${seqs[i - 1]}→${seqValue}`] : []));
    expect(gaps).toEqual([]);
    // And it still answers.
    expect((await healthyDrone.request("ping", {}, "still-there")).type).toBe("pong");

    // No fuzz connection lingers half-open on the server: only the two healthy clients remain.
    await waitUntil(() => server.connections.counts().total === 2, 5000, "only the healthy connections open");
    expect(server.connections.counts()).toMatchObject({ echo: 1, drone: 1, total: 2 });
  });
});
