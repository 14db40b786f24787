#!/usr/bin/env node
/**
 * The `skyport` command as npm installs it (`npx skyport …`): finds the Bun
 * runtime that came with the package (the `bun` dependency's platform
 * binary) and runs bin/skyport.ts on it with the same arguments, stdio and
 * exit code. Plain JavaScript for Node, so that nothing but Node and npm is
 * needed on the machine.
 *
 * Owns finding Bun and passing signals on, nothing else. SIGTERM and SIGHUP
 * sent to this process are forwarded to the child; SIGINT is not, because a
 * terminal's Ctrl-C already reaches the child (it shares this process group,
 * which `skyport fly`'s prompt needs to read the terminal), and a second one
 * would cut its drain short.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const entry = join(dirname(fileURLToPath(import.meta.url)), "skyport.ts");

/**
 * Bun's executable: `SKYPORT_BUN` if set, else the platform package npm
 * installed beside the `bun` package (present even when npm skipped bun's
 * postinstall), else the `bun` package's own binary.
 */
function bunExecutable() {
  if (process.env.SKYPORT_BUN) return process.env.SKYPORT_BUN;
  const bunPackage = dirname(require.resolve("bun/package.json"));
  const arch = { x64: "x64", arm64: "aarch64" }[process.arch];
  const candidates = [];
  if (arch !== undefined) {
    for (const suffix of ["", "-musl", "-baseline"]) {
      try {
        const platformPackage = dirname(require.resolve(`@oven/bun-${process.platform}-${arch}${suffix}/package.json`, { paths: [bunPackage] }));
        candidates.push(join(platformPackage, "bin", "bun"));
      } catch {
        // not installed for this platform
      }
    }
  }
  candidates.push(join(bunPackage, "bin", "bun.exe"));
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    console.error(`skyport: cannot find the Bun runtime for ${process.platform}-${process.arch}: looked at ${candidates.join(", ")}; reinstall skyport with npm, or set SKYPORT_BUN to a bun executable`);
    process.exit(1);
  }
  return found;
}

const child = spawn(bunExecutable(), [entry, ...process.argv.slice(2)], { stdio: "inherit" });
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
process.on("SIGINT", () => {});
child.on("error", (error) => {
  console.error(`skyport: cannot start Bun: ${error.message}`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal !== null) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
