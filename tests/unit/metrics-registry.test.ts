/**
 * The metrics registry (src/runtime/observability/registry.ts) and the
 * families registered in it: the text format, Prometheus's naming rules, and
 * every family with its real type.
 */
import { describe, expect, test } from "bun:test";
import type { ClusterStatus } from "../../src/runtime/cluster/broker.ts";
import { clusterFamilies, registerClusterMetrics } from "../../src/runtime/observability/cluster-metrics.ts";
import { Metrics, type OpenTraffic } from "../../src/runtime/observability/metrics.ts";
import { registerProcessMetrics } from "../../src/runtime/observability/process-metrics.ts";
import { MetricsRegistry } from "../../src/runtime/observability/registry.ts";

/** `name` → its `# TYPE` in a rendered text. */
function typesIn(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1]!, match[2]!);
  return types;
}

const status: ClusterStatus = {
  node: "n1",
  redis: "up",
  ownedDrones: ["alpha", "bravo"],
  reconnects: 3,
  lastError: null,
  forwardedOps: 7,
  forwardFailures: 1,
  ticksPublished: 100,
  ticksReceived: 90,
  catchUps: 1,
  writeFailures: 0,
  busVersion: 2,
  incompatiblePeers: [],
};

describe("the registry", () => {
  test("renders HELP, TYPE and samples with labels and suffixes, in registration order", () => {
    const registry = new MetricsRegistry();
    registry.single("a_total", "counter", "First.", () => 2);
    registry.register(() => [
      {
        name: "b_seconds",
        type: "histogram",
        help: "Second.",
        samples: [
          { suffix: "_bucket", labels: { le: "1" }, value: 1 },
          { suffix: "_bucket", labels: { le: "+Inf" }, value: 2 },
          { suffix: "_sum", value: 1.5 },
          { suffix: "_count", value: 2 },
        ],
      },
    ]);
    registry.register(() => [{ name: "c", type: "gauge", help: "Third.", samples: [{ labels: { endpoint: "/echo", odd: 'a"b\\c\nd' }, value: 4 }] }]);
    expect(registry.render()).toBe(
      [
        "# HELP a_total First.",
        "# TYPE a_total counter",
        "a_total 2",
        "# HELP b_seconds Second.",
        "# TYPE b_seconds histogram",
        'b_seconds_bucket{le="1"} 1',
        'b_seconds_bucket{le="+Inf"} 2',
        "b_seconds_sum 1.5",
        "b_seconds_count 2",
        "# HELP c Third.",
        "# TYPE c gauge",
        'c{endpoint="/echo",odd="a\\"b\\\\c\\nd"} 4',
        "",
      ].join("\n"),
    );
  });

  test("collectors are read at each scrape", () => {
    const registry = new MetricsRegistry();
    let value = 1;
    registry.single("g", "gauge", "A gauge.", () => value);
    expect(registry.render()).toContain("\ng 1\n");
    value = 2;
    expect(registry.render()).toContain("\ng 2\n");
  });

  test("a counter must end in _total, and only a counter may", () => {
    const registry = new MetricsRegistry();
    expect(() => registry.single("requests", "counter", "x", () => 0)).toThrow("a counter's name ends in _total and nothing else's does: received counter requests");
    expect(() => registry.single("open_total", "gauge", "x", () => 0)).toThrow("received gauge open_total");
    expect(() => registry.single("bad-name", "gauge", "x", () => 0)).toThrow('received "bad-name"');
  });

  test("a family registered twice is refused at render, naming it", () => {
    const registry = new MetricsRegistry();
    registry.single("dup_total", "counter", "x", () => 0);
    registry.single("dup_total", "counter", "x", () => 0);
    expect(() => registry.render()).toThrow("metric family dup_total is registered twice");
  });
});

describe("the families", () => {
  test("the server's counters are counters, connections open a gauge, latency a histogram", () => {
    const registry = new MetricsRegistry();
    const metrics = new Metrics();
    metrics.refuseUpgrade("origin");
    metrics.countAnswer(null);
    const traffic = { messagesIn: 1, messagesOut: 2, bytesIn: 3, bytesOut: 4 };
    metrics.addClosedTraffic("/echo", traffic);
    metrics.registerIn(registry, () => new Map<string, OpenTraffic>([["/echo", { connections: 1, traffic }]]));
    const text = registry.render();
    const types = typesIn(text);
    expect(types.get("skyport_connections_open")).toBe("gauge");
    expect(types.get("skyport_command_duration_seconds")).toBe("histogram");
    for (const [name, type] of types) if (name.endsWith("_total")) expect(`${name} ${type}`).toBe(`${name} counter`);
    expect(text).toContain('skyport_bytes_sent_total{endpoint="/echo"} 8\n');
    expect(text).toContain('skyport_upgrades_refused_total{reason="origin"} 1\n');
  });

  test("process RSS, start time, uptime and build info are gauges", () => {
    const registry = new MetricsRegistry();
    registerProcessMetrics(registry, { uptimeSeconds: () => 42, startTimeSeconds: 1_790_000_000.5, build: { version: "9.8.7", protocol: "1", bun: "1.4.5" } });
    const text = registry.render();
    expect(typesIn(text)).toEqual(
      new Map([
        ["process_resident_memory_bytes", "gauge"],
        ["process_start_time_seconds", "gauge"],
        ["skyport_uptime_seconds", "gauge"],
        ["skyport_build_info", "gauge"],
      ]),
    );
    expect(text).toContain("skyport_uptime_seconds 42\n");
    expect(text).toContain("process_start_time_seconds 1790000000.5\n");
    expect(text).toContain('skyport_build_info{version="9.8.7",protocol="1",bun="1.4.5"} 1\n');
  });

  test("the cluster's *_total families are counters (they were exported as gauges), up and owned are gauges", () => {
    const registry = new MetricsRegistry();
    registerClusterMetrics(registry, () => status);
    const text = registry.render();
    expect(text).toContain("# TYPE skyport_redis_reconnects_total counter\n");
    expect(typesIn(text)).toEqual(
      new Map([
        ["skyport_redis_up", "gauge"],
        ["skyport_redis_reconnects_total", "counter"],
        ["skyport_drones_owned", "gauge"],
        ["skyport_ops_forwarded_total", "counter"],
        ["skyport_ops_forward_failures_total", "counter"],
        ["skyport_cluster_ticks_published_total", "counter"],
        ["skyport_cluster_ticks_received_total", "counter"],
        ["skyport_cluster_catch_ups_total", "counter"],
        ["skyport_redis_write_failures_total", "counter"],
        ["skyport_cluster_incompatible_peers", "gauge"],
      ]),
    );
    expect(text).toContain("skyport_redis_up 1\n");
    expect(text).toContain("skyport_drones_owned 2\n");
    expect(text).toContain("skyport_redis_reconnects_total 3\n");
  });

  test("failed Redis writes are skyport_redis_write_failures_total, a counter; Redis down is skyport_redis_up 0", () => {
    const families = clusterFamilies({ ...status, redis: "down", writeFailures: 5 });
    expect(families.find((family) => family.name === "skyport_redis_up")!.samples).toEqual([{ value: 0 }]);
    expect(families.find((family) => family.name === "skyport_redis_write_failures_total")).toMatchObject({ type: "counter", samples: [{ value: 5 }] });
  });
});
