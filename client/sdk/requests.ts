/**
 * Request correlation: each request gets an id, goes out as soon as a
 * welcomed socket is up, and settles exactly once: on the reply with its id
 * (`ack`, `pong` or `error`), on its timeout, or when the socket drops or the
 * client closes. A command's `done` is matched by the same id.
 *
 * Owns the pending requests, their timers and the `done` waiters. Owns no
 * socket: it sends through a `RequestLink` and is told what arrived.
 */
import type { AckData, AckFor, ClientMessageType, DoneData, MissionMessageType, PongData, RequestId, WireClientData, WireClientMessage } from "../../protocol/index.ts";
import type { SkyportClock, TimerHandle } from "./clock.ts";
import { SkyportError } from "./errors.ts";

/** A request as the client builds it: a wire message of type `T` without its id, which is added here. */
export interface OutgoingRequest<T extends ClientMessageType> {
  type: T;
  data: WireClientData[T];
}

/** Whatever a reply carries: an ack's data, or a pong's. */
type ReplyData = AckData | PongData;

/** Where requests go out. */
export interface RequestLink {
  /** Whether a welcomed socket is up: requests go out only then, and wait otherwise. */
  readonly live: boolean;
  send(text: string): void;
}

/** What the caller does with the outcome of a request of type `T`. */
export interface RequestHandlers<T extends ClientMessageType, Result> {
  /** Turns the reply's data into the promise's value; runs synchronously, before any later message is handled. */
  settle(data: AckFor<T>, roundTripMs: number): Result;
  /** Runs once the id is known, before the request can go out. */
  beforeSend?(id: number): void;
  /** Runs when the request fails (error reply, timeout, drop or close), before the promise rejects. */
  onFail?(id: number): void;
}

/** A request sent or waiting to be sent, until its reply, its timeout or a drop. */
interface PendingRequest {
  /** The serialized message, sent as soon as the link is live. */
  text: string;
  /** `clock.now()` when it went out, null while it waits for the link. */
  sentAt: number | null;
  timer: TimerHandle;
  settle(data: ReplyData, sentAt: number): void;
  fail(error: SkyportError): void;
}

export class Requests {
  private nextId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  /** Accepted (or about to be) commands awaiting their `done`, by request id. */
  private readonly doneWaiters = new Map<number, PromiseWithResolvers<DoneData>>();

  constructor(
    private readonly clock: SkyportClock,
    private readonly timeoutMs: number,
    private readonly link: RequestLink,
  ) {}

  /**
   * Sends `{type, id, data}` and settles on the reply with that id. Sent at
   * once on a live link, otherwise as soon as one is (`transmitWaiting`);
   * the timeout runs from the call either way.
   */
  send<T extends ClientMessageType, Result>(message: OutgoingRequest<T>, handlers: RequestHandlers<T, Result>): Promise<Result> {
    const id = this.nextId++;
    handlers.beforeSend?.(id);
    const { promise, resolve, reject } = Promise.withResolvers<Result>();
    const timer = this.clock.setTimeout(() => {
      this.pending.delete(id);
      handlers.onFail?.(id);
      const waitedFor = request.sentAt === null ? "the connection" : "the server's reply";
      reject(new SkyportError("timeout", `${message.type} timed out after ${this.timeoutMs} ms waiting for ${waitedFor}`));
    }, this.timeoutMs);
    // For each T this is exactly WireClientMessage's member for T; the compiler cannot relate a generic T to a union member.
    const wire = { type: message.type, id, data: message.data } as WireClientMessage;
    const request: PendingRequest = {
      text: JSON.stringify(wire),
      sentAt: null,
      timer,
      settle: (data, sentAt) => {
        try {
          // The reply with this id answers this request: by the protocol's contract its data is AckFor<T>.
          resolve(handlers.settle(data as AckFor<T>, Math.round(this.clock.now() - sentAt)));
        } catch (error) {
          reject(error);
        }
      },
      fail: (error) => {
        handlers.onFail?.(id);
        reject(error);
      },
    };
    this.pending.set(id, request);
    if (this.link.live) this.transmit(request);
    return promise;
  }

  /**
   * Sends a command (or a mission message, answered the same way): like `send`, and its `done` (matched by the same id)
   * is handed to `settle` with the ack. Nobody need await that `done`: a
   * drop that rejects it is not an unhandled rejection.
   */
  sendCommand<T extends "command" | MissionMessageType, Result>(message: OutgoingRequest<T>, settle: (ack: AckFor<T>, roundTripMs: number, done: Promise<DoneData>) => Result): Promise<Result> {
    const done = Promise.withResolvers<DoneData>();
    done.promise.catch(() => {});
    return this.send(message, {
      beforeSend: (id) => this.doneWaiters.set(id, done),
      onFail: (id) => this.doneWaiters.delete(id),
      settle: (ack, roundTripMs) => settle(ack, roundTripMs, done.promise),
    });
  }

  /** Sends every request that was waiting for the link; call once a socket is welcomed. */
  transmitWaiting(): void {
    for (const request of this.pending.values()) if (request.sentAt === null) this.transmit(request);
  }

  /** An `ack` or `pong` arrived: settles the request with its id, if one was sent and still waits. */
  replied(id: RequestId | undefined, data: ReplyData): void {
    const request = this.take(id);
    if (request && request.sentAt !== null) request.settle(data, request.sentAt);
  }

  /** An `error` arrived: rejects the request with its id; false if none was waiting (the error is unsolicited). */
  refused(id: RequestId | undefined, error: SkyportError): boolean {
    const request = this.take(id);
    if (!request) return false;
    request.fail(error);
    return true;
  }

  /** A `done` arrived: resolves the `done` of the command with its id. */
  done(id: RequestId | undefined, data: DoneData): void {
    const key = typeof id === "number" ? id : -1;
    this.doneWaiters.get(key)?.resolve(data);
    this.doneWaiters.delete(key);
  }

  /**
   * Rejects every `done` and every request already sent (their replies can
   * no longer arrive). Requests still waiting for the link keep waiting,
   * within their timeout, unless `includeUnsent`.
   */
  failAll(error: SkyportError, includeUnsent: boolean): void {
    for (const [id, done] of this.doneWaiters) {
      if (!includeUnsent && this.pending.get(id)?.sentAt === null) continue;
      this.doneWaiters.delete(id);
      done.reject(error);
    }
    for (const [id, request] of this.pending) {
      if (request.sentAt === null && !includeUnsent) continue;
      this.pending.delete(id);
      this.clock.clearTimeout(request.timer);
      request.fail(error);
    }
  }

  private transmit(request: PendingRequest): void {
    request.sentAt = this.clock.now();
    this.link.send(request.text);
  }

  private take(id: RequestId | undefined): PendingRequest | undefined {
    if (typeof id !== "number") return undefined;
    const request = this.pending.get(id);
    if (!request) return undefined;
    this.pending.delete(id);
    this.clock.clearTimeout(request.timer);
    return request;
  }
}
