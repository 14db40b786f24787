/** Types for the dev dependency `parse-prometheus-text-format` (it ships none): what tests/support/prometheus.ts reads of its output. */
declare module "parse-prometheus-text-format" {
  /** One sample: a value, or a histogram's or summary's buckets, count and sum; numbers as the text had them. */
  export interface ParsedSample {
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  /** One family, its type in capitals (`COUNTER`, `GAUGE`, `HISTOGRAM`, `SUMMARY`, `UNTYPED`). */
  export interface ParsedFamily {
    name: string;
    help: string;
    type: string;
    metrics: ParsedSample[];
  }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
