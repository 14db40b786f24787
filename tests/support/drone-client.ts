/**
 * A test client for /drone that sorts what arrives: telemetry frames, and
 * everything else (welcome, ack, done, error, lease, event, text lines) in
 * order, so tests can await exactly the reply they expect.
 */
import { openSocket } from "./sockets.ts";

export class DroneTestClient {
  readonly telemetry: any[] = [];
  /** `telemetry_batch` data (all-drones subscription), in arrival order. */
  readonly batches: any[] = [];
  readonly messages: any[] = [];
  closed: { code: number; reason: string } | null = null;
  /** Everyone awaiting an arrival; woken on each message and on close. */
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const raw = event.data as string;
      let message: any = raw;
      if (typeof raw === "string" && raw.startsWith("{")) message = JSON.parse(raw);
      if (message?.type === "telemetry") this.telemetry.push(message.data);
      else if (message?.type === "telemetry_batch") this.batches.push(message.data);
      else this.messages.push(message);
      for (const wake of this.waiters) wake();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      for (const wake of this.waiters) wake();
    });
  }

  static async connect(url: string, protocols?: string | string[]): Promise<DroneTestClient> {
    const client = new DroneTestClient(await openSocket(url, protocols));
    await client.welcomed();
    return client;
  }

  /** A client around an open socket that has not been welcomed yet (it must present a token first). */
  static wrap(ws: WebSocket): DroneTestClient {
    return new DroneTestClient(ws);
  }

  /** Waits for the welcome and records the session it names. */
  async welcomed(): Promise<void> {
    const welcome = await this.take((m) => m?.type === "welcome");
    this.session = welcome.data.session;
    this.welcome = welcome;
  }

  session = "";
  welcome: any = null;

  send(message: object | string): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Resolves once `condition` holds, re-checking on every arrival; fails after timeoutMs. */
  private async until(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`${what()} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.waiters.add(wake);
      });
    }
  }

  /** Removes and returns the first message matching `match`, waiting up to timeoutMs. */
  async take(match: (message: any) => boolean, timeoutMs = 3000): Promise<any> {
    let index = -1;
    await this.until(
      () => {
        index = this.messages.findIndex(match);
        if (index === -1 && this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) before the expected message`);
        return index !== -1;
      },
      timeoutMs,
      () => `expected message not received (have: ${JSON.stringify(this.messages).slice(0, 500)})`,
    );
    return this.messages.splice(index, 1)[0];
  }

  /** Sends a request with an id and returns its ack, error or pong. */
  async request(type: string, data: object = {}, id: string | number = crypto.randomUUID().slice(0, 8)): Promise<any> {
    this.send({ type, id, data });
    return this.take((m) => (m?.type === "ack" || m?.type === "error" || m?.type === "pong") && m.id === id);
  }

  /** The `done` for a request id. */
  done(id: string | number, timeoutMs = 3000): Promise<any> {
    return this.take((m) => m?.type === "done" && m.id === id, timeoutMs);
  }

  /** Waits until the telemetry received so far satisfies a condition. */
  waitTelemetry(condition: (frames: any[]) => boolean, timeoutMs = 3000): Promise<void> {
    return this.until(() => condition(this.telemetry), timeoutMs, () => `telemetry condition not met (have ${this.telemetry.length} frames)`);
  }

  /** Waits until the batches received so far satisfy a condition. */
  waitBatches(condition: (batches: any[]) => boolean, timeoutMs = 3000): Promise<void> {
    return this.until(() => condition(this.batches), timeoutMs, () => `batch condition not met (have ${this.batches.length} batches)`);
  }

  async waitClose(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    await this.until(() => this.closed !== null, timeoutMs, () => "socket did not close");
    return this.closed!;
  }

  close(): void {
    this.ws.close();
  }
}
