/** One ownership round's decisions: who may take a drone whose key is gone, and what a report means for this node. */
import { describe, expect, test } from "bun:test";
import { claimValid, mayTake, missingKeysMeanDead, ownershipChange } from "../../../src/runtime/cluster/ownership.ts";

const self = "node-b";
const ownerKeyMs = 2500;

describe("missingKeysMeanDead", () => {
  test("not within one key lifetime of the link coming up (Redis may have restarted empty), but after it", () => {
    expect(missingKeysMeanDead(10_000, 10_000, ownerKeyMs)).toBe(false);
    expect(missingKeysMeanDead(12_499, 10_000, ownerKeyMs)).toBe(false);
    expect(missingKeysMeanDead(12_500, 10_000, ownerKeyMs)).toBe(true);
    expect(missingKeysMeanDead(600_000, 10_000, ownerKeyMs)).toBe(true);
  });
});

describe("mayTake", () => {
  test("a drone nobody owned before, or this node owned, may be taken at once", () => {
    expect(mayTake({ previousOwner: undefined, simulatedHere: false }, self, 1000, 1000, ownerKeyMs)).toBe(true);
    expect(mayTake({ previousOwner: self, simulatedHere: true }, self, 1000, 1000, ownerKeyMs)).toBe(true);
  });

  test("another node's drone is left to it for one key lifetime after this node's link came up (Redis may have restarted empty)", () => {
    const other = { previousOwner: "node-a", simulatedHere: false };
    expect(mayTake(other, self, 10_000, 10_000, ownerKeyMs)).toBe(false);
    expect(mayTake(other, self, 12_499, 10_000, ownerKeyMs)).toBe(false);
    expect(mayTake(other, self, 12_500, 10_000, ownerKeyMs)).toBe(true);
  });

  test("a key that expired while this node's link was up long enough means a dead owner: take it", () => {
    expect(mayTake({ previousOwner: "node-a", simulatedHere: false }, self, 60_000, 1000, ownerKeyMs)).toBe(true);
  });
});

describe("ownershipChange", () => {
  test("taking a drone this node did not simulate adopts it, naming the node that held it", () => {
    expect(ownershipChange({ previousOwner: "node-a", simulatedHere: false }, { owner: self, taken: true }, self)).toEqual({ kind: "adopt", takenFrom: "node-a" });
    expect(ownershipChange({ previousOwner: undefined, simulatedHere: false }, { owner: self, taken: true }, self)).toEqual({ kind: "adopt", takenFrom: null });
  });

  test("re-taking a drone this node still simulates keeps its own state: never adopt older stored frames", () => {
    expect(ownershipChange({ previousOwner: self, simulatedHere: true }, { owner: self, taken: true }, self)).toEqual({ kind: "keep" });
    expect(ownershipChange({ previousOwner: self, simulatedHere: true }, { owner: self, taken: false }, self)).toEqual({ kind: "keep" });
  });

  test("a key this node holds for a drone it does not simulate is adopted, not left idle", () => {
    expect(ownershipChange({ previousOwner: self, simulatedHere: false }, { owner: self, taken: false }, self)).toEqual({ kind: "adopt", takenFrom: null });
  });

  test("another owner, or none, makes this node stop simulating", () => {
    expect(ownershipChange({ previousOwner: self, simulatedHere: true }, { owner: "node-a", taken: false }, self)).toEqual({ kind: "lose", owner: "node-a" });
    expect(ownershipChange({ previousOwner: self, simulatedHere: true }, { owner: null, taken: false }, self)).toEqual({ kind: "lose", owner: null });
  });

  test("a drone simulated elsewhere, or left unowned for now, changes nothing here", () => {
    expect(ownershipChange({ previousOwner: "node-a", simulatedHere: false }, { owner: "node-a", taken: false }, self)).toEqual({ kind: "none" });
    expect(ownershipChange({ previousOwner: "node-a", simulatedHere: false }, { owner: null, taken: false }, self)).toEqual({ kind: "none" });
  });
});

describe("claimValid (the fence, issue 19 #4)", () => {
  test("a claim holds for less than one key lifetime from when its renewal was sent, never after", () => {
    expect(claimValid(10_000, 10_000, ownerKeyMs)).toBe(true);
    expect(claimValid(12_499, 10_000, ownerKeyMs)).toBe(true);
    expect(claimValid(12_500, 10_000, ownerKeyMs)).toBe(false);
    expect(claimValid(40_000, 10_000, ownerKeyMs)).toBe(false);
  });

  test("a node that never renewed holds nothing", () => {
    expect(claimValid(0, Number.NEGATIVE_INFINITY, ownerKeyMs)).toBe(false);
  });
});

describe("ownershipChange with fencing epochs (issue 19 #4, #5)", () => {
  test("re-taking a drone whose epoch moved on by more than this take: another node flew it in between, so adopt the stored state", () => {
    expect(ownershipChange({ previousOwner: self, simulatedHere: true, knownEpoch: 3 }, { owner: self, taken: true, epoch: 6 }, self)).toEqual({ kind: "adopt", takenFrom: null });
  });

  test("re-taking with the next epoch (Redis restarted empty, nobody flew it in between), or renewing, keeps this node's own state", () => {
    expect(ownershipChange({ previousOwner: self, simulatedHere: true, knownEpoch: 3 }, { owner: self, taken: true, epoch: 4 }, self)).toEqual({ kind: "keep" });
    expect(ownershipChange({ previousOwner: self, simulatedHere: true, knownEpoch: 3 }, { owner: self, taken: false, epoch: 3 }, self)).toEqual({ kind: "keep" });
  });
});
