/**
 * Issue 19 #15: a pilot whose link blips keeps its aircraft. When a pilot's
 * socket closes, its lease is reserved for `--lease-grace-seconds` (3 s by
 * default, on the flight clock): only a claim presenting the pilot's resume
 * token (from its claim ack) takes it back; anyone else gets `lease_taken`
 * saying it is reserved and for how long. The failsafe's hold starts at once.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { SkyportClient } from "../../client/sdk/index.ts";
import { DroneTestClient } from "../support/drone-client.ts";
import { startSimServer } from "../support/server.ts";
import { waitUntil } from "../support/sockets.ts";

let server: ReturnType<typeof startSimServer> | null = null;
const clients: Array<{ close(): void }> = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.stop();
  server = null;
});

async function connect(url: string): Promise<DroneTestClient> {
  const client = await DroneTestClient.connect(url);
  clients.push(client);
  return client;
}

/** A pilot flying alpha at hover, and an observer watching it. */
async function flyingPilot(s: NonNullable<typeof server>) {
  const pilot = await connect(s.ws("/drone"));
  const observer = await connect(s.ws("/drone"));
  const claim = await pilot.request("claim", { drone: "alpha" });
  expect(claim).toMatchObject({ type: "ack", data: { role: "pilot", pilot: pilot.session } });
  expect(claim.data.resume).toMatch(/^[A-Za-z0-9_-]{22}$/);
  pilot.send({ type: "command", id: "up", data: { name: "takeoff" } });
  await pilot.take((m) => m?.type === "ack" && m.id === "up");
  s.advance(4);
  await pilot.done("up");
  return { pilot, observer, resume: claim.data.resume as string };
}

describe("lease grace after a pilot's socket closes", () => {
  test("an observer cannot take the drone within the grace; the pilot's new session reclaims it with its resume token", async () => {
    const s = (server = startSimServer());
    const { pilot, observer, resume } = await flyingPilot(s);
    pilot.close();
    const dropped = await observer.take((m) => m?.type === "lease" && m.data.pilot === null);
    expect(dropped.data).toMatchObject({ reason: "pilot disconnected", reservedSeconds: 3 });
    // The failsafe's hold starts at once, as before.
    expect((await observer.take((m) => m?.type === "event" && m.data.kind === "failsafe")).data.action).toBe("hover");

    s.advance(1);
    const taken = await observer.request("claim", { drone: "alpha" });
    expect(taken).toMatchObject({ type: "error", data: { code: "lease_taken" } });
    expect(taken.data.message).toContain("reserved");
    expect(taken.data.message).toMatch(/2(\.\d)? s/);
    const wrong = await observer.request("claim", { drone: "alpha", resume: "A".repeat(22) });
    expect(wrong).toMatchObject({ type: "error", data: { code: "lease_taken" } });

    const back = await connect(s.ws("/drone"));
    const reclaim = await back.request("claim", { drone: "alpha", resume });
    expect(reclaim).toMatchObject({ type: "ack", data: { role: "pilot", pilot: back.session } });
    expect(s.flight.fleet.pilotOf("alpha")).toBe(back.session);
    const lease = await observer.take((m) => m?.type === "lease" && m.data.pilot === back.session);
    expect(lease.data.reason).toBe("reclaimed");
    // A resume token works once: the old one no longer names a pilot.
    expect(reclaim.data.resume).not.toBe(resume);
  });

  test("after the grace anyone may claim, and the old token no longer reclaims", async () => {
    const s = (server = startSimServer());
    const { pilot, observer, resume } = await flyingPilot(s);
    pilot.close();
    await observer.take((m) => m?.type === "lease" && m.data.pilot === null);
    s.advance(3.1);
    expect(await observer.request("claim", { drone: "alpha" })).toMatchObject({ type: "ack", data: { role: "pilot", pilot: observer.session } });
    const late = await connect(s.ws("/drone"));
    expect(await late.request("claim", { drone: "alpha", resume })).toMatchObject({ type: "error", data: { code: "lease_taken" } });
  });

  test("a release reserves nothing", async () => {
    const s = (server = startSimServer());
    const { pilot, observer } = await flyingPilot(s);
    expect((await pilot.request("release", { drone: "alpha" })).type).toBe("ack");
    expect(await observer.request("claim", { drone: "alpha" })).toMatchObject({ type: "ack", data: { role: "pilot" } });
  });

  test("the SDK reclaims within the grace after its socket drops, while an observer is refused", async () => {
    const s = (server = startSimServer());
    const sdk = new SkyportClient({ url: s.ws("/drone"), backoff: { initialMs: 20, maxMs: 20 } });
    clients.push(sdk);
    const firstWelcome = new Promise((resolve) => sdk.on("welcome", resolve));
    sdk.connect();
    await firstWelcome;
    await sdk.claim("alpha");
    const firstSession = sdk.session!;
    const observer = await connect(s.ws("/drone"));
    // The server drops the SDK's socket (a link blip).
    const ws = [...s.connections.sockets("drone")].find((socket) => socket.data.session?.id === firstSession)!;
    ws.terminate();
    await observer.take((m) => m?.type === "lease" && m.data.pilot === null);
    expect((await observer.request("claim", { drone: "alpha" })).data.code).toBe("lease_taken");
    // The server's lease changes before its ack reaches the SDK: wait for both.
    await waitUntil(() => sdk.session !== firstSession && s.flight.fleet.pilotOf("alpha") === sdk.session && sdk.isPilot("alpha"), 3000, "the SDK reclaimed alpha");
    expect(sdk.isPilot("alpha")).toBe(true);
  });
});
