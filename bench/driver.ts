/**
 * The runner's side of the load generator: spawns `bench/loadgen.ts`
 * children pinned to the load core, splits connections between them, and
 * sends them commands in lockstep (start, mark, stop).
 *
 * Owns the stdio protocol with the children (see loadgen.ts) and its
 * timeouts. It does not sample the server or compute results.
 */
import { join } from "node:path";
import { spawnChild, stopChild } from "./children.ts";
import type { LoadgenMessage, ReaderKind } from "./loadgen.ts";
import { repoRoot } from "./servers.ts";
import { lines } from "./streams.ts";

/** Longest wait for a child's "ready" (all connections upgraded) or "result" line. */
const replyTimeoutMilliseconds = 90_000;
/** How long a load generator that sent its result gets to exit by itself before it is terminated (a CPU profile is written then). */
const selfExitMilliseconds = 5000;
/** A load generator kills itself after this long even if the runner never says stop. */
const loadgenMaxSeconds = 300;

export interface LoadPlan {
  /** The server's address (default 127.0.0.1). */
  host?: string;
  port: number;
  /** WebSocket path, with its query string. */
  path: string;
  connections: number;
  /** Child processes to spread the connections over. */
  processes: number;
  /** CPU core every child is pinned to. */
  core: number;
  /** What each connection does once upgraded. */
  behaviour: EchoPlan | ListenPlan;
  /** Flags for the children's Bun before `run`, e.g. `--cpu-prof-md` to profile them (bench/loadgen-cost.ts). */
  runtimeFlags?: readonly string[];
}

/** Keep `inflight` messages of `payloadBytes` in flight per connection. */
export interface EchoPlan {
  mode: "echo";
  inflight: number;
  payloadBytes: number;
}

/** Send `send`, wait for `replies` replies, then read (idle connections when both are empty). */
export interface ListenPlan {
  mode: "listen";
  send: readonly string[];
  replies: number;
  /** How long to keep reading after stop before judging loss. */
  graceMilliseconds: number;
  /** Stop reading once the replies arrived: a viewer that does not read (default: keep reading). */
  stopReading?: boolean;
  /** Offer permessage-deflate, and inflate what arrives compressed. */
  deflate?: boolean;
  /** How to read once the opening exchange is over (default: the load generator's, direct where it can). */
  reader?: ReaderKind;
}

/** The load generator flags for a behaviour. */
function behaviourFlags(plan: EchoPlan | ListenPlan): string[] {
  if (plan.mode === "echo") return ["--mode", "echo", "--inflight", String(plan.inflight), "--payload-bytes", String(plan.payloadBytes)];
  return [
    "--mode", "listen",
    ...plan.send.flatMap((text) => ["--send", text]),
    "--replies", String(plan.replies),
    "--grace-ms", String(plan.graceMilliseconds),
    "--stop-reading", plan.stopReading === true ? "1" : "0",
    ...(plan.deflate ? ["--deflate", "1"] : []),
    ...(plan.reader ? ["--reader", plan.reader] : []),
  ];
}

type ResultMessage = Extract<LoadgenMessage, { type: "result" }>;

/** One load generator child: its pid (for /proc sampling), commands in, JSON lines out. */
class Loadgen {
  private readonly lines: AsyncIterator<string>;
  /** True once the child sent its result, after which it exits on its own. */
  private reported = false;

  constructor(private readonly child: ReturnType<typeof spawnChild>) {
    this.lines = lines(child.stdout as ReadableStream<Uint8Array>);
  }

  get pid(): number {
    return this.child.pid;
  }

  command(name: "start" | "mark" | "stop"): void {
    const stdin = this.child.stdin as import("bun").FileSink;
    stdin.write(`${name}\n`);
    stdin.flush();
  }

  /** The next JSON line, which must be of type `expected`. */
  async expect<T extends LoadgenMessage["type"]>(expected: T): Promise<Extract<LoadgenMessage, { type: T }>> {
    const next = await Promise.race([
      this.lines.next(),
      Bun.sleep(replyTimeoutMilliseconds).then(() => ({ done: true as const, value: "timeout" })),
    ]);
    if (next.done) {
      const stderr = await stderrText(this.child);
      throw new Error(`load generator ${next.value === "timeout" ? "timed out" : "exited"} waiting for "${expected}": ${stderr}`);
    }
    const message = JSON.parse(next.value) as LoadgenMessage;
    if (message.type === "error") throw new Error(`load generator: ${message.message}`);
    if (message.type !== expected) throw new Error(`load generator sent "${message.type}", expected "${expected}"`);
    if (message.type === "result") this.reported = true;
    return message as Extract<LoadgenMessage, { type: T }>;
  }

  /** Ends the child: one that sent its result exits by itself (writing its profile, if it was asked for one), so it gets time to. */
  async stop(): Promise<void> {
    if (this.reported) await Promise.race([this.child.exited, Bun.sleep(selfExitMilliseconds)]);
    return stopChild(this.child, 1000);
  }
}

/** A group of load generators driven together. */
export class LoadGroup {
  private constructor(readonly members: Loadgen[]) {}

  /** Spawns the children and waits until every connection is upgraded. */
  static async open(plan: LoadPlan): Promise<LoadGroup> {
    const processes = Math.max(1, Math.min(plan.processes, plan.connections));
    const members: Loadgen[] = [];
    for (let i = 0; i < processes; i++) {
      const connections = Math.floor(plan.connections / processes) + (i < plan.connections % processes ? 1 : 0);
      const child = spawnChild(
        [
          "taskset", "-c", String(plan.core),
          process.execPath, ...(plan.runtimeFlags ?? []), "run", join(repoRoot, "bench/loadgen.ts"),
          ...(plan.host === undefined ? [] : ["--host", plan.host]),
          "--port", String(plan.port),
          "--path", plan.path,
          "--connections", String(connections),
          ...behaviourFlags(plan.behaviour),
          "--max-seconds", String(loadgenMaxSeconds),
        ],
        { stdin: "pipe", stdout: "pipe", stderr: "pipe" },
      );
      members.push(new Loadgen(child));
    }
    const group = new LoadGroup(members);
    try {
      await Promise.all(members.map((m) => m.expect("ready")));
    } catch (error) {
      await group.close();
      throw error;
    }
    return group;
  }

  get pids(): number[] {
    return this.members.map((m) => m.pid);
  }

  command(name: "start" | "mark"): void {
    for (const m of this.members) m.command(name);
  }

  /** Ends the measured window on every child and collects their results. */
  async stop(): Promise<ResultMessage[]> {
    for (const m of this.members) m.command("stop");
    return Promise.all(this.members.map((m) => m.expect("result")));
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }
}

async function stderrText(child: ReturnType<typeof spawnChild>): Promise<string> {
  const text = await Promise.race([new Response(child.stderr as ReadableStream).text(), Bun.sleep(1000).then(() => "")]);
  return JSON.stringify(text.trim().slice(-1000));
}
