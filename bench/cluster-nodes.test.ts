import { describe, expect, test } from "bun:test";
import { childPids, nodeCommand, parseListeningPort, parseWorkersLine } from "./cluster-nodes.ts";

describe("parseWorkersLine", () => {
  test("reads the worker pids in index order and the supervisor", () => {
    const banner = "skyport listening on 127.0.0.1:40123\n  page     http://127.0.0.1:40123/\n  workers  3 processes sharing the port: pids 101, 102, 103 (supervisor 100)\n";
    expect(parseWorkersLine(banner)).toEqual({ workers: [101, 102, 103], supervisor: 100 });
  });

  test("is null until the line has arrived", () => {
    expect(parseWorkersLine("skyport listening on 127.0.0.1:40123\n")).toBeNull();
  });

  test("refuses a line whose pid count disagrees with its process count", () => {
    expect(() => parseWorkersLine("  workers  2 processes sharing the port: pids 101 (supervisor 100)")).toThrow(/1 pids for 2 processes/);
  });
});

test("parseListeningPort reads the port of the banner's first line", () => {
  expect(parseListeningPort("skyport listening on 127.0.0.1:40123\n  page ...")).toBe(40123);
  expect(parseListeningPort("skyport: warning: no pilot token")).toBeNull();
});

describe("nodeCommand", () => {
  test("a supervisor with Redis, pinned", () => {
    const cmd = nodeCommand({ drones: ["d0", "d1"], hz: 100, redisUrl: "redis://127.0.0.1:6390", nodeId: "bench", workers: 4, core: 0 });
    expect(cmd.slice(0, 3)).toEqual(["taskset", "-c", "0"]);
    expect(cmd.join(" ")).toContain("--addr 127.0.0.1:0 --max-connections 20000 --max-connections-per-ip 20000 --drones d0,d1 --telemetry-hz 100 --redis redis://127.0.0.1:6390 --node-id bench --workers 4");
  });

  test("one process alone: no Redis, no --workers, not pinned", () => {
    const cmd = nodeCommand({ drones: ["alpha"], hz: 100, redisUrl: null, workers: 1 });
    expect(cmd[0]).toBe(process.execPath);
    expect(cmd).not.toContain("--redis");
    expect(cmd).not.toContain("--workers");
  });
});

test("childPids lists a spawned child of this process", async () => {
  const child = Bun.spawn(["sleep", "5"], { stdout: "ignore", stderr: "ignore" });
  try {
    expect(childPids(process.pid)).toContain(child.pid);
  } finally {
    child.kill();
    await child.exited;
  }
  expect(childPids(-1)).toEqual([]);
});
