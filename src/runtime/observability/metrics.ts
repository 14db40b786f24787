/**
 * The server's own metrics: connections, traffic, refusals, telemetry,
 * commands and their latency, leases and failsafe actions.
 *
 * Owns these counters and the one histogram, and registers their families in
 * the registry (`registry.ts` renders them). Other modules' families (the
 * process, the cluster) are registered by their owners, not here.
 * Hot paths stay cheap: per-message counts live on each socket's data and are
 * folded in here when the socket closes and when `/metrics` is scraped, so a
 * message costs no extra work beyond its own socket's counter.
 */

import type { MetricFamily, MetricsRegistry } from "./registry.ts";

/** Command latency buckets, seconds: from receipt to `done`. Flights take seconds to minutes. */
const commandLatencyBuckets = [0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** What became of a command: answered (accepted or refused with a code), then finished (completed or failed). */
export type CommandOutcome = "accepted" | "refused" | "completed" | "failed";

/** Counts of one per-socket traffic kind, summed over closed sockets. */
export interface Traffic {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** One endpoint's open sockets at scrape time: how many, and their traffic so far. */
export interface OpenTraffic {
  connections: number;
  traffic: Traffic;
}

/** The server's counters; hot paths bump the fields directly. */
export class Metrics {
  readonly upgradesRefused = new Map<string, number>();
  /** Commands per outcome and, for refusals, per refusal code: keyed `outcome` or `refused:<code>`. */
  private readonly commands = new Map<string, number>();
  /** Refused tokens by reason (`AuthFailureReason`), before and after the upgrade. */
  readonly authFailures = new Map<string, number>();
  telemetryFramesPublished = 0;
  telemetryFramesDropped = 0;
  leaseChanges = 0;
  failsafeEvents = 0;
  slowConsumersClosed = 0;
  /** Traffic of sockets that have closed, per endpoint; open ones are added at scrape time. */
  readonly closedTraffic = new Map<string, Traffic>();
  private readonly latencyCounts = new Array<number>(commandLatencyBuckets.length).fill(0);
  private latencySum = 0;
  private latencyCount = 0;

  refuseUpgrade(reason: string): void {
    this.upgradesRefused.set(reason, (this.upgradesRefused.get(reason) ?? 0) + 1);
  }

  /** Counts a refused token under its reason. */
  countAuthFailure(reason: string): void {
    this.authFailures.set(reason, (this.authFailures.get(reason) ?? 0) + 1);
  }

  /** Counts a command's answer: accepted when `refusalCode` is null, else refused with that code. */
  countAnswer(refusalCode: string | null): void {
    this.countCommand(refusalCode === null ? "accepted" : `refused:${refusalCode}`);
  }

  /** Counts a command's end: completed or failed. */
  countCompletion(outcome: "completed" | "failed"): void {
    this.countCommand(outcome);
  }

  private countCommand(key: string): void {
    this.commands.set(key, (this.commands.get(key) ?? 0) + 1);
  }

  observeCommandLatency(seconds: number): void {
    for (let i = 0; i < commandLatencyBuckets.length; i++) if (seconds <= commandLatencyBuckets[i]!) this.latencyCounts[i]!++;
    this.latencySum += seconds;
    this.latencyCount++;
  }

  /** Folds a closed socket's counts into its endpoint's totals. */
  addClosedTraffic(endpoint: string, traffic: Traffic): void {
    const total = this.closedTraffic.get(endpoint) ?? { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
    total.messagesIn += traffic.messagesIn;
    total.messagesOut += traffic.messagesOut;
    total.bytesIn += traffic.bytesIn;
    total.bytesOut += traffic.bytesOut;
    this.closedTraffic.set(endpoint, total);
  }

  /**
   * Registers the server's own families. `openTraffic` is read once per
   * scrape: the open connections and the traffic so far of open sockets, per
   * endpoint path.
   */
  registerIn(registry: MetricsRegistry, openTraffic: () => ReadonlyMap<string, OpenTraffic>): void {
    registry.register(() => this.families(openTraffic()));
  }

  /** Every family this class counts, in the order /metrics lists them. */
  private families(open: ReadonlyMap<string, OpenTraffic>): MetricFamily[] {
    const endpoints = [...new Set([...open.keys(), ...this.closedTraffic.keys()])];
    const one = (name: string, help: string, value: number): MetricFamily => ({ name, type: "counter", help, samples: [{ value }] });
    const perEndpoint = (metric: keyof Traffic, name: string, help: string): MetricFamily => ({
      name,
      type: "counter",
      help,
      samples: endpoints.map((endpoint) => ({
        labels: { endpoint },
        value: (this.closedTraffic.get(endpoint)?.[metric] ?? 0) + (open.get(endpoint)?.traffic[metric] ?? 0),
      })),
    });
    return [
      {
        name: "skyport_connections_open",
        type: "gauge",
        help: "Open WebSocket connections per endpoint.",
        samples: endpoints.map((endpoint) => ({ labels: { endpoint }, value: open.get(endpoint)?.connections ?? 0 })),
      },
      {
        name: "skyport_upgrades_refused_total",
        type: "counter",
        help: "Upgrade requests refused before the handshake, by reason.",
        samples: [...this.upgradesRefused].map(([reason, value]) => ({ labels: { reason }, value })),
      },
      {
        name: "skyport_auth_failures_total",
        type: "counter",
        help: "Tokens refused (before the upgrade, in hello, in claim), by reason: expired, bad_signature, unknown_key, ...",
        samples: [...this.authFailures].map(([reason, value]) => ({ labels: { reason }, value })),
      },
      perEndpoint("messagesIn", "skyport_messages_received_total", "WebSocket messages received, per endpoint."),
      perEndpoint("messagesOut", "skyport_messages_sent_total", "WebSocket messages sent to one socket (not pub/sub deliveries), per endpoint."),
      perEndpoint("bytesIn", "skyport_bytes_received_total", "Payload bytes received, per endpoint."),
      perEndpoint("bytesOut", "skyport_bytes_sent_total", "Payload bytes sent to one socket (not pub/sub deliveries), per endpoint."),
      one(
        "skyport_telemetry_frames_published_total",
        "Telemetry frames published, each once per tick per drone whatever the number of subscribers.",
        this.telemetryFramesPublished,
      ),
      one("skyport_telemetry_frames_dropped_total", "Telemetry frames not delivered to a backpressured socket (it may resume with since).", this.telemetryFramesDropped),
      one("skyport_slow_consumers_closed_total", "Sockets closed for staying backpressured too long.", this.slowConsumersClosed),
      {
        name: "skyport_commands_total",
        type: "counter",
        help: "Drone commands by outcome (accepted, refused, completed, failed); refusals also by their protocol error code.",
        samples: [...this.commands].map(([key, value]) => ({ labels: commandLabels(key), value })),
      },
      {
        name: "skyport_command_duration_seconds",
        type: "histogram",
        help: "Time from a command's receipt to its completion or failure.",
        samples: [
          ...commandLatencyBuckets.map((bound, i) => ({ suffix: "_bucket", labels: { le: String(bound) }, value: this.latencyCounts[i]! })),
          { suffix: "_bucket", labels: { le: "+Inf" }, value: this.latencyCount },
          { suffix: "_sum", value: this.latencySum },
          { suffix: "_count", value: this.latencyCount },
        ],
      },
      one("skyport_lease_changes_total", "Pilot lease changes (claims, releases, disconnects).", this.leaseChanges),
      one("skyport_failsafe_events_total", "Link-loss failsafe actions (hover, return home).", this.failsafeEvents),
    ];
  }
}

/** `accepted` → {outcome}; `refused:not_pilot` → {outcome, code}. Codes come from protocol/errors.ts's closed set, so the label set stays bounded. */
function commandLabels(key: string): Record<string, string> {
  const colon = key.indexOf(":");
  return colon === -1 ? { outcome: key } : { outcome: key.slice(0, colon), code: key.slice(colon + 1) };
}
