/**
 * A slow link for the slow-link benchmark, made on this machine and removed
 * afterwards: a network namespace joined to the host by a veth pair, each
 * side's egress shaped with `tc` to the link's rate, and random packet loss
 * in both directions with an nftables rule inside the namespace.
 *
 * Owns creating and removing the namespace, the veth pair, the qdiscs and
 * the nftables table (all inside the namespace or on its veth pair: nothing
 * else on the host changes). Removal runs on `close`, and on exit, Ctrl-C or
 * SIGTERM if the benchmark dies first; a leftover of a killed run is removed
 * before a new one starts. Delay is not here: this kernel has no `netem`
 * qdisc (CONFIG_NET_SCH_NETEM is off), so the viewer adds it itself
 * (slow-viewer.ts).
 */
import { existsSync } from "node:fs";

/** What the link is like. */
export interface LinkShape {
  /** Rate each way, kilobits per second (tc `tbf rate`). */
  rateKbit: number;
  /** Share of packets dropped each way, 0 to 1. */
  loss: number;
}

/** One shaped link: the host's address on it, the namespace's, and how to run a command inside. */
export interface ShapedLink {
  namespace: string;
  hostAddress: string;
  namespaceAddress: string;
  /** A command line that runs `cmd` inside the namespace. */
  inside(cmd: string[]): string[];
  /** Bytes the namespace side has received so far (its veth's rx_bytes): what crossed the link towards the viewer. */
  receivedBytes(): number;
  close(): void;
}

/** Names are fixed, so that a run killed with SIGKILL leaves a leftover the next run finds and removes. */
const namespace = "skyport-slowlink";
const hostInterface = "skyslow-h";
const namespaceInterface = "skyslow-n";
/** A /30 from the benchmarking range (RFC 2544, 198.18.0.0/15): never a real network. */
const hostAddress = "198.18.77.1";
const namespaceAddress = "198.18.77.2";
const prefixLength = 30;
/** tbf bucket, bytes: a few full-size packets, so the rate holds over milliseconds, as on a real slow link. */
const tbfBurstBytes = 4 * 1514;
/** tbf queue, as the time a packet may wait: a cellular modem's deep buffer. */
const tbfLatencyMilliseconds = 1000;

/** Tools the link needs and the Debian package of each (scripts/setup.sh installs them). */
const tools: ReadonlyArray<[path: string, debianPackage: string]> = [
  ["/usr/sbin/ip", "iproute2"],
  ["/usr/sbin/tc", "iproute2"],
  ["/usr/sbin/nft", "nftables"],
];

/** Why a shaped link cannot be made here, or null when it can. */
export function linkUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "making a network namespace needs root";
  const missing = tools.filter(([path]) => !existsSync(path)).map(([, name]) => name);
  if (missing.length > 0) return `missing ${[...new Set(missing)].join(", ")} (scripts/setup.sh installs them)`;
  return null;
}

/** Runs a command, throwing with its stderr when it fails. */
function run(cmd: string[]): string {
  const result = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (exit ${result.exitCode}): ${result.stderr.toString().trim()}`);
  return result.stdout.toString();
}

/** Removes the namespace and the veth pair, whatever is left of them. Never throws. */
function remove(): void {
  // Deleting the namespace deletes the veth end inside it, and with it the pair and the qdiscs.
  Bun.spawnSync(["ip", "netns", "delete", namespace], { stdout: "ignore", stderr: "ignore" });
  Bun.spawnSync(["ip", "link", "delete", hostInterface], { stdout: "ignore", stderr: "ignore" });
}

/** Makes the link (removing a leftover first). Throws saying which step failed, having removed what it made. */
export function makeShapedLink(shape: LinkShape): ShapedLink {
  if (!(shape.loss >= 0 && shape.loss < 1)) throw new RangeError(`loss must be a share from 0 to below 1: received ${shape.loss}`);
  if (!(shape.rateKbit > 0)) throw new RangeError(`rateKbit must be positive: received ${shape.rateKbit}`);
  remove();
  process.on("exit", remove);
  const inside = (cmd: string[]) => ["ip", "netns", "exec", namespace, ...cmd];
  const tbf = (device: string) => ["tc", "qdisc", "add", "dev", device, "root", "tbf", "rate", `${shape.rateKbit}kbit`, "burst", String(tbfBurstBytes), "latency", `${tbfLatencyMilliseconds}ms`];
  try {
    run(["ip", "netns", "add", namespace]);
    run(["ip", "link", "add", hostInterface, "type", "veth", "peer", "name", namespaceInterface]);
    run(["ip", "link", "set", namespaceInterface, "netns", namespace]);
    run(["ip", "address", "add", `${hostAddress}/${prefixLength}`, "dev", hostInterface]);
    run(["ip", "link", "set", hostInterface, "up"]);
    run(inside(["ip", "address", "add", `${namespaceAddress}/${prefixLength}`, "dev", namespaceInterface]));
    run(inside(["ip", "link", "set", namespaceInterface, "up"]));
    run(inside(["ip", "link", "set", "lo", "up"]));
    run(tbf(hostInterface));
    run(inside(tbf(namespaceInterface)));
    if (shape.loss > 0) {
      // numgen random mod 10000 < loss x 10000: that share of packets, each way, dropped at random.
      const threshold = Math.round(shape.loss * 10_000);
      const rules = [
        "table inet skyport_slowlink {",
        `  chain in { type filter hook input priority 0; iifname "${namespaceInterface}" numgen random mod 10000 < ${threshold} drop; }`,
        `  chain out { type filter hook output priority 0; oifname "${namespaceInterface}" numgen random mod 10000 < ${threshold} drop; }`,
        "}",
      ].join("\n");
      const result = Bun.spawnSync(inside(["nft", "-f", "-"]), { stdin: new TextEncoder().encode(rules), stdout: "pipe", stderr: "pipe" });
      if (result.exitCode !== 0) throw new Error(`nft -f (the loss rules) failed: ${result.stderr.toString().trim()}`);
    }
  } catch (error) {
    remove();
    process.off("exit", remove);
    throw error;
  }
  return {
    namespace,
    hostAddress,
    namespaceAddress,
    inside,
    receivedBytes: () => Number(run(inside(["cat", `/sys/class/net/${namespaceInterface}/statistics/rx_bytes`])).trim()),
    close() {
      remove();
      process.off("exit", remove);
    },
  };
}
