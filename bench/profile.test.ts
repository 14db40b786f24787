import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hotFunctions, profiledCommand } from "./profile.ts";
import { repoRoot } from "./servers.ts";

test("a profiled server runs its file under bun --cpu-prof-md, exiting on SIGTERM so the profile is written", () => {
  const cmd = profiledCommand(["/bin/bun", "run", "/srv/server.ts", "--addr", "127.0.0.1:0"], "/tmp/out");
  expect(cmd).toEqual([
    "/bin/bun",
    "--cpu-prof-md",
    "--cpu-prof-dir",
    "/tmp/out",
    "--cpu-prof-interval=1000",
    "--preload",
    join(repoRoot, "bench/exit-on-signal.ts"),
    "/srv/server.ts",
    "--addr",
    "127.0.0.1:0",
  ]);
  expect(() => profiledCommand(["node", "server.mjs"], "/tmp/out")).toThrow("expected a `bun run FILE` command line to profile: got node server.mjs");
});

test("the hottest functions are read from a real --cpu-prof-md profile, a named JavaScript function among them", async () => {
  const dir = mkdtempSync(join(tmpdir(), "skyport-profile-test-"));
  try {
    const script = join(dir, "busy.ts");
    // Busy in one named function for a fifth of a second (about 200 samples at 1 ms): the profiler cannot miss it.
    writeFileSync(script, "function spinHere(until: number) { let n = 0; while (performance.now() < until) n++; return n; }\nconsole.log(spinHere(performance.now() + 200));\n");
    const child = Bun.spawn(profiledCommand([process.execPath, "run", script], dir), { stdout: "pipe", stderr: "pipe" });
    expect(await child.exited).toBe(0);
    const file = readdirSync(dir).find((name) => name.endsWith(".md"));
    expect(file).toBeDefined();
    const rows = hotFunctions(readFileSync(join(dir, file!), "utf8"));
    const spin = rows.find((row) => row.name === "spinHere");
    expect(spin?.location).toContain("busy.ts");
    expect(spin!.selfShare).toBeGreaterThan(0);
    expect(rows.every((row) => row.selfShare >= 0 && row.selfShare <= 1)).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 20_000);

test("a file that is not a --cpu-prof-md profile is refused saying so", () => {
  expect(() => hotFunctions("# something else\n")).toThrow('not a --cpu-prof-md profile: no "## Hot Functions" section');
});
