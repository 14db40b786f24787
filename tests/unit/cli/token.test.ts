/**
 * `cli.ts token` without a process: the lifetime grammar, each usage error's
 * wording, and a minted token's claims checked by the server's own verifier.
 */
import { expect, spyOn, test } from "bun:test";
import { UsageError } from "../../../client/cli/args.ts";
import { parseTtl, runToken } from "../../../client/cli/commands/token.ts";
import { clockLeewaySeconds, TokenVerifier } from "../../../src/runtime/identity/verifier.ts";
import { testSecret } from "../../support/jwt.ts";

async function usageError(argv: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  try {
    await runToken(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error("expected a UsageError");
}

test("lifetimes: a number with s, m, h or d, from 1 s to 7 days", () => {
  expect([parseTtl("90s"), parseTtl("15m"), parseTtl("1h"), parseTtl("7d")]).toEqual([90, 900, 3600, 604_800]);
  for (const bad of ["0s", "8d", "1", "h", "1.5h", "-1h", "1w"]) expect(() => parseTtl(bad)).toThrow(`--ttl must be a number with s, m, h or d, from 1s to 7d: received ${JSON.stringify(bad)}`);
});

test("usage errors say what is missing or wrong", async () => {
  expect(await usageError(["--sub", "a", "--scope", "admin"])).toBe("token needs the server's secret: --secret S or env SKYPORT_JWT_SECRET");
  expect(await usageError(["--secret", "short", "--sub", "a", "--scope", "admin"])).toBe("--secret must be at least 32 bytes, as the server requires: received 5");
  expect(await usageError(["--scope", "admin"], { SKYPORT_JWT_SECRET: testSecret })).toBe("token needs --sub USER: who the token speaks for");
  expect(await usageError(["--sub", "a", "--scope", "email"], { SKYPORT_JWT_SECRET: testSecret })).toBe('--scope must name at least one right (view:<drone|*>, fly:<drone|*>, admin): received "email"');
  expect(await usageError(["--sub", "a", "--scope", "admin", "extra"], { SKYPORT_JWT_SECRET: testSecret })).toBe('token takes no arguments: received "extra"');
});

test("the token it prints is one the server accepts, with the claims asked for", async () => {
  const printed: string[] = [];
  const log = spyOn(console, "log").mockImplementation((line: string) => void printed.push(line));
  try {
    expect(await runToken(["--sub", "alice", "--name", "Alice", "--scope", "fly:alpha view:*", "--ttl", "10m", "--iss", "https://id.example", "--aud", "skyport"], { SKYPORT_JWT_SECRET: testSecret })).toBe(0);
  } finally {
    log.mockRestore();
  }
  const verifier = new TokenVerifier({ jwtSecret: testSecret, keys: null, jwtIssuer: "https://id.example", jwtAudience: "skyport", viewerToken: null }, { monotonicMs: () => 0, wallMs: () => Date.now() });
  const verdict = await verifier.verify(printed[0]!);
  expect(verdict).toMatchObject({ ok: true, identity: { user: "alice", name: "Alice", rights: { view: ["*"], fly: ["alpha"], admin: false } } });
  // The verifier accepts it until exp plus its leeway.
  const ttl = ((verdict as { expiresAtMs: number }).expiresAtMs - Date.now()) / 1000 - clockLeewaySeconds;
  expect(ttl).toBeGreaterThan(590);
  expect(ttl).toBeLessThanOrEqual(600);
});
