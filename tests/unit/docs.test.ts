/** The docs stay true: the README's flag list is the server's own usage text, and every doc link resolves. */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { usage } from "../../src/edge/config.ts";
import { repoRoot } from "../support/server.ts";

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");

test("README lists exactly the flags `server.ts --help` prints", () => {
  expect(readme).toContain(usage());
});

test("every relative link in README.md and docs/ points at a file that exists", () => {
  const files = ["README.md", "docs/protocol.md", "docs/security.md", "docs/operations.md", "docs/deploy.md"].filter((file) => existsSync(join(repoRoot, file)));
  for (const file of files) {
    const text = readFileSync(join(repoRoot, file), "utf8");
    for (const [, target] of text.matchAll(/\]\((?!https?:|#)([^)#]+)/g)) {
      expect(existsSync(join(repoRoot, file, "..", target!))).toBe(true);
    }
  }
});
