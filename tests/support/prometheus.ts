/**
 * Scraping `/metrics` for tests with a real Prometheus text parser from npm
 * (`parse-prometheus-text-format`), not a hand-written one: what it cannot
 * read, a Prometheus server would not read either.
 */
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";

/** Families by name, as the parser read them. */
export type Scrape = Map<string, ParsedFamily>;

/** GETs `url` and parses the exposition; throws if a family name repeats (the parser would silently keep both). */
export async function scrapeMetrics(url: string, init: BunFetchRequestInit = {}): Promise<Scrape> {
  const response = await fetch(url, init);
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  const families = parsePrometheusTextFormat(await response.text());
  const byName: Scrape = new Map();
  for (const family of families) {
    if (byName.has(family.name)) throw new Error(`metric family ${family.name} appears twice in the exposition`);
    byName.set(family.name, family);
  }
  return byName;
}

/** The value of the one sample of `family` whose labels are exactly `labels`, or undefined. */
export function sampleValue(scrape: Scrape, family: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const sample = scrape.get(family)?.metrics.find((metric) => JSON.stringify(Object.entries(metric.labels ?? {}).sort()) === wanted);
  return sample?.value === undefined ? undefined : Number(sample.value);
}
