/**
 * Flag parsing shared by the CLI's subcommands, on `util.parseArgs`:
 * `--name value`, `--name=value`, boolean flags, `-h`/`--help`, `--`, and
 * positional arguments, with usage errors that name the flag and what it
 * expected. Owns the wording of those errors; prints nothing.
 */
import { parseArgs } from "node:util";
import { parseWebSocketUrl } from "../sdk/index.ts";

/** A mistake in how the CLI was called: cli.ts prints it with the usage and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A subcommand's flags: each valued flag's string, each boolean flag (and `help`) true when given. */
export type Flags<Valued extends string, Boolean extends string> = { [Name in Valued]?: string } & { [Name in Boolean | "help"]?: true };

export interface ParsedArgs<Valued extends string, Boolean extends string> {
  flags: Flags<Valued, Boolean>;
  positionals: string[];
}

/**
 * Parses argv against the flags a subcommand knows. `valued` flags take a
 * value; `booleans` (and `help`, also `-h`) do not. Any other flag is a
 * UsageError; the last of a repeated flag wins.
 *
 * @example
 * parseFlags(["--url", "ws://x/drone", "--wait", "takeoff"], ["url", "drone"], ["wait"]);
 * // { flags: { url: "ws://x/drone", wait: true }, positionals: ["takeoff"] }
 */
export function parseFlags<const Valued extends string, const Boolean extends string = never>(
  argv: readonly string[],
  valued: readonly Valued[],
  booleans: readonly Boolean[] = [],
): ParsedArgs<Valued, Boolean> {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = { help: { type: "boolean", short: "h" } };
  for (const name of valued) options[name] = { type: "string" };
  for (const name of booleans) options[name] = { type: "boolean" };
  // Not strict: the tokens are checked here, so each mistake gets the CLI's own wording.
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const type = options[token.name]?.type;
    if (type === undefined) throw new UsageError(`unknown flag ${token.rawName}`);
    if (type === "boolean") {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`);
      flags[token.name] = true;
    } else {
      if (token.value === undefined) throw new UsageError(`${token.rawName} needs a value`);
      flags[token.name] = token.value;
    }
  }
  return { flags: flags as Flags<Valued, Boolean>, positionals };
}

/** The WebSocket URL given to `flag`, checked by the SDK's own rule; a bad one is a UsageError naming the flag. */
export function webSocketUrlFlag(raw: string, flag = "--url"): URL {
  try {
    return parseWebSocketUrl(raw, flag);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
