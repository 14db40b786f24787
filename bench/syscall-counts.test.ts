import { describe, expect, test } from "bun:test";
import { parsePerfStatCounts, parseStraceSummary, sendCalls, sendTracepoints, topCalls } from "./syscall-counts.ts";

// A `strace -c -f` summary as strace 6 prints it (errors column filled on some rows).
const summary = `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 81.20    0.812000          20     40000           sendto
  9.10    0.091000          12      7500           epoll_pwait2
  5.00    0.050000          10      5000      2500 recvfrom
  0.40    0.004000          40       100           writev
  0.30    0.003000           3      1000           futex
------ ----------- ----------- --------- --------- ----------------
100.00    1.000000          18     53600      2500 total
`;

describe("strace -c summaries", () => {
  test("the calls column by syscall, errors column or not, without the header and total rows", () => {
    const calls = parseStraceSummary(summary);
    expect([...calls]).toEqual([
      ["sendto", 40000],
      ["epoll_pwait2", 7500],
      ["recvfrom", 5000],
      ["writev", 100],
      ["futex", 1000],
    ]);
  });

  test("sends are every call that writes to a socket", () => {
    expect(sendCalls(parseStraceSummary(summary))).toBe(40100);
    expect(sendCalls(new Map())).toBe(0);
  });

  test("the most frequent calls first", () => {
    expect(topCalls(parseStraceSummary(summary), 2)).toEqual([
      ["sendto", 40000],
      ["epoll_pwait2", 7500],
    ]);
  });

  test("text that is no summary gives no counts", () => {
    expect(parseStraceSummary("strace: attach: ptrace(PTRACE_SEIZE, 1): Operation not permitted\n").size).toBe(0);
  });
});

describe("perf stat counts of the syscall tracepoints", () => {
  test("counts by syscall; events perf could not count are left out", () => {
    const text = [
      "75900,,syscalls:sys_enter_sendto,3001234567,100.00,,",
      "<not counted>,,syscalls:sys_enter_sendmsg,0,100.00,,",
      "<not supported>,,syscalls:sys_enter_sendmmsg,0,100.00,,",
      "12,,syscalls:sys_enter_writev,3001234567,100.00,,",
      "",
    ].join("\n");
    const calls = parsePerfStatCounts(text);
    expect([...calls]).toEqual([
      ["sendto", 75900],
      ["writev", 12],
    ]);
    expect(sendCalls(calls)).toBe(75912);
  });

  test("the events asked for are the send syscalls' tracepoints", () => {
    expect(sendTracepoints).toContain("syscalls:sys_enter_sendto");
    expect(sendTracepoints).toContain("syscalls:sys_enter_writev");
  });
});
