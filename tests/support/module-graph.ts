/**
 * What a TypeScript file depends on, read from its syntax tree: every import
 * specifier (static, dynamic, `import type`, re-exports, `import("x").T` in a
 * type) with whether it is type-only, and the uses of named globals (e.g.
 * `Date.now`, `setTimeout`, `Bun.serve`). For the dependency-rule test.
 *
 * Owns reading and resolving; it never decides what is allowed. Comments and
 * strings are never mistaken for code, because it walks the TypeScript
 * compiler's tree rather than matching text.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";
import * as ts from "typescript";

/** One import of a file, as written and as resolved. */
export interface ImportEdge {
  /** The specifier as written, e.g. "../protocol/index.ts", "bun", "node:fs". */
  specifier: string;
  /** Repo-relative POSIX path for a relative specifier; null for a package ("bun", "node:fs", "typescript"). */
  target: string | null;
  /** True when no value crosses the edge: `import type`, `export type`, all-`type` specifiers, `import("x").T`. */
  typeOnly: boolean;
  /** How it was written. */
  form: "static" | "re-export" | "dynamic" | "type-query";
  /** 1-based line of the import. */
  line: number;
}

/** A use of a watched global in code (not in a comment or a string). */
export interface GlobalUse {
  /** What was used, as `Date.now`, `setTimeout`, `new Date`, `Bun.serve`, `Bun.*`, `ServerWebSocket`. */
  name: string;
  line: number;
}

export interface ModuleFacts {
  /** Repo-relative POSIX path. */
  file: string;
  imports: ImportEdge[];
  globals: GlobalUse[];
}

/** Every `.ts` file under `folders` (repo-relative), as repo-relative POSIX paths, sorted. */
export function typeScriptFiles(root: string, folders: readonly string[]): string[] {
  const files: string[] = [];
  for (const folder of folders) {
    for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith(".ts")) files.push(toPosix(relative(root, join(entry.parentPath, entry.name))));
    }
  }
  return files.sort();
}

/** Reads one file under `root` and returns its imports and watched globals. */
export function readModule(root: string, file: string): ModuleFacts {
  return analyzeSource(file, readFileSync(join(root, file), "utf8"));
}

/** The imports and watched globals of `source`, as if it were the file `file` (repo-relative). */
export function analyzeSource(file: string, source: string): ModuleFacts {
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.ESNext, true, ts.ScriptKind.TS);
  const imports: ImportEdge[] = [];
  const globals: GlobalUse[] = [];
  const lineOf = (node: ts.Node) => tree.getLineAndCharacterOfPosition(node.getStart(tree)).line + 1;
  const edge = (specifier: string, typeOnly: boolean, form: ImportEdge["form"], node: ts.Node) =>
    imports.push({ specifier, target: resolve(file, specifier), typeOnly, form, line: lineOf(node) });

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      edge(node.moduleSpecifier.text, importIsTypeOnly(node), "static", node);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : null;
      const typeOnly = node.isTypeOnly || (named !== null && named.length > 0 && named.every((element) => element.isTypeOnly));
      edge(node.moduleSpecifier.text, typeOnly, "re-export", node);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      edge(argument && ts.isStringLiteralLike(argument) ? argument.text : "<computed>", false, "dynamic", node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      edge(node.argument.literal.text, true, "type-query", node);
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const owner = node.expression.text;
      const member = node.name.text;
      if ((owner === "Date" && member === "now") || (owner === "performance" && member === "now")) globals.push({ name: `${owner}.${member}`, line: lineOf(node) });
      else if (owner === "Bun") globals.push({ name: member === "serve" ? "Bun.serve" : "Bun.*", line: lineOf(node) });
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "Date") {
      globals.push({ name: "new Date", line: lineOf(node) });
    } else if (ts.isIdentifier(node) && isReference(node)) {
      if (watchedIdentifiers.has(node.text)) globals.push({ name: node.text, line: lineOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return { file, imports, globals };
}

/** Globals watched by bare name wherever they are referenced (calls, arguments, types). */
const watchedIdentifiers = new Set(["setTimeout", "setInterval", "setImmediate", "ServerWebSocket"]);

/** Whether an import declaration binds no value: `import type`, or only `type` specifiers and no default. */
function importIsTypeOnly(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // `import "x"` runs x
  if (clause.isTypeOnly) return true;
  if (clause.name) return false;
  const bindings = clause.namedBindings;
  return bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((element) => element.isTypeOnly);
}

/** Whether an identifier names something (not a property name after a dot, nor a declaration's own key). */
function isReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isMethodDeclaration(parent) || ts.isPropertySignature(parent)) && parent.name === node) return false;
  if (ts.isQualifiedName(parent) && parent.right === node) return false;
  return true;
}

/** The repo-relative POSIX path a relative specifier points at, or null for a package. */
function resolve(file: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  return posix.normalize(posix.join(posix.dirname(file), specifier));
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

