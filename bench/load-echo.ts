/**
 * The load generator's echo behaviour: keeps K messages in flight on each
 * connection (send K, then one more for every echo received) and measures
 * round-trip latency.
 *
 * The frames are pre-encoded once (masked, K copies back to back), so
 * topping up n messages is one `write` of a slice of that buffer, and reading
 * echoes only skips headers; no per-message allocation, event or unmasking.
 * Echo preserves order, so each connection keeps a FIFO of send times and
 * pairs the i-th echo with the i-th send. One clock read per TCP chunk.
 */
import { LatencyHistogram } from "./histogram.ts";
import type { BehaviourResult, Connection, LoadBehaviour } from "./load-behaviour.ts";
import { encodeFrame, opcodes } from "../tests/support/frames.ts";
import { FrameCounter, repeatFrame } from "./wire.ts";

/** One connection's echo state. Invariant: sends - echoes <= inflight, so the ring never overflows. */
export interface EchoState {
  counter: FrameCounter;
  /** Send times (Bun.nanoseconds) of messages in flight, oldest at `oldest`. */
  sendTimes: Float64Array;
  oldest: number;
  newest: number;
  /** Messages owed to the server but not yet handed to `write` (waiting for drain). */
  owed: number;
  /** Bytes [pendingStart, pendingEnd) of the shared batch buffer not yet written. */
  pendingStart: number;
  pendingEnd: number;
}

export class EchoLoad implements LoadBehaviour<EchoState> {
  private readonly frameBytes: number;
  private readonly batch: Uint8Array;
  private readonly histogram = new LatencyHistogram();
  private sending = false;
  private received = 0;
  private receivedAtMark = 0;

  /**
   * @param inflight messages kept in flight per connection (>= 1)
   * @param payloadBytes bytes per message
   */
  constructor(
    private readonly inflight: number,
    private readonly payloadBytes: number,
  ) {
    if (!Number.isInteger(inflight) || inflight < 1) throw new Error(`echo needs --inflight >= 1: got ${inflight}`);
    const maskKey = crypto.getRandomValues(new Uint8Array(4));
    const payload = new Uint8Array(payloadBytes);
    for (let i = 0; i < payload.length; i++) payload[i] = 0x61 + (i % 26);
    const frame = encodeFrame({ opcode: opcodes.binary, payload, maskKey });
    this.frameBytes = frame.length;
    this.batch = repeatFrame(frame, inflight);
  }

  newState(): EchoState {
    return { counter: new FrameCounter(), sendTimes: new Float64Array(this.inflight), oldest: 0, newest: 0, owed: 0, pendingStart: 0, pendingEnd: 0 };
  }

  upgraded(c: Connection<EchoState>, rest: Uint8Array): void {
    if (rest.length > 0) this.onEchoes(c, rest);
  }

  data(c: Connection<EchoState>, chunk: Buffer): void {
    this.onEchoes(c, chunk);
  }

  drain(c: Connection<EchoState>): void {
    this.flush(c);
  }

  async settled(): Promise<void> {
    // Echo connections have no opening exchange.
  }

  start(connections: readonly Connection<EchoState>[]): void {
    if (this.sending) return;
    this.sending = true;
    const now = Bun.nanoseconds();
    for (const c of connections) this.send(c, this.inflight, now);
  }

  mark(): void {
    this.receivedAtMark = this.received;
    this.histogram.reset();
  }

  async stop(connections: readonly Connection<EchoState>[]): Promise<BehaviourResult> {
    this.sending = false;
    const echoedBytes = connections.reduce((sum, c) => sum + c.state.counter.dataBytes, 0);
    if (echoedBytes !== this.received * this.payloadBytes) {
      throw new Error(`echoes are not the size sent: ${this.received} echoes carried ${echoedBytes} bytes, expected ${this.payloadBytes} each`);
    }
    return { messages: this.received - this.receivedAtMark, latency: this.histogram.snapshot() };
  }

  /** Writes what the connection owes; stops at a short write and resumes on drain. */
  private flush(c: Connection<EchoState>): void {
    const socket = c.socket!;
    const s = c.state;
    for (;;) {
      if (s.pendingStart === s.pendingEnd) {
        if (s.owed === 0) return;
        const n = Math.min(s.owed, this.inflight);
        s.owed -= n;
        s.pendingStart = 0;
        s.pendingEnd = n * this.frameBytes;
      }
      const written = socket.write(this.batch, s.pendingStart, s.pendingEnd - s.pendingStart);
      if (written <= 0) return;
      s.pendingStart += written;
      if (s.pendingStart < s.pendingEnd) return;
    }
  }

  private send(c: Connection<EchoState>, n: number, now: number): void {
    const s = c.state;
    const ring = s.sendTimes;
    for (let i = 0; i < n; i++) {
      ring[s.newest] = now;
      s.newest = s.newest + 1 === this.inflight ? 0 : s.newest + 1;
    }
    s.owed += n;
    if (s.pendingStart === s.pendingEnd) this.flush(c);
  }

  private onEchoes(c: Connection<EchoState>, chunk: Uint8Array): void {
    const s = c.state;
    const n = s.counter.feed(chunk);
    if (n === 0) return;
    const now = Bun.nanoseconds();
    const ring = s.sendTimes;
    for (let i = 0; i < n; i++) {
      this.histogram.record((now - ring[s.oldest]!) / 1000);
      s.oldest = s.oldest + 1 === this.inflight ? 0 : s.oldest + 1;
    }
    this.received += n;
    if (this.sending) this.send(c, n, now);
  }
}
