/**
 * The SDK's lease bookkeeping (`client/sdk/leases.ts`), without a socket:
 * what a reconnection does about each drone the client flew.
 */
import { describe, expect, test } from "bun:test";
import { Leases } from "../../../client/sdk/leases.ts";

/** The part of a welcome the lease rules read: the session, and each drone's pilot. */
function welcome(session: string, pilots: Record<string, string | null>) {
  return { session, drones: Object.entries(pilots).map(([id, pilot]) => ({ id, state: "hovering" as const, pilot, seq: null, epoch: "E1" })) };
}

describe("after a reconnection", () => {
  test("a free lease is reclaimed with the first claim's token; one held by another session is lost", () => {
    const leases = new Leases();
    leases.welcomed(welcome("s1", { alpha: null, bravo: null }), null);
    leases.claimed("alpha", "s1", "secret");
    leases.claimed("bravo", "s1", undefined);
    expect(leases.pilotOf("alpha")).toBe("s1");

    leases.welcomed(welcome("s2", { alpha: null, bravo: "intruder" }), "s1");
    expect(leases.afterReconnect()).toEqual([
      { kind: "reclaim", drone: "alpha", token: "secret" },
      { kind: "lost", drone: "bravo", pilot: "intruder" },
    ]);
    // A lost lease is not wanted back: its later changes call for nothing.
    expect(leases.changed({ drone: "bravo", pilot: null, reason: "released" }, "s2")).toBeNull();
  });

  test("a lease still held by our previous session is reclaimed the moment the server frees it", () => {
    const leases = new Leases();
    leases.welcomed(welcome("s1", { alpha: null }), null);
    leases.claimed("alpha", "s1", undefined);
    leases.welcomed(welcome("s2", { alpha: "s1" }), "s1");
    expect(leases.afterReconnect()).toEqual([]);
    expect(leases.changed({ drone: "alpha", pilot: null, reason: "disconnected" }, "s2")).toEqual({ kind: "reclaim", drone: "alpha", token: undefined });
    expect(leases.pilotOf("alpha")).toBeNull();
  });

  test("a drone released, or whose reclaim was refused, is not taken back", () => {
    const leases = new Leases();
    leases.welcomed(welcome("s1", { alpha: null, bravo: null }), null);
    leases.claimed("alpha", "s1", undefined);
    leases.claimed("bravo", "s1", undefined);
    leases.releasing("alpha");
    leases.released("alpha");
    leases.reclaimRefused("bravo");
    leases.welcomed(welcome("s2", { alpha: null, bravo: null }), "s1");
    expect(leases.afterReconnect()).toEqual([]);
  });
});

describe("lease messages", () => {
  test("another session taking a drone we fly is a lost lease; our own claims and others' drones are not", () => {
    const leases = new Leases();
    leases.welcomed(welcome("s1", { alpha: null, bravo: null }), null);
    leases.claimed("alpha", "s1", undefined);
    expect(leases.changed({ drone: "alpha", pilot: "s1", reason: "claimed" }, "s1")).toBeNull();
    expect(leases.changed({ drone: "bravo", pilot: "other", reason: "claimed" }, "s1")).toBeNull();
    expect(leases.pilotOf("bravo")).toBe("other");
    expect(leases.changed({ drone: "alpha", pilot: "other", reason: "claimed" }, "s1")).toEqual({ kind: "lost", drone: "alpha", pilot: "other" });
  });

  test("our lease dropped for silence while the socket is open is reclaimed with the resume token; a release by anyone is not", () => {
    const leases = new Leases();
    leases.welcomed(welcome("s1", { alpha: null, bravo: null, charlie: null }), null);
    leases.claimed("alpha", "s1", "secret", "R1");
    leases.claimed("bravo", "s1", undefined, "R2");
    leases.claimed("charlie", "s1", undefined, "R3");
    expect(leases.changed({ drone: "alpha", pilot: null, reason: "pilot silent for 5 s (no message or pong)", reservedSeconds: 3 }, "s1")).toEqual({
      kind: "reclaim",
      drone: "alpha",
      token: "secret",
      resume: "R1",
    });
    // Without a grace the silence reason alone says it was not on purpose.
    expect(leases.changed({ drone: "bravo", pilot: null, reason: "pilot silent for 5 s (no message or pong)" }, "s1")).toMatchObject({ kind: "reclaim", drone: "bravo" });
    // An admin's force-release is not undone.
    expect(leases.changed({ drone: "charlie", pilot: null, reason: "released by an admin" }, "s1")).toBeNull();
  });

  test("clear (a fresh connect) wants no lease back", () => {
    const leases = new Leases();
    leases.welcomed(welcome("s1", { alpha: null }), null);
    leases.claimed("alpha", "s1", undefined);
    leases.clear();
    leases.welcomed(welcome("s2", { alpha: null }), "s1");
    expect(leases.afterReconnect()).toEqual([]);
  });
});
