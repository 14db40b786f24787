/**
 * The SQLite store's own thread: a Bun Worker that opens the database and
 * runs every store call, so that a flush (bun:sqlite is synchronous) never
 * holds the event loop the tick and the sockets run on.
 *
 * Owns only the message loop: `{id, method, args}` in, `{id, result}` or
 * `{id, error, open}` out; the first message opens the store. The SQL and
 * the rules are `sqlite-store.ts`'s. Started by `worker-store.ts`.
 */
import { openSqliteStore, type SqliteStore } from "./sqlite-store.ts";
import { StoreOpenError } from "./store.ts";

declare const self: Worker;

/** A call from the main thread. */
export type WorkerCall = { id: number; method: "open"; args: [dataDir: string] } | { id: number; method: string; args: unknown[] };

/** The answer to a call: its result, or its error's message (`open`: the database could not be opened). */
export type WorkerAnswer = { id: number; result: unknown } | { id: number; error: string; open: boolean };

let store: SqliteStore | null = null;

self.onmessage = async (event: MessageEvent<WorkerCall>) => {
  const { id, method, args } = event.data;
  try {
    if (method === "open") {
      store = openSqliteStore(args[0] as string);
      self.postMessage({ id, result: store.path } satisfies WorkerAnswer);
      return;
    }
    if (store === null) throw new Error("the recorder's database is not open");
    const call = (store as unknown as Record<string, (...values: unknown[]) => Promise<unknown>>)[method];
    if (typeof call !== "function") throw new Error(`the SQLite store has no method ${JSON.stringify(method)}`);
    const result = await call.apply(store, args);
    self.postMessage({ id, result } satisfies WorkerAnswer);
  } catch (error) {
    self.postMessage({ id, error: error instanceof Error ? error.message : String(error), open: error instanceof StoreOpenError } satisfies WorkerAnswer);
  }
};
