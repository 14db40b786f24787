/**
 * The page inside a compiled binary (`bun build --compile`, as packaging
 * ships skyport): the embedded files are served under /assets/ like a built
 * page's, and the HTML names them there, so none of its links is a 404.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../support/server.ts";

const dir = mkdtempSync(join(tmpdir(), "skyport-page-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a compiled binary's page links only to files it serves", async () => {
  const entry = join(dir, "entry.ts");
  writeFileSync(
    entry,
    `import page from ${JSON.stringify(join(repoRoot, "client/web/index.html"))};
import { pageFiles } from ${JSON.stringify(join(repoRoot, "src/edge/page.ts"))};
const built = await pageFiles(page);
const html = await built.index.body.text();
console.log(JSON.stringify({ embedded: Array.isArray(page.files), links: [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]), assets: [...built.assets.keys()] }));`,
  );
  const binary = join(dir, "page-app");
  const build = Bun.spawn([process.execPath, "build", "--compile", entry, "--outfile", binary], { stdout: "pipe", stderr: "pipe" });
  expect(await build.exited).toBe(0);
  const run = Bun.spawn([binary], { stdout: "pipe", stderr: "pipe" });
  expect(await run.exited).toBe(0);
  const report = JSON.parse(await new Response(run.stdout).text()) as { embedded: boolean; links: string[]; assets: string[] };
  expect(report.embedded).toBe(true);
  expect(report.links.length).toBeGreaterThanOrEqual(3);
  for (const link of report.links) expect(report.assets).toContain(link);
}, 60_000);
