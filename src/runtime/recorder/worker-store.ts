/**
 * The SQLite store on its own thread: the `RecorderStore` the server uses,
 * forwarding every call to `sqlite-worker.ts`, so that writing a batch
 * (synchronous in bun:sqlite) costs the event loop only the copy of the
 * batch into the worker, never the disk.
 *
 * Owns the call/answer bookkeeping and the worker's life; the SQL is the
 * SQLite store's, unchanged. In-process tests may use `openSqliteStore`
 * directly: the same store, on the caller's thread.
 */
import type { WorkerAnswer, WorkerCall } from "./sqlite-worker.ts";
import { StoreOpenError, type RecorderStore } from "./store.ts";

/** A call waiting for its answer. */
interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Opens the SQLite database in `dataDir` on a worker thread; rejects with `StoreOpenError` (one line naming --data-dir) as `openSqliteStore` would. */
export async function openWorkerSqliteStore(dataDir: string): Promise<RecorderStore> {
  const store = new WorkerSqliteStore(new Worker(new URL("./sqlite-worker.ts", import.meta.url).href));
  try {
    await store.call("open", [dataDir]);
  } catch (error) {
    store.terminate();
    throw error;
  }
  return store;
}

class WorkerSqliteStore implements RecorderStore {
  readonly kind = "sqlite";
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the worker is terminated: calls fail at once instead of waiting for an answer that cannot come. */
  private stopped = false;

  constructor(private readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<WorkerAnswer>) => {
      const answer = event.data;
      const pending = this.pending.get(answer.id);
      if (!pending) return;
      this.pending.delete(answer.id);
      if ("error" in answer) pending.reject(answer.open ? new StoreOpenError(answer.error) : new Error(answer.error));
      else pending.resolve(answer.result);
    };
    worker.onerror = (event) => this.failAll(new Error(`the recorder's database thread failed: ${event.message}`));
  }

  /** Sends a call to the worker and resolves with its answer. */
  call<T>(method: string, args: unknown[]): Promise<T> {
    if (this.stopped) return Promise.reject(new Error("the recorder's database is closed"));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, method, args } satisfies WorkerCall);
    });
  }

  terminate(): void {
    this.stopped = true;
    this.worker.terminate();
    this.failAll(new Error("the recorder's database thread stopped"));
  }

  write: RecorderStore["write"] = (...args) => this.call("write", args);
  flights: RecorderStore["flights"] = (...args) => this.call("flights", args);
  flight: RecorderStore["flight"] = (...args) => this.call("flight", args);
  commands: RecorderStore["commands"] = (...args) => this.call("commands", args);
  events: RecorderStore["events"] = (...args) => this.call("events", args);
  frames: RecorderStore["frames"] = (...args) => this.call("frames", args);
  packets: RecorderStore["packets"] = (...args) => this.call("packets", args);
  streams: RecorderStore["streams"] = (...args) => this.call("streams", args);
  latestFrames: RecorderStore["latestFrames"] = (...args) => this.call("latestFrames", args);
  failUnfinishedCommands: RecorderStore["failUnfinishedCommands"] = (...args) => this.call("failUnfinishedCommands", args);
  deleteFlight: RecorderStore["deleteFlight"] = (...args) => this.call("deleteFlight", args);
  deleteBefore: RecorderStore["deleteBefore"] = (...args) => this.call("deleteBefore", args);
  oldestFinishedFlight: RecorderStore["oldestFinishedFlight"] = (...args) => this.call("oldestFinishedFlight", args);
  sizeBytes: RecorderStore["sizeBytes"] = (...args) => this.call("sizeBytes", args);

  async close(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.call("close", []);
    } finally {
      this.terminate();
    }
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
