/**
 * Issue 14 through the SDK: warned that its signed token expires, a client
 * presents a fresh one on its open socket (`refreshTokens`): same session,
 * lease and telemetry kept, nothing reconnects; a token of another user is
 * refused and the old one still holds. Real signatures, the fake clock.
 */
import { afterEach, expect, test } from "bun:test";
import { SkyportClient, SkyportError } from "../../client/sdk/index.ts";
import { seconds, signHs256, testSecret } from "../support/jwt.ts";
import { startSimServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test("warned, the SDK refreshes its token in place: same session, lease kept, telemetry goes on", async () => {
  const server = startSimServer({ drones: ["alpha"], jwtSecret: testSecret });
  cleanups.push(() => server.stop());
  const now = () => seconds(server.flight.wallMs());
  const token = (sub: string, ttl: number) => signHs256({ sub, scope: "fly:alpha", exp: now() + ttl });
  const sdk = new SkyportClient({ url: server.ws("/drone"), token: await token("alice", 120) });
  cleanups.push(() => sdk.close());
  const warnings: number[] = [];
  sdk.on("event", (event) => {
    if (event.kind === "token_expiring") warnings.push(event.expiresInSeconds);
  });
  let welcomes = 0;
  sdk.on("welcome", () => welcomes++);
  sdk.connect();
  await waitUntil(() => sdk.state === "open" && welcomes === 1, 3000, "welcomed");
  await sdk.claim("alpha");
  const session = sdk.session;

  server.advance(66);
  await waitUntil(() => warnings.length === 1, 3000, "token_expiring");
  const refused = await sdk.refreshTokens({ token: await token("mallory", 3600) }).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(SkyportError);
  expect((refused as SkyportError).code).toBe("unauthorized");

  expect(await sdk.refreshTokens({ token: await token("alice", 3600) })).toEqual({ session: session! });
  let frames = 0;
  sdk.on("telemetry", () => frames++);
  server.advance(120);
  await waitUntil(() => frames >= 1000, 5000, "telemetry past the old token's expiry");
  expect([sdk.state, sdk.session, welcomes, sdk.isPilot("alpha")]).toEqual(["open", session, 1, true]);
});
