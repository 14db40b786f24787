/** Bash completion for `skyport` (bin/completion.ts): flags read from each usage text, and the script run by a real bash. */
import { expect, test } from "bun:test";
import { spawnSync } from "bun";
import { bashCompletion, flagsIn } from "../../bin/completion.ts";
import { usage } from "../../src/edge/config.ts";

test("flagsIn reads each --flag once, in order, and nothing inside words", () => {
  expect(flagsIn("usage: x [--url URL] [--drone ID]\n  --url again, not-a--flag, --wait")).toEqual(["--url", "--drone", "--wait"]);
  expect(flagsIn(usage())).toContain("--trust-proxy");
});

/** What bash completes for the words typed so far. */
function complete(script: string, words: string[]): string[] {
  const program = `${script}\nCOMP_WORDS=(${words.map((word) => `'${word}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _skyport; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync(["bash", "-c", program]);
  return result.stdout.toString().split("\n").filter((line) => line !== "");
}

test("bash completes the subcommand, then that subcommand's flags", () => {
  const script = bashCompletion({ serve: usage(), watch: "usage: skyport watch [--url URL] [--drone ID]" });
  expect(complete(script, ["skyport", "se"])).toEqual(["serve"]);
  expect(complete(script, ["skyport", "serve", "--trust"])).toEqual(["--trust-proxy"]);
  expect(complete(script, ["skyport", "watch", "--"])).toEqual(["--url", "--drone", "--help"]);
  expect(complete(script, ["skyport", "completion", ""])).toEqual(["bash"]);
});
