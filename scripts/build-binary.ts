/**
 * `npm run build`: the single executable `dist/skyport` with
 * `bun build --compile` (server, dashboard, client commands and the Bun
 * runtime in one file), for this machine or cross-compiled.
 *
 *   bun run scripts/build-binary.ts [--target linux-x64|linux-arm64] [--outfile PATH]
 *
 * Cross-compiling needs the target's Bun runtime. Bun would download it from
 * GitHub; here it comes from the npm registry instead (`@oven/bun-<target>`
 * at this Bun's version, fetched with `npm pack`) and is handed to
 * `--compile-executable-path`. Owns the build only; it runs nothing it built.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const root = join(import.meta.dir, "..");
/** The targets skyport ships, and the npm package holding each one's Bun runtime. */
const targets = {
  "linux-x64": "@oven/bun-linux-x64",
  "linux-arm64": "@oven/bun-linux-aarch64",
} as const;
type Target = keyof typeof targets;

const hostTarget = `${process.platform}-${process.arch}`;
const { values } = parseArgs({ options: { target: { type: "string", default: hostTarget }, outfile: { type: "string" } } });
if (!(values.target! in targets)) {
  throw new Error(`build-binary: --target must be one of ${Object.keys(targets).join(", ")}: received ${JSON.stringify(values.target)}`);
}
const target = values.target as Target;
const outfile = values.outfile ?? join(root, "dist", target === hostTarget ? "skyport" : `skyport-${target}`);

/** The target's Bun runtime from npm, unpacked once under dist/.runtimes/. */
async function crossRuntime(target: Target): Promise<string> {
  const dir = join(root, "dist", ".runtimes", `${target}-${Bun.version}`);
  const binary = join(dir, "package", "bin", "bun");
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const spec = `${targets[target]}@${Bun.version}`;
  const packed = Bun.spawnSync(["npm", "pack", spec, "--silent", "--pack-destination", dir], { stderr: "pipe", stdout: "pipe" });
  if (packed.exitCode !== 0) throw new Error(`build-binary: npm pack ${spec} failed: ${packed.stderr.toString().trim()}`);
  const tarball = readdirSync(dir).find((name) => name.endsWith(".tgz"));
  if (tarball === undefined) throw new Error(`build-binary: npm pack ${spec} left no tarball in ${dir}`);
  const unpacked = Bun.spawnSync(["tar", "-xzf", join(dir, tarball), "-C", dir], { stderr: "pipe" });
  if (unpacked.exitCode !== 0 || !existsSync(binary)) throw new Error(`build-binary: unpacking ${tarball} gave no ${binary}: ${unpacked.stderr.toString().trim()}`);
  return binary;
}

/**
 * Modules run as a `new Worker(new URL("./x.ts", import.meta.url))`: Bun
 * compiles only what is listed, and looks a worker up beside the entry, so
 * each is an entrypoint of its own, named flat (`[name].[ext]`).
 */
const workerEntrypoints = ["src/runtime/recorder/sqlite-worker.ts"];

const command = [
  process.execPath, "build", "--compile", join(root, "bin/skyport.ts"),
  ...workerEntrypoints.map((path) => join(root, path)),
  "--entry-naming", "[name].[ext]",
  "--outfile", outfile,
];
if (target !== hostTarget) command.push(`--target=bun-${target}`, `--compile-executable-path=${await crossRuntime(target)}`);
const started = performance.now();
const built = Bun.spawnSync(command, { cwd: root, stdout: "inherit", stderr: "inherit" });
if (built.exitCode !== 0) throw new Error(`build-binary: ${command.join(" ")} exited ${built.exitCode} (messages above)`);
const mebibytes = (Bun.file(outfile).size / 1024 / 1024).toFixed(1);
console.log(`build-binary: ${outfile} for ${target}, ${mebibytes} MiB, in ${Math.round(performance.now() - started)} ms`);
