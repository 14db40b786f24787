/**
 * The pure pieces of `--workers` (src/edge/workers.ts): worker identity, node
 * ids, log-line tagging, the IPC report and the restart budget. The real
 * processes are tests/e2e/workers.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { parseListeningPort } from "../../src/edge/banner.ts";
import {
  formatAddr,
  isWorker,
  isWorkerReport,
  RestartBudget,
  tagWorkerLine,
  workerIndexEnv,
  workerNodeId,
  workerNodeIdProblem,
} from "../../src/edge/workers.ts";

describe("worker identity and log lines (pure)", () => {
  test("a process is a worker when its environment carries the worker index", () => {
    expect(isWorker({})).toBe(false);
    expect(isWorker({ [workerIndexEnv]: "0" })).toBe(true);
  });

  test("worker node ids append -w<index> to --node-id; without one each worker keeps its own default", () => {
    expect(workerNodeId("edge", 0)).toBe("edge-w0");
    expect(workerNodeId("edge", 12)).toBe("edge-w12");
    expect(workerNodeId(null, 3)).toBeNull();
  });

  test("a --node-id too long for the suffix is refused with the allowed length", () => {
    expect(workerNodeIdProblem({ nodeId: null, workers: 64 })).toBeNull();
    expect(workerNodeIdProblem({ nodeId: "a".repeat(61), workers: 10 })).toBeNull();
    expect(workerNodeIdProblem({ nodeId: "a".repeat(62), workers: 10 })).toBe(
      "--node-id must be at most 61 characters with --workers 10 (each worker appends -w<index>): received 62",
    );
  });

  test("the port comes from the banner's first line, IPv6 included", () => {
    expect(parseListeningPort("skyport listening on 127.0.0.1:41234")).toBe(41234);
    expect(parseListeningPort("skyport listening on [::1]:8080")).toBe(8080);
    expect(parseListeningPort("  page     http://127.0.0.1:41234/")).toBeNull();
    expect(formatAddr("::1", 8080)).toBe("[::1]:8080");
    expect(formatAddr("0.0.0.0", 9000)).toBe("0.0.0.0:9000");
  });

  test("JSON log lines get a worker field and stay JSON; other lines get a prefix", () => {
    const tagged = tagWorkerLine(JSON.stringify({ time: "t", level: "info", event: "ws_open" }), 3);
    expect(JSON.parse(tagged)).toEqual({ worker: 3, time: "t", level: "info", event: "ws_open" });
    expect(tagWorkerLine("panic: oops", 1)).toBe("[worker 1] panic: oops");
  });

  test("the restart budget backs off exponentially and allows 5 restarts per minute", () => {
    const budget = new RestartBudget();
    expect([0, 1, 2, 3, 4].map((i) => budget.spend(i * 1000))).toEqual([100, 200, 400, 800, 1600]);
    expect(budget.spend(5000)).toBeNull();
    // A minute after the first restart, one slot is free again, at the backoff of four recent restarts.
    expect(budget.spend(60_000)).toBe(1600);
    expect(budget.spend(60_001)).toBeNull();
    // Once the window is quiet, the backoff starts over.
    expect(budget.spend(200_000)).toBe(100);
  });

  test("the backoff is capped at 5 s", () => {
    const budget = new RestartBudget(10, 60_000);
    const delays = Array.from({ length: 10 }, (_, i) => budget.spend(i));
    expect(delays.at(-1)).toBe(5000);
    expect(budget.spend(10)).toBeNull();
  });
});

test("a worker's IPC report is {listening, url, nodeId}; anything else is not one", () => {
  expect(isWorkerReport({ listening: 8080, url: "http://127.0.0.1:8080/", nodeId: "n-w0" })).toBe(true);
  expect(isWorkerReport({ listening: 8080, url: "http://127.0.0.1:8080/", nodeId: null })).toBe(true);
  for (const message of [null, "skyport listening on 127.0.0.1:8080", { listening: "8080", url: "u", nodeId: null }, { listening: 1.5, url: "u", nodeId: null }, { listening: 1 }]) {
    expect(isWorkerReport(message)).toBe(false);
  }
});
