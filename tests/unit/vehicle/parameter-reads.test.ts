/** Asking autopilot parameters by name: the unanswered ones, a retry apart, a bounded number of times per link-up. */
import { expect, test } from "bun:test";
import { ParameterReads } from "../../../src/core/vehicle/mavlink/parameter-reads.ts";

test("asks every unanswered name, again after the retry, at most the attempts; a new link-up starts over", () => {
  const reads = new ParameterReads(["FENCE_ENABLE", "FENCE_TYPE"], 2, 3);
  expect(reads.due(10)).toEqual(["FENCE_ENABLE", "FENCE_TYPE"]);
  expect(reads.due(11)).toEqual([]);
  expect(reads.heard("FENCE_TYPE", 7)).toBe(true);
  expect(reads.heard("FS_GCS_ENABLE", 1)).toBe(false);
  expect(reads.value("FENCE_TYPE")).toBe(7);
  expect(reads.value("FS_GCS_ENABLE")).toBeUndefined();
  expect(reads.due(12)).toEqual(["FENCE_ENABLE"]);
  expect(reads.due(14)).toEqual(["FENCE_ENABLE"]);
  expect(reads.due(100)).toEqual([]);
  reads.reset();
  expect(reads.value("FENCE_TYPE")).toBeUndefined();
  expect(reads.due(101)).toEqual(["FENCE_ENABLE", "FENCE_TYPE"]);
  reads.heard("FENCE_ENABLE", 1);
  reads.heard("FENCE_TYPE", 7);
  expect(reads.due(200)).toEqual([]);
});
