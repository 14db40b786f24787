/**
 * The SDK's tokens against a real server (real sockets, simulated time):
 * the viewer token presented in `hello`, a refusal in operator words with no
 * reconnection after it, the pilot token (or one token for both) on claims,
 * and commands refused, never queued, while the link is down.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { accessRefusal, SkyportClient, SkyportError, type AccessRefusal, type SkyportClientOptions } from "../../client/sdk/index.ts";
import { startSimServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function simServer(overrides: Parameters<typeof startSimServer>[0] = {}) {
  const server = startSimServer(overrides);
  cleanups.push(() => server.stop());
  return server;
}

function client(options: SkyportClientOptions): SkyportClient {
  const sdk = new SkyportClient({ backoff: { initialMs: 20, maxMs: 40 }, ...options });
  cleanups.push(() => sdk.close());
  return sdk;
}

/** Connects and resolves with the first welcome or refusal. */
function firstAnswer(sdk: SkyportClient): Promise<{ welcome: string } | { refused: AccessRefusal }> {
  return new Promise((resolve) => {
    sdk.on("welcome", (welcome) => resolve({ welcome: welcome.session }));
    sdk.on("refused", (refused) => resolve({ refused }));
    sdk.connect();
  });
}

async function rejection(promise: Promise<unknown>): Promise<SkyportError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SkyportError);
    return error as SkyportError;
  }
  throw new Error("expected the promise to reject");
}

describe("the viewer token", () => {
  test("none on a server that needs one: refused as such, closed, and never dialled again", async () => {
    const server = simServer({ viewerToken: "viewer-secret" });
    const sdk = client({ url: server.ws("/drone") });
    let reconnections = 0;
    sdk.on("reconnecting", () => reconnections++);
    const answer = await firstAnswer(sdk);
    expect(answer).toEqual({ refused: { kind: "viewer_token_required", message: "this server needs a viewer token", serverMessage: expect.stringContaining("requires a viewer token") } });
    expect(sdk.state).toBe("closed");
    expect(sdk.refusal?.kind).toBe("viewer_token_required");
    // The socket is let go, and three backoff periods later nothing dialled again: a refusal is not a dropped link.
    await waitUntil(() => server.server.pendingWebSockets === 0, 2000, "the refused socket stayed open");
    await Bun.sleep(150);
    expect(reconnections).toBe(0);
    expect(server.server.pendingWebSockets).toBe(0);
    expect(sdk.state).toBe("closed");
  });

  test("a wrong one is refused as wrong; the right one after setTokens is welcomed", async () => {
    const server = simServer({ viewerToken: "viewer-secret" });
    const sdk = client({ url: server.ws("/drone"), token: "guess" });
    const answer = await firstAnswer(sdk);
    expect(answer).toMatchObject({ refused: { kind: "viewer_token_wrong", message: "wrong viewer token" } });
    sdk.setTokens({ token: "viewer-secret" });
    const second = await firstAnswer(sdk);
    expect(second).toHaveProperty("welcome");
    expect(sdk.refusal).toBeNull();
    expect(sdk.state).toBe("open");
  });

  test("a token presented to a server that needs none does no harm", async () => {
    const server = simServer();
    const sdk = client({ url: server.ws("/drone"), token: "anything" });
    expect(await firstAnswer(sdk)).toHaveProperty("welcome");
    expect(await sdk.ping()).toBeGreaterThanOrEqual(0);
  });

  test("an empty token is a mistake named at once", () => {
    expect(() => new SkyportClient({ url: "ws://127.0.0.1:1/drone", token: "" })).toThrow(`'token' must be a non-empty string: received ""`);
  });
});

describe("the pilot token", () => {
  test("missing, wrong, and right: each claim's refusal in an operator's words", async () => {
    const server = simServer({ pilotToken: "pilot-secret" });
    const anonymous = client({ url: server.ws("/drone") });
    await firstAnswer(anonymous);
    const missing = await rejection(anonymous.claim("alpha"));
    expect(accessRefusal(missing, "pilot", anonymous.hasPilotToken)?.message).toBe("this server needs a pilot token to fly");

    const wrong = client({ url: server.ws("/drone"), pilotToken: "guess" });
    await firstAnswer(wrong);
    const refused = await rejection(wrong.claim("alpha"));
    expect(accessRefusal(refused, "pilot", wrong.hasPilotToken)?.message).toBe("wrong pilot token");

    const right = client({ url: server.ws("/drone"), pilotToken: "pilot-secret" });
    await firstAnswer(right);
    expect((await right.claim("alpha")).pilot).toBe(right.session!);
  });

  test("one token for both (as a signed identity token will be): the viewer token also claims", async () => {
    const server = simServer({ viewerToken: "one-token", pilotToken: "one-token" });
    const sdk = client({ url: server.ws("/drone"), token: "one-token" });
    expect(await firstAnswer(sdk)).toHaveProperty("welcome");
    expect((await sdk.claim("alpha")).pilot).toBe(sdk.session!);
  });
});

test("a command made while the link is down is refused at once and never reaches the server", async () => {
  const first = startSimServer();
  const sdk = client({ url: first.ws("/drone"), backoff: { initialMs: 300, maxMs: 300 } });
  await firstAnswer(sdk);
  await sdk.claim("alpha");
  await first.stop();
  await waitUntil(() => sdk.state === "reconnecting", 2000, "the client never noticed the drop");
  const error = await rejection(sdk.command("alpha", "takeoff"));
  expect(error.code).toBe("offline");
  expect(error.message).toBe("takeoff was not sent: the connection to the server is down (commands are never sent late)");
  // The server comes back: the client reclaims its lease, and the drone never took off.
  const welcomed = new Promise((resolve) => sdk.on("welcome", resolve));
  const second = simServer({ port: first.port });
  await welcomed;
  await waitUntil(() => second.flight.fleet.pilotOf("alpha") === sdk.session, 5000, "the lease was not reclaimed");
  second.advance(2);
  expect(second.flight.snapshot("alpha").state).toBe("landed");
});
