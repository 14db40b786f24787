/**
 * The dependency rule of the tree, checked on every .ts file's imports
 * (static, dynamic, re-exports and `import type`) and, for the pure core, on
 * the clock, timer and Bun globals its code uses:
 *
 *   protocol/     the wire contract: nothing from src/ or client/ (types from
 *                 src/core/ excepted: the shared vocabulary); no Bun, no node I/O
 *   src/core/     pure: only src/core/ and protocol/ types; no package at all
 *                 (so no `bun`, no node:fs/net/...); never Date.now,
 *                 performance.now, new Date, setTimeout, setInterval, Bun.*
 *   src/runtime/  clocked: never src/edge/, never Bun.serve or ServerWebSocket
 *   client/       only client/ and protocol/
 *
 * Known violations are listed in `allowed`, each with its reason; the test
 * fails on any violation not listed, and on any listed one that is gone, so
 * the list only ever shrinks.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { analyzeSource, readModule, typeScriptFiles, type ModuleFacts } from "../support/module-graph.ts";

/**
 * Violations that exist today, being removed by the redesign (issue 11).
 * Key: exactly the violation's text as this test prints it. When one is
 * fixed, this test fails and says to delete its entry.
 */
const allowed: ReadonlyArray<{ violation: string; reason: string }> = [];

/** The repository's root folder. */
const repoRoot = join(import.meta.dir, "..", "..");
/** Top-level folders whose files the rules cover. */
const layered = ["protocol", "src", "client"] as const;

/** node: modules that do I/O or reach the process: never in the pure core or the protocol. */
const nodeIoModules = new Set([
  "fs", "fs/promises", "net", "tls", "dgram", "dns", "http", "https", "http2", "child_process", "cluster",
  "worker_threads", "os", "process", "readline", "inspector", "v8", "vm", "perf_hooks", "timers", "timers/promises",
]);

/** Globals the pure core's code must not use: the clock, timers and Bun. */
const coreForbiddenGlobals = new Set(["Date.now", "performance.now", "new Date", "setTimeout", "setInterval", "setImmediate", "Bun.*", "Bun.serve"]);

type Layer = "protocol" | "core" | "runtime" | "edge" | "client" | "other";

function layerOf(path: string): Layer {
  if (path.startsWith("protocol/")) return "protocol";
  if (path.startsWith("src/core/")) return "core";
  if (path.startsWith("src/runtime/")) return "runtime";
  if (path.startsWith("src/edge/")) return "edge";
  if (path.startsWith("client/")) return "client";
  return "other";
}

function isBun(specifier: string): boolean {
  return specifier === "bun" || specifier.startsWith("bun:");
}

function isNodeIo(specifier: string): boolean {
  return nodeIoModules.has(specifier.replace(/^node:/, ""));
}

/** Every broken rule in one file, as one line each: the file, what it does, and (in the rule's name) why that is wrong. */
function violationsOf(module: ModuleFacts): { rule: Layer; text: string }[] {
  const layer = layerOf(module.file);
  const out: { rule: Layer; text: string }[] = [];
  const add = (text: string) => out.push({ rule: layer, text: `${module.file} ${text}` });
  for (const edge of module.imports) {
    const what = edge.typeOnly ? "a type" : "a value";
    const target = edge.target;
    if (target === null) {
      if (layer === "core") add(`imports the package "${edge.specifier}"`);
      else if (layer === "protocol" && (isBun(edge.specifier) || isNodeIo(edge.specifier))) add(`imports the package "${edge.specifier}"`);
      continue;
    }
    const to = layerOf(target);
    if (layer === "protocol" && (target.startsWith("src/") || to === "client") && !(to === "core" && edge.typeOnly)) add(`imports ${target} (${what})`);
    if (layer === "core" && to !== "core" && !(to === "protocol" && edge.typeOnly)) add(`imports ${target} (${what})`);
    if (layer === "runtime" && to === "edge") add(`imports ${target} (${what})`);
    if (layer === "client" && to !== "client" && to !== "protocol") add(`imports ${target} (${what})`);
  }
  for (const use of module.globals) {
    if (layer === "core" && coreForbiddenGlobals.has(use.name)) add(`uses ${use.name} (line ${use.line})`);
    if (layer === "runtime" && (use.name === "Bun.serve" || use.name === "ServerWebSocket")) add(`uses ${use.name} (line ${use.line})`);
  }
  return out;
}

const modules = typeScriptFiles(repoRoot, layered).map((file) => readModule(repoRoot, file));
const found = modules.flatMap(violationsOf);
const allowedTexts = new Set(allowed.map((entry) => entry.violation));

/** Violations under one rule that are not allow-listed, each saying which rule it breaks. */
function newViolations(rule: Layer, ruleText: string): string[] {
  return found.filter((v) => v.rule === rule && !allowedTexts.has(v.text)).map((v) => `${v.text}: ${ruleText}`);
}

describe("the dependency rule", () => {
  test("every layer has files to check (the walk found the tree)", () => {
    for (const layer of ["protocol", "core", "runtime", "edge", "client"] as const) {
      expect({ layer, files: modules.filter((m) => layerOf(m.file) === layer).length > 0 }).toEqual({ layer, files: true });
    }
  });

  test("protocol/ imports nothing from src/ or client/ (types from src/core/ excepted), and no Bun or node I/O", () => {
    expect(newViolations("protocol", "protocol/ is the wire contract shared by server and clients; it may import only types from src/core/")).toEqual([]);
  });

  test("src/core/ imports only src/core/ and protocol/ types, and never reads the clock, sets a timer or touches Bun", () => {
    expect(newViolations("core", "src/core/ is pure: only src/core/ and type-only protocol/ imports, no packages, no clock, no timers, no Bun")).toEqual([]);
  });

  test("src/runtime/ never imports src/edge/ and never serves or holds a Bun socket", () => {
    expect(newViolations("runtime", "src/runtime/ is clocked but below the edge: no src/edge/ imports, no Bun.serve, no ServerWebSocket")).toEqual([]);
  });

  test("client/ imports only client/ and protocol/", () => {
    expect(newViolations("client", "client/ (SDK, page, CLI) depends only on itself and the wire contract in protocol/")).toEqual([]);
  });

  test("every allow-listed violation still exists (delete the entries that were fixed)", () => {
    const current = new Set(found.map((v) => v.text));
    const fixed = allowed
      .filter((entry) => !current.has(entry.violation))
      .map((entry) => `fixed, so delete its entry from \`allowed\` in tests/unit/layers.test.ts: ${entry.violation}`);
    expect(fixed).toEqual([]);
  });
});

describe("reading imports (the checker itself)", () => {
  const source = [
    'import { a } from "../core/a.ts";',
    'import type { B } from "../../protocol/index.ts";',
    'import { type C, type D } from "./c.ts";',
    'import { type E, f } from "./e.ts";',
    'import "./side-effect.ts";',
    'export { g } from "./g.ts";',
    'export type { H } from "./h.ts";',
    'import { readFileSync } from "node:fs";',
    "const lazy = await import(\"./lazy.ts\");",
    'let t: import("./typed.ts").T;',
    "// Date.now() in a comment, and setTimeout too",
    'const text = "performance.now() in a string";',
    "const now = Date.now();",
    "setTimeout(() => {}, 1);",
    "const when = new Date(0);",
    "const server = Bun.serve({ fetch: () => new Response() });",
    "const obj = { setInterval: 1 }; obj.setInterval;",
  ].join("\n");
  const facts = analyzeSource("src/runtime/x.ts", source);

  test("finds every form of import, resolves relative ones and tells types from values", () => {
    expect(facts.imports.map((i) => [i.specifier, i.target, i.typeOnly, i.form])).toEqual([
      ["../core/a.ts", "src/core/a.ts", false, "static"],
      ["../../protocol/index.ts", "protocol/index.ts", true, "static"],
      ["./c.ts", "src/runtime/c.ts", true, "static"],
      ["./e.ts", "src/runtime/e.ts", false, "static"],
      ["./side-effect.ts", "src/runtime/side-effect.ts", false, "static"],
      ["./g.ts", "src/runtime/g.ts", false, "re-export"],
      ["./h.ts", "src/runtime/h.ts", true, "re-export"],
      ["node:fs", null, false, "static"],
      ["./lazy.ts", "src/runtime/lazy.ts", false, "dynamic"],
      ["./typed.ts", "src/runtime/typed.ts", true, "type-query"],
    ]);
  });

  test("sees clock, timer and Bun uses in code only, never in comments, strings or property names", () => {
    expect(facts.globals.map((g) => [g.name, g.line])).toEqual([
      ["Date.now", 13],
      ["setTimeout", 14],
      ["new Date", 15],
      ["Bun.serve", 16],
    ]);
  });

  test("a core file that reads the clock or imports a package is reported", () => {
    const core = analyzeSource("src/core/fleet/x.ts", 'import { readFileSync } from "node:fs";\nimport { allDrones } from "../../../protocol/index.ts";\nconst t = performance.now();');
    expect(violationsOf(core).map((v) => v.text)).toEqual([
      'src/core/fleet/x.ts imports the package "node:fs"',
      "src/core/fleet/x.ts imports protocol/index.ts (a value)",
      "src/core/fleet/x.ts uses performance.now (line 3)",
    ]);
  });
});
