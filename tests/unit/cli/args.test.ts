/**
 * The CLI's flag parsing (`client/cli/args.ts`) without a process: the
 * forms it accepts and the exact wording of each usage error (the e2e CLI
 * tests see the same texts through a real process).
 */
import { describe, expect, test } from "bun:test";
import { parseFlags, UsageError, webSocketUrlFlag } from "../../../client/cli/args.ts";
import { maxHzFlag } from "../../../client/cli/commands/watch.ts";

/** The message of the UsageError `run` throws (fails the test on any other outcome). */
function usageError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error("expected a UsageError");
}

describe("parseFlags", () => {
  test("--name value, --name=value, booleans, -h, positionals, and everything after --", () => {
    expect(parseFlags(["--url", "ws://x/drone", "--drone=bravo", "--wait", "takeoff", "up 5"], ["url", "drone"], ["wait"])).toEqual({
      flags: { url: "ws://x/drone", drone: "bravo", wait: true },
      positionals: ["takeoff", "up 5"],
    });
    expect(parseFlags(["-h"], ["url"]).flags).toEqual({ help: true });
    expect(parseFlags(["--", "--url", "-h"], ["url"])).toEqual({ flags: {}, positionals: ["--url", "-h"] });
    expect(parseFlags(["--url", "a", "--url=b"], ["url"]).flags.url).toBe("b");
  });

  test("each mistake is a UsageError naming the flag", () => {
    const cases: Array<[string[], string]> = [
      [["--bogus"], "unknown flag --bogus"],
      [["--bogus=1"], "unknown flag --bogus"],
      [["-x"], "unknown flag -x"],
      [["--url"], "--url needs a value"],
      [["--wait=yes"], "--wait takes no value"],
      [["--help=1"], "--help takes no value"],
    ];
    for (const [argv, message] of cases) {
      expect(usageError(() => parseFlags(argv, ["url"], ["wait"]))).toBe(message);
    }
  });
});

describe("webSocketUrlFlag", () => {
  test("a ws:// or wss:// URL passes; anything else is a UsageError naming the flag and the value", () => {
    expect(webSocketUrlFlag("wss://fleet.example/drone").href).toBe("wss://fleet.example/drone");
    expect(usageError(() => webSocketUrlFlag("http://example.invalid"))).toBe(`--url must be a ws:// or wss:// URL: received "http://example.invalid"`);
    expect(usageError(() => webSocketUrlFlag("not a url", "--server"))).toBe(`--server must be a ws:// or wss:// URL: received "not a url"`);
  });
});

describe("watch --max-hz", () => {
  test("a number of frames a second within the protocol's range, or undefined when not given", () => {
    expect(maxHzFlag(undefined)).toBeUndefined();
    expect(maxHzFlag("2")).toBe(2);
    expect(maxHzFlag("0.5")).toBe(0.5);
  });

  test.each([["0"], ["-1"], ["fast"], [""], ["1000"]])("%j is a usage error naming the flag, the range and the value", (raw) => {
    expect(usageError(() => maxHzFlag(raw))).toBe(`--max-hz must be a number of frames per second from 0.1 to 100: received ${JSON.stringify(raw)}`);
  });
});
