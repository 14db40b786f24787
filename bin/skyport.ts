#!/usr/bin/env bun
/**
 * The `skyport` command: `serve` runs the server, `echo`, `watch`, `fly` and
 * `send` are the command-line client's (client/cli/cli.ts, dispatched from
 * its own table), `completion bash` prints shell completion, `--version` the
 * build. The same entry is the single executable's (`npm run build`).
 *
 * Owns the choice of subcommand and the top-level help only: serving is
 * src/edge/serve.ts, each client command its own module.
 */
import { commands, runCommand } from "../client/cli/cli.ts";
import { usage as serveUsage } from "../src/edge/config.ts";
import { serve } from "../src/edge/serve.ts";
import { buildInfo } from "../src/runtime/observability/build-info.ts";
import { bashCompletion } from "./completion.ts";

/** Exit code for a usage mistake, as getopt-style tools use. */
const exitUsage = 2;

/**
 * True inside a single executable made by `bun build --compile`: its modules
 * live in Bun's embedded file system, and the executable itself is the
 * runtime, so re-running it needs no script path.
 */
const compiled = import.meta.path.startsWith("/$bunfs/") || import.meta.path.startsWith("B:\\~BUN\\");

const summaries: ReadonlyArray<readonly [string, string]> = [
  ["serve", "run the server (skyport serve --help lists its flags)"],
  ...Object.entries(commands).map(([name, command]) => [name, command.summary] as const),
  ["completion", "print shell completion: source <(skyport completion bash)"],
];

const mainUsage = `usage: skyport <command> [flags]

commands:
${summaries.map(([name, summary]) => `  ${name.padEnd(11)} ${summary}`).join("\n")}

flags:
  --version  print the version and exit
  --help     print this help and exit

Run "skyport <command> --help" for a command's flags.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? console.error : console.log)(mainUsage);
    return name === undefined ? exitUsage : 0;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    console.log(`skyport ${buildInfo.version} (protocol ${buildInfo.protocol}, bun ${buildInfo.bun})`);
    return 0;
  }
  if (name === "serve") {
    // Workers (`--workers`) run this same command again: the executable alone when compiled, else Bun and this script.
    await serve(rest, compiled ? [process.execPath, "serve"] : [process.execPath, import.meta.path, "serve"]);
    return new Promise<number>(() => {}); // serving: the process exits from its signal handlers
  }
  if (name === "completion") return printCompletion(rest);
  const command = commands[name];
  if (!command) {
    console.error(`skyport: unknown command ${JSON.stringify(name)}: expected one of ${summaries.map(([known]) => known).join(", ")}\n\n${mainUsage}`);
    return exitUsage;
  }
  return runCommand(name, command, rest);
}

function printCompletion(argv: string[]): number {
  if (argv[0] === "--help" || argv[0] === "-h") {
    console.log("usage: skyport completion bash\n\nPrints a bash completion script: source <(skyport completion bash)");
    return 0;
  }
  if (argv.length !== 1 || argv[0] !== "bash") {
    console.error(`skyport completion: the shell must be bash (the one supported): received ${JSON.stringify(argv.join(" "))}`);
    return exitUsage;
  }
  const flags: Record<string, string> = { serve: serveUsage() };
  for (const [name, command] of Object.entries(commands)) flags[name] = command.usage;
  console.log(bashCompletion(flags));
  return 0;
}

process.exit(await main(process.argv.slice(2)));
