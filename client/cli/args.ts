/**
 * Tiny flag parser shared by the CLI's subcommands: `--name value`,
 * `--name=value`, boolean flags, and positional arguments, with errors that
 * name the flag and what it expected.
 */

export class UsageError extends Error {
  override name = "UsageError";
}

export interface ParsedArgs {
  flags: Map<string, string | true>;
  positional: string[];
}

/**
 * Parses argv against the flags a subcommand knows. `valued` flags take a
 * value; `booleans` do not. Anything else starting with `--` is an error.
 */
export function parseArgs(argv: readonly string[], valued: readonly string[], booleans: readonly string[] = []): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      flags.set("help", true);
      continue;
    }
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (booleans.includes(name) || name === "help") {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    } else if (valued.includes(name)) {
      const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else {
      throw new UsageError(`unknown flag --${name}`);
    }
  }
  return { flags, positional };
}

/** Validates a WebSocket URL given on the command line. */
export function parseWebSocketUrl(raw: string, flag = "--url"): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${flag} must be a ws:// or wss:// URL: received ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new UsageError(`${flag} must be a ws:// or wss:// URL: received ${JSON.stringify(raw)}`);
  }
  return url;
}
