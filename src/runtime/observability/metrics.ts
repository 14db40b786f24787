/**
 * Server metrics in the Prometheus text exposition format (version 0.0.4).
 *
 * Owns the counters, gauges and the one histogram, and their rendering.
 * Hot paths stay cheap: per-message counts live on each socket's data and are
 * folded in here when the socket closes and when `/metrics` is scraped, so a
 * message costs no extra work beyond its own socket's counter.
 */

/** Command latency buckets, seconds: from receipt to `done`. Flights take seconds to minutes. */
const commandLatencyBuckets = [0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** Counts of one per-socket traffic kind, summed over closed sockets. */
export interface Traffic {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

export class Metrics {
  readonly upgradesRefused = new Map<string, number>();
  readonly commands = new Map<string, number>();
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

  /** Counts a command by result: accepted, refused with a code, completed, failed. */
  countCommand(result: string): void {
    this.commands.set(result, (this.commands.get(result) ?? 0) + 1);
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
   * Renders every metric. `open` gives the open connections and the traffic
   * so far of open sockets, per endpoint; `extra` adds gauges such as RSS.
   */
  render(open: Map<string, { connections: number; traffic: Traffic }>, extra: Record<string, { help: string; value: number }>): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const endpoints = new Set([...open.keys(), ...this.closedTraffic.keys()]);

    family("skyport_connections_open", "gauge", "Open WebSocket connections per endpoint.");
    for (const endpoint of endpoints) out.push(`skyport_connections_open{endpoint="${endpoint}"} ${open.get(endpoint)?.connections ?? 0}`);

    family("skyport_upgrades_refused_total", "counter", "Upgrade requests refused before the handshake, by reason.");
    for (const [reason, count] of this.upgradesRefused) out.push(`skyport_upgrades_refused_total{reason="${reason}"} ${count}`);

    const traffic = (metric: keyof Traffic, name: string, help: string) => {
      family(name, "counter", help);
      for (const endpoint of endpoints) {
        const value = (this.closedTraffic.get(endpoint)?.[metric] ?? 0) + (open.get(endpoint)?.traffic[metric] ?? 0);
        out.push(`${name}{endpoint="${endpoint}"} ${value}`);
      }
    };
    traffic("messagesIn", "skyport_messages_received_total", "WebSocket messages received, per endpoint.");
    traffic("messagesOut", "skyport_messages_sent_total", "WebSocket messages sent to one socket (not pub/sub deliveries), per endpoint.");
    traffic("bytesIn", "skyport_bytes_received_total", "Payload bytes received, per endpoint.");
    traffic("bytesOut", "skyport_bytes_sent_total", "Payload bytes sent to one socket (not pub/sub deliveries), per endpoint.");

    family("skyport_telemetry_frames_published_total", "counter", "Telemetry frames published, each once per tick per drone whatever the number of subscribers.");
    out.push(`skyport_telemetry_frames_published_total ${this.telemetryFramesPublished}`);
    family("skyport_telemetry_frames_dropped_total", "counter", "Telemetry frames not delivered to a backpressured socket (it may resume with since).");
    out.push(`skyport_telemetry_frames_dropped_total ${this.telemetryFramesDropped}`);
    family("skyport_slow_consumers_closed_total", "counter", "Sockets closed for staying backpressured too long.");
    out.push(`skyport_slow_consumers_closed_total ${this.slowConsumersClosed}`);

    family("skyport_commands_total", "counter", "Drone commands by result: accepted, completed, failed, or the refusal code.");
    for (const [result, count] of this.commands) out.push(`skyport_commands_total{result="${result}"} ${count}`);

    family("skyport_command_duration_seconds", "histogram", "Time from a command's receipt to its completion or failure.");
    commandLatencyBuckets.forEach((bound, i) => out.push(`skyport_command_duration_seconds_bucket{le="${bound}"} ${this.latencyCounts[i]}`));
    out.push(`skyport_command_duration_seconds_bucket{le="+Inf"} ${this.latencyCount}`);
    out.push(`skyport_command_duration_seconds_sum ${this.latencySum}`);
    out.push(`skyport_command_duration_seconds_count ${this.latencyCount}`);

    family("skyport_lease_changes_total", "counter", "Pilot lease changes (claims, releases, disconnects).");
    out.push(`skyport_lease_changes_total ${this.leaseChanges}`);
    family("skyport_failsafe_events_total", "counter", "Link-loss failsafe actions (hover, return home).");
    out.push(`skyport_failsafe_events_total ${this.failsafeEvents}`);

    for (const [name, { help, value }] of Object.entries(extra)) {
      family(name, "gauge", help);
      out.push(`${name} ${value}`);
    }
    return out.join("\n") + "\n";
  }
}
