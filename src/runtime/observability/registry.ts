/**
 * The metrics registry: every module registers its own metric families, each
 * with its real Prometheus type, and `/metrics` renders them all in the text
 * exposition format (version 0.0.4).
 *
 * Owns the family rules (a counter's name ends in `_total`, one family per
 * name) and the text format. It never counts anything itself and never reads
 * a clock: collectors read their own numbers when a scrape asks for them.
 */

/** The Prometheus metric types skyport exports. */
export type MetricType = "counter" | "gauge" | "histogram";

/** One line of a family: `name[suffix]{labels} value`. */
export interface Sample {
  /** Appended to the family name, e.g. `_bucket`, `_sum`, `_count` for a histogram. */
  suffix?: string;
  labels?: Readonly<Record<string, string>>;
  value: number;
}

/** A family as a scrape sees it: its name, type and help, and its samples now. */
export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: readonly Sample[];
}

/** Reads some families at scrape time; one collector may read a shared source once for several families. */
export type Collector = () => Iterable<MetricFamily>;

/** Content-Type of the text exposition format. */
export const exposition = "text/plain; version=0.0.4; charset=utf-8";

/** Metric names Prometheus accepts. */
const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** The collectors of one server, rendered in registration order. */
export class MetricsRegistry {
  private readonly collectors: Collector[] = [];

  /** Adds a collector; its families are rendered after those registered before it. */
  register(collector: Collector): void {
    this.collectors.push(collector);
  }

  /** Registers a family with one unlabelled sample, read at scrape time. */
  single(name: string, type: "counter" | "gauge", help: string, read: () => number): void {
    checkFamily(name, type);
    this.register(() => [{ name, type, help, samples: [{ value: read() }] }]);
  }

  /**
   * Every family of every collector as Prometheus text.
   * @throws Error when two families share a name or a family breaks the naming rules: a bug, not a scrape-time condition.
   */
  render(): string {
    const out: string[] = [];
    const seen = new Set<string>();
    for (const collect of this.collectors) {
      for (const family of collect()) {
        checkFamily(family.name, family.type);
        if (seen.has(family.name)) throw new Error(`metric family ${family.name} is registered twice: each family must have one owner`);
        seen.add(family.name);
        out.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
        for (const sample of family.samples) out.push(sampleLine(family.name, sample));
      }
    }
    return out.join("\n") + "\n";
  }
}

/** Enforces Prometheus's naming: valid characters, and `_total` on counters and only on them. */
function checkFamily(name: string, type: MetricType): void {
  if (!metricNamePattern.test(name)) throw new Error(`metric name must match ${metricNamePattern}: received ${JSON.stringify(name)}`);
  if ((type === "counter") !== name.endsWith("_total")) {
    throw new Error(`a counter's name ends in _total and nothing else's does: received ${type} ${name}`);
  }
}

function sampleLine(name: string, sample: Sample): string {
  const labels = sample.labels ? Object.entries(sample.labels) : [];
  const labelText = labels.length === 0 ? "" : `{${labels.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(",")}}`;
  return `${name}${sample.suffix ?? ""}${labelText} ${sample.value}`;
}

/** Label values escape backslash, double quote and newline (the exposition format's rule). */
function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}
