/**
 * Promise helpers over the standard WebSocket client, each bounded in time so
 * a broken server fails a test instead of hanging it.
 */

/** Opens a WebSocket and resolves once it is open. */
export function openSocket(url: string, protocols?: string | string[], timeoutMs = 5000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.binaryType = "arraybuffer";
    const timer = setTimeout(() => reject(new Error(`open ${url} timed out`)), timeoutMs);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(ws);
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error(`cannot open ${url}`));
    };
  });
}

/**
 * Queues every message a socket receives so tests can await them in order,
 * with no race between a send and the listener.
 */
export class Inbox {
  private readonly messages: Array<string | ArrayBuffer> = [];
  private waiter: (() => void) | null = null;
  closed: { code: number; reason: string } | null = null;
  private readonly closeWaiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      this.messages.push(event.data as string | ArrayBuffer);
      this.waiter?.();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.waiter?.();
      for (const wake of this.closeWaiters.splice(0)) wake();
    });
  }

  get pending(): number {
    return this.messages.length;
  }

  /** The next message, or an error after timeoutMs or on close. */
  async next(timeoutMs = 5000): Promise<string | ArrayBuffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length === 0) {
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting for a message`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
    return this.messages.shift()!;
  }

  /** The next message as parsed JSON. */
  async nextJson<T = any>(timeoutMs = 5000): Promise<T> {
    const message = await this.next(timeoutMs);
    if (typeof message !== "string") throw new Error("expected a text message, got binary");
    return JSON.parse(message) as T;
  }

  /** Resolves with the close code and reason once the socket closes. */
  async waitClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return this.closed;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socket did not close within ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.closed!;
  }
}

/** Polls a condition until it holds, failing after timeoutMs: for effects that have no event to await. */
export async function waitUntil(condition: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await Bun.sleep(5);
  }
}
