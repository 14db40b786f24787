/**
 * Every process the benchmark spawns, so that none outlives it.
 *
 * Owns spawning (always through here), stopping one child politely then
 * firmly, and killing whatever is left when the runner exits, throws, or gets
 * Ctrl-C / SIGTERM. It kills only the processes it started, by pid.
 */
import type { Subprocess } from "bun";

/** How long a child gets to exit after SIGTERM before SIGKILL. */
const terminateGraceMilliseconds = 3000;

type Child = Subprocess<"pipe" | "ignore", "pipe" | "ignore", "pipe" | "ignore">;

const live = new Set<Child>();
let hooksInstalled = false;

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: "pipe" | "ignore";
  stdout?: "pipe" | "ignore";
  stderr?: "pipe" | "ignore";
}

/** Spawns `cmd` and tracks it until it exits. */
export function spawnChild(cmd: string[], options: SpawnOptions = {}): Child {
  installExitHooks();
  const child = Bun.spawn(cmd, {
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin ?? "ignore",
    stdout: options.stdout ?? "pipe",
    stderr: options.stderr ?? "pipe",
  }) as Child;
  live.add(child);
  void child.exited.then(() => live.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after the grace period; resolves when the child is gone. */
export async function stopChild(child: Child, graceMilliseconds = terminateGraceMilliseconds): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMilliseconds);
  await child.exited;
  clearTimeout(timer);
}

/** Pins this process (all its threads) to `core`: the runner sits on the load core, away from the server's. */
export function pinSelfToCore(core: number): void {
  const result = Bun.spawnSync(["taskset", "-a", "-p", "-c", String(core), String(process.pid)], { stdout: "ignore", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`taskset failed (is util-linux installed?): ${result.stderr.toString().trim()}`);
}

/** SIGKILLs every child still running. Synchronous so it works from an exit hook. */
export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAllChildren);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}: stopping ${live.size} child process(es)`);
      killAllChildren();
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
}
