/**
 * Describes the machine a benchmark ran on (CPU, cores, memory, kernel and
 * runtime versions), for the results file and the docs.
 *
 * Owns collecting those facts; every probe is optional and reports
 * "unknown" rather than failing the benchmark.
 */
import { readFileSync } from "node:fs";

export interface MachineInfo {
  cpuModel: string;
  cpuMHz: string;
  cores: number;
  memoryTotalBytes: number;
  kernel: string;
  bun: string;
  node: string;
  go: string;
}

function run(cmd: string[]): string {
  try {
    const out = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    return out.exitCode === 0 ? out.stdout.toString().trim() : "unknown";
  } catch {
    return "unknown";
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export function describeMachine(): MachineInfo {
  const cpuinfo = readOr("/proc/cpuinfo");
  const meminfo = readOr("/proc/meminfo");
  const memKiB = /^MemTotal:\s+(\d+) kB/m.exec(meminfo)?.[1];
  return {
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    cpuMHz: /^cpu MHz\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    cores: Number(run(["nproc"])) || navigator.hardwareConcurrency,
    memoryTotalBytes: memKiB ? Number(memKiB) * 1024 : 0,
    kernel: run(["uname", "-r"]),
    bun: Bun.version,
    node: Bun.which("node") ? run(["node", "--version"]) : "not installed",
    go: Bun.which("go") ? run(["go", "version"]) : "not installed",
  };
}
