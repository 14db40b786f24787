/**
 * The cluster's metric families: Redis link state, drones owned, forwarded
 * operations and ticks through the bus, each with its real Prometheus type.
 *
 * Owns the names, types and help of these families only. It reads the
 * broker's `status()` once per scrape and never talks to Redis itself.
 */
import type { ClusterStatus } from "../cluster/broker.ts";
import type { MetricFamily, MetricsRegistry } from "./registry.ts";

/** Registers the cluster families; `status` is read once per scrape. */
export function registerClusterMetrics(registry: MetricsRegistry, status: () => ClusterStatus): void {
  registry.register(() => clusterFamilies(status()));
}

/** The cluster families for one status, in the order /metrics lists them. */
export function clusterFamilies(status: ClusterStatus): MetricFamily[] {
  const gauge = (name: string, help: string, value: number): MetricFamily => ({ name, type: "gauge", help, samples: [{ value }] });
  const counter = (name: string, help: string, value: number): MetricFamily => ({ name, type: "counter", help, samples: [{ value }] });
  return [
    gauge("skyport_redis_up", "1 while this node is connected to Redis, 0 while degraded (serving its own sockets only).", status.redis === "up" ? 1 : 0),
    counter("skyport_redis_reconnects_total", "Reconnections to Redis after a lost connection.", status.reconnects),
    gauge("skyport_drones_owned", "Drones this node simulates.", status.ownedDrones.length),
    counter("skyport_ops_forwarded_total", "Claims, releases and commands forwarded to the node simulating the drone.", status.forwardedOps),
    counter("skyport_ops_forward_failures_total", "Forwarded operations answered with an error or not answered in time.", status.forwardFailures),
    counter("skyport_cluster_ticks_published_total", "Ticks of telemetry this node published to Redis.", status.ticksPublished),
    counter("skyport_cluster_ticks_received_total", "Ticks of telemetry received from other nodes.", status.ticksReceived),
    counter("skyport_cluster_catch_ups_total", "Replay buffers refilled from Redis after this node (re)connected.", status.catchUps),
    counter(
      "skyport_redis_write_failures_total",
      "Redis writes that resume and failover depend on and that failed: frame appends, pilot records, the shutdown release.",
      status.writeFailures,
    ),
    gauge("skyport_cluster_incompatible_peers", "Live nodes whose cluster protocol this node cannot work with: while above 0, this node takes no drone.", status.incompatiblePeers.length),
  ];
}
