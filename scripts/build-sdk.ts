/**
 * Builds the SDK as the package's `skyport/client` export: one ES module
 * bundle for browsers, Node and Deno (`dist/client/index.js`, no
 * dependencies, the standard WebSocket only), and its declarations
 * (`dist/client/types/`). Bun imports the TypeScript source directly.
 *
 * Runs as npm's `prepare` (so `npm install <path or git URL>` builds it) and
 * inside `npm run build`. Owns these outputs only.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const outdir = join(root, "dist", "client");
rmSync(outdir, { recursive: true, force: true });

const bundle = await Bun.build({
  entrypoints: [join(root, "client/sdk/index.ts")],
  outdir,
  naming: "index.js",
  target: "browser",
  format: "esm",
  sourcemap: "linked",
});
if (!bundle.success) {
  for (const log of bundle.logs) console.error(log);
  throw new Error("build-sdk: bundling client/sdk/index.ts failed (messages above)");
}

// Declarations from the same sources, with tsc: the only tool that writes them faithfully.
const tsc = Bun.spawnSync([process.execPath, join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "client/sdk/tsconfig.build.json")], { stdout: "inherit", stderr: "inherit" });
if (tsc.exitCode !== 0) throw new Error(`build-sdk: tsc -p client/sdk/tsconfig.build.json exited ${tsc.exitCode} (messages above)`);
console.log(`build-sdk: ${join("dist", "client", "index.js")} and its types in ${join("dist", "client", "types")}`);
