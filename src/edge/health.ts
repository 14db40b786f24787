/**
 * What `/healthz` and `/readyz` say, from the facts the caller reads at
 * request time: the health document's stable shape, and the readiness rule.
 *
 * Pure: no clock, no socket, no Bun; `app.ts` gathers the facts, `routes.ts`
 * turns the answers into responses. The shape is documented in
 * docs/operations.md; every key is always present, so a monitoring rule
 * never meets a missing field.
 */
import type { ClusterStatus } from "../runtime/cluster/broker.ts";
import type { VehicleHealth } from "../runtime/mavlink/links.ts";
import type { Endpoint } from "./paths.ts";

/** Open connections per endpoint (every endpoint, 0 when none) and in total. */
export type ConnectionCounts = Record<Endpoint, number> & { total: number };

/** One vehicle as health sees it. */
export interface VehicleLink {
  id: string;
  linkUp: boolean;
}

/** What health and readiness are judged from. */
export interface HealthFacts {
  /** The server is stopping: it refuses new connections and closes the open ones. */
  draining: boolean;
  uptimeSeconds: number;
  connections: ConnectionCounts;
  vehicles: readonly VehicleLink[];
  /** With --redis, the node's cluster state; null when the server runs alone. */
  cluster: ClusterStatus | null;
  /** Each `--mavlink` vehicle's link, GCS failsafe and warnings; empty without. */
  mavlink: readonly VehicleHealth[];
  /** This build's version. */
  version: string;
  pid: number;
}

/** What `GET /healthz` reports. Every key is always present. */
export interface HealthReport {
  /**
   * `draining` while stopping; `degraded` in a cluster while Redis is
   * unreachable (this node serves its own sockets only) or while a node runs
   * that this one cannot share the cluster with (it takes no drone); else `ok`.
   */
  status: "ok" | "draining" | "degraded";
  /** The same verdict as `/readyz`. */
  ready: boolean;
  version: string;
  /** The process answering: with `--workers`, which worker took this connection. */
  pid: number;
  uptimeSeconds: number;
  connections: ConnectionCounts;
  /** How many vehicles this node flies (simulated and MAVLink), how many it hears, and the ids of those it does not. */
  fleet: { total: number; linkUp: number; linkDown: string[] };
  /** Each `--mavlink` vehicle: its URL, link, GCS failsafe and what to fix before flying; `[]` without --mavlink. */
  vehicles: VehicleHealth[];
  /** With --redis: this node's name, Redis state and the drones it simulates; null when the server runs alone. */
  cluster: ClusterStatus | null;
}

/** What `GET /readyz` reports: ready, or the reasons it is not. */
export interface Readiness {
  ready: boolean;
  /** Empty when ready; else one line per reason, e.g. `draining`, `vehicle copter: link down`. */
  reasons: string[];
}

/**
 * Ready to take new clients: not draining, every vehicle's link is up (a
 * MAVLink vehicle is not until skyport has heard its first heartbeat, and is
 * not again while its link is lost; a simulated drone is always up), and in
 * a cluster no node runs that this one cannot share the cluster with.
 */
export function readiness(facts: Pick<HealthFacts, "draining" | "vehicles"> & Partial<Pick<HealthFacts, "cluster">>): Readiness {
  const reasons = [
    ...(facts.draining ? ["draining"] : []),
    ...facts.vehicles.filter((vehicle) => !vehicle.linkUp).map((vehicle) => `vehicle ${vehicle.id}: link down`),
    ...(facts.cluster?.incompatiblePeers ?? []).map((peer) => `cluster: ${peer.reason}`),
  ];
  return { ready: reasons.length === 0, reasons };
}

/** The health document for these facts. */
export function healthReport(facts: HealthFacts): HealthReport {
  const linkDown = facts.vehicles.filter((vehicle) => !vehicle.linkUp).map((vehicle) => vehicle.id);
  return {
    status: facts.draining ? "draining" : facts.cluster?.redis === "down" || (facts.cluster?.incompatiblePeers.length ?? 0) > 0 ? "degraded" : "ok",
    ready: readiness(facts).ready,
    version: facts.version,
    pid: facts.pid,
    uptimeSeconds: facts.uptimeSeconds,
    connections: facts.connections,
    fleet: { total: facts.vehicles.length, linkUp: facts.vehicles.length - linkDown.length, linkDown },
    vehicles: [...facts.mavlink],
    cluster: facts.cluster,
  };
}
