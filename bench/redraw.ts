/**
 * Draws the chart again from a results file, without measuring anything:
 * for a change to the chart's layout after a full run.
 *
 * usage: bun run bench/redraw.ts [results.json] [out.svg]
 * Defaults: bench/results/latest.json to bench/results/latest.svg. The
 * results file must carry the `chart` input that bench/run.ts records.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderChart, type ChartInput } from "./chart.ts";
import { repoRoot } from "./servers.ts";

const [resultsPath = join(repoRoot, "bench/results/latest.json"), outPath = join(repoRoot, "bench/results/latest.svg")] = process.argv.slice(2);
const results = JSON.parse(readFileSync(resultsPath, "utf8")) as { chart?: ChartInput };
if (!results.chart) {
  console.error(`redraw: ${resultsPath} has no "chart" field (it predates bench/redraw.ts): run the benchmark again`);
  process.exit(2);
}
await Bun.write(outPath, renderChart(results.chart));
console.log(`wrote ${outPath}`);
