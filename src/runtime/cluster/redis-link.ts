/**
 * One node's connection to Redis: a command connection and a subscriber
 * connection (Redis forbids commands on a subscribed one), reconnected with
 * backoff and resubscribed after every drop.
 *
 * Owns the connection state (up or down), the reconnect schedule and the
 * channel listeners. It knows nothing of drones: the cluster decides what
 * to send. Bun's own `autoReconnect` is off on purpose: it does not re-issue
 * SUBSCRIBE after reconnecting, and it does not report the drop
 * (oven-sh/bun#33450), so a node would go deaf without knowing.
 */
import { RedisClient } from "bun";
import type { Logger } from "../observability/log.ts";

/** Longest wait for a connection or a command before Redis counts as unreachable, milliseconds. */
const timeoutMilliseconds = 2000;
/** Reconnect delays: doubling from the first to the ceiling, with equal jitter. */
const firstRetryMilliseconds = 100;
const maxRetryMilliseconds = 5000;

export type StringListener = (message: string) => void;

export interface RedisLinkEvents {
  /** Connected (again) and every channel subscribed. */
  up(): void;
  /** The connection was lost; reconnection is scheduled. */
  down(reason: string): void;
}

/** Redis took longer than `timeoutMilliseconds` to answer a command: the connection is considered hung. */
class RedisTimeout extends Error {
  override name = "RedisTimeout";
}

/** The reconnect delay after `failures` consecutive failed attempts (1-based), milliseconds. */
export function retryDelayMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxRetryMilliseconds, firstRetryMilliseconds * 2 ** Math.max(0, failures - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
}

export class RedisLink {
  private commands: RedisClient | null = null;
  private subscriber: RedisClient | null = null;
  private readonly listeners = new Map<string, StringListener>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private stopped = false;
  /** Bumped on every connection attempt, so callbacks of an old connection are ignored. */
  private generation = 0;
  /** True while both connections are open and subscribed. */
  up = false;
  /** Successful reconnections after the first connection. */
  reconnects = 0;
  /** Why the link last went down, for /healthz. */
  lastError: string | null = null;
  private everUp = false;

  constructor(
    readonly url: string,
    private readonly events: RedisLinkEvents,
    private readonly logger: Logger,
  ) {}

  /** Starts connecting; resolves after the first attempt, whether it worked or not. */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Closes both connections and stops reconnecting. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.closeClients();
    this.up = false;
  }

  /** Listens on a channel, now and after every reconnection. One listener per channel. */
  async subscribe(channel: string, listener: StringListener): Promise<void> {
    this.listeners.set(channel, listener);
    if (this.up && this.subscriber) await this.subscriber.subscribe(channel, listener);
  }

  /** Runs a command; rejects when the link is down or Redis does not answer in time. */
  async send(command: string, args: string[]): Promise<unknown> {
    const client = this.commands;
    if (!this.up || !client) throw new Error("redis unavailable");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisTimeout(`redis did not answer ${command} within ${timeoutMilliseconds} ms`)), timeoutMilliseconds);
    });
    try {
      return await Promise.race([client.send(command, args), timeout]);
    } catch (error) {
      // A command that timed out on an open socket means a hung server: start over.
      if (this.up && error instanceof RedisTimeout) this.lost(this.generation, error.message);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Publishes without waiting; returns false (the message is dropped) while the link is down. */
  publish(channel: string, message: string): boolean {
    const client = this.commands;
    if (!this.up || !client) return false;
    client.publish(channel, message).catch(() => {}); // a failure surfaces as onclose
    return true;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.closeClients();
    const options = { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: timeoutMilliseconds };
    const commands = new RedisClient(this.url, options);
    const subscriber = new RedisClient(this.url, options);
    this.commands = commands;
    this.subscriber = subscriber;
    commands.onclose = (error) => this.lost(generation, error?.message ?? "connection closed");
    subscriber.onclose = (error) => this.lost(generation, error?.message ?? "connection closed");
    try {
      await Promise.all([commands.connect(), subscriber.connect()]);
      for (const [channel, listener] of this.listeners) await subscriber.subscribe(channel, listener);
    } catch (error) {
      this.lost(generation, error instanceof Error ? error.message : String(error));
      return;
    }
    if (generation !== this.generation || this.stopped) return;
    this.up = true;
    this.failures = 0;
    this.lastError = null;
    if (this.everUp) this.reconnects++;
    this.everUp = true;
    this.logger.info({ event: "redis_up", url: redactedUrl(this.url), reconnects: this.reconnects });
    this.events.up();
  }

  /** Either connection dropped or an attempt failed: go down once, and retry later. */
  private lost(generation: number, reason: string): void {
    if (generation !== this.generation || this.stopped) return;
    this.generation++; // the other connection's close belongs to this same loss
    const wasUp = this.up;
    this.up = false;
    this.lastError = reason;
    this.closeClients();
    this.failures++;
    const delay = retryDelayMs(this.failures);
    if (wasUp || this.failures === 1) {
      this.logger.warn({ event: "redis_down", url: redactedUrl(this.url), reason, retryInMs: Math.round(delay) });
    }
    if (wasUp) this.events.down(reason);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  private closeClients(): void {
    for (const client of [this.commands, this.subscriber]) {
      if (!client) continue;
      client.onclose = null;
      try {
        client.close();
      } catch {
        // already closed
      }
    }
    this.commands = null;
    this.subscriber = null;
  }
}

/** The URL without its password, for logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "redis://?";
  }
}
