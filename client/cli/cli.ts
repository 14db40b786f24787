/**
 * skyport's command-line client: `skyport <command> [flags]` (bin/skyport.ts
 * dispatches to this table), or `bun run client/cli/cli.ts <command>` from a clone.
 *
 * Dispatches to one module per subcommand and turns usage mistakes into one
 * line plus usage (exit 2). Subcommands report their own failures in one
 * line and return the exit code; nothing here prints a stack trace.
 */
import { UsageError } from "./args.ts";
import { echoUsage, runEcho } from "./commands/echo.ts";
import { exportUsage, flightsUsage, runExport, runFlights } from "./commands/flights.ts";
import { flyUsage, runFly } from "./commands/fly.ts";
import { missionUsage, runMission } from "./commands/mission.ts";
import { runSend, sendUsage } from "./commands/send.ts";
import { runToken, tokenUsage } from "./commands/token.ts";
import { runWatch, watchUsage } from "./commands/watch.ts";

/** One subcommand: what runs it, its usage, and its one-line summary. */
export interface CliCommand {
  run(argv: string[]): Promise<number>;
  usage: string;
  summary: string;
}

/** The client's subcommands by name; `skyport` (bin/skyport.ts) dispatches to the same table. */
export const commands: Record<string, CliCommand> = {
  echo: { run: runEcho, usage: echoUsage, summary: "send the time every second to /echo and print the echoes" },
  watch: { run: runWatch, usage: watchUsage, summary: "show a drone's telemetry live" },
  fly: { run: runFly, usage: flyUsage, summary: "claim a drone and fly it from a prompt" },
  send: { run: runSend, usage: sendUsage, summary: "claim a drone, send commands in order, release it (for scripts)" },
  mission: { run: runMission, usage: missionUsage, summary: "upload a mission (.plan or JSON) to a drone and start it" },
  token: { run: runToken, usage: tokenUsage, summary: "mint an HS256 JWT for a server with --jwt-secret (development, tests)" },
  flights: { run: runFlights, usage: flightsUsage, summary: "list recorded flights, newest first" },
  export: { run: runExport, usage: exportUsage, summary: "write a recorded flight as CSV, GPX, KML or GeoJSON" },
};

const mainUsage = `usage: skyport <command> [flags]
   or: bun run client/cli/cli.ts <command> [flags]

commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(8)} ${command.summary}`)
  .join("\n")}

Run "skyport <command> --help" for a command's flags.`;

/** Runs one subcommand by name; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(mainUsage);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`skyport: unknown command ${JSON.stringify(name)}\n\n${mainUsage}`);
    return 2;
  }
  return runCommand(name, command, rest);
}

/** Runs one subcommand; a usage mistake prints one line and the usage (exit 2), any other failure one line (exit 1). */
export async function runCommand(name: string, command: CliCommand, argv: string[]): Promise<number> {
  try {
    return await command.run(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`skyport ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    console.error(`skyport ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
