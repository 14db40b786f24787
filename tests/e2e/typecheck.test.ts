/** The whole project type-checks under strict TypeScript (`tsc --noEmit`). */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { repoRoot } from "../support/server.ts";

test("tsc --noEmit reports no errors", async () => {
  const proc = Bun.spawn([join(repoRoot, "node_modules", ".bin", "tsc"), "--noEmit", "-p", repoRoot], {
    cwd: repoRoot,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
  expect(out.trim()).toBe("");
  expect(code).toBe(0);
}, 120_000);
