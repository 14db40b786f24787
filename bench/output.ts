/**
 * Writes a benchmark's results: the full record as JSON (every run, the
 * summary and the verdicts), the table as Markdown, and the SVG chart.
 *
 * Owns file names and serialisation only; the content is built by run.ts,
 * report.ts and chart.ts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { renderChart, type ChartInput } from "./chart.ts";

export interface ResultFiles {
  /** Where latest.json and latest.md go (bench/results/, ignored by git). */
  directory: string;
  chartPath: string;
  /** Everything worth keeping about the run, serialised as is. */
  result: Record<string, unknown>;
  markdown: string;
  chart: ChartInput;
}

/** Writes the three files and returns their paths. */
export function writeResults(files: ResultFiles): string[] {
  mkdirSync(files.directory, { recursive: true });
  mkdirSync(dirname(files.chartPath), { recursive: true });
  const jsonPath = join(files.directory, "latest.json");
  const markdownPath = join(files.directory, "latest.md");
  writeFileSync(jsonPath, JSON.stringify(files.result, null, 2) + "\n");
  writeFileSync(markdownPath, files.markdown);
  writeFileSync(files.chartPath, renderChart(files.chart));
  return [jsonPath, markdownPath, files.chartPath];
}
