/**
 * Reads system call counts: `strace -c` summaries (every syscall, but
 * strace slows each call it traces, so its times say nothing about the
 * untraced process) and `perf stat -x,` counts of the `syscalls:sys_enter_*`
 * tracepoints (the calls named, at almost no cost to the process).
 *
 * Pure: the tools' text in, counts out. Running them is the caller's.
 */

/** System calls a WebSocket server sends frames with: what "sends per delivery" counts. */
export const sendSyscalls: readonly string[] = ["sendto", "sendmsg", "sendmmsg", "write", "writev"];

/**
 * The calls column of a `strace -c` table, by syscall name. Lines that are
 * not a syscall's row (the header, the dashes, the `total` row) are skipped.
 * @example parseStraceSummary("  90.00    0.009000          10       900           sendto") // Map { "sendto" => 900 }
 */
export function parseStraceSummary(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split("\n")) {
    // % time, seconds, usecs/call, calls, [errors,] syscall
    const match = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (!match || match[2] === "total") continue;
    calls.set(match[2]!, (calls.get(match[2]!) ?? 0) + Number(match[1]));
  }
  return calls;
}

/** The `perf stat` events that count `sendSyscalls`. */
export const sendTracepoints: readonly string[] = sendSyscalls.map((name) => `syscalls:sys_enter_${name}`);

/**
 * The counts of `perf stat -x, -e syscalls:sys_enter_NAME,...` output, by
 * syscall name; an event perf could not count (`<not counted>`,
 * `<not supported>`) is left out.
 * @example parsePerfStatCounts("75900,,syscalls:sys_enter_sendto,3001234567,100.00,,") // Map { "sendto" => 75900 }
 */
export function parsePerfStatCounts(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\d+),[^,]*,syscalls:sys_enter_([a-z_0-9]+),/.exec(line.trim());
    if (match) calls.set(match[2]!, (calls.get(match[2]!) ?? 0) + Number(match[1]));
  }
  return calls;
}

/** The calls that send (`sendSyscalls`) in a summary, summed. */
export function sendCalls(calls: ReadonlyMap<string, number>): number {
  return sendSyscalls.reduce((sum, name) => sum + (calls.get(name) ?? 0), 0);
}

/** The `limit` most frequent calls, most first, as `name count` pairs. */
export function topCalls(calls: ReadonlyMap<string, number>, limit: number): Array<[string, number]> {
  return [...calls].sort((a, b) => b[1] - a[1]).slice(0, limit);
}
