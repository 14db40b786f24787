/** Failed cluster writes: every one counted, logged once per streak. */
import { expect, test } from "bun:test";
import { WriteFailures } from "../../../src/runtime/cluster/write-failures.ts";

test("no failure: nothing counted, nothing to log", () => {
  const failures = new WriteFailures();
  expect(failures.succeeded("frame_append")).toBeNull();
  expect(failures.total).toBe(0);
});

test("the first failure of a streak logs the operation and reason; the rest of the streak only count", () => {
  const failures = new WriteFailures();
  expect(failures.failed("frame_append", "redis unavailable")).toEqual({ event: "redis_write_failed", operation: "frame_append", reason: "redis unavailable" });
  expect(failures.failed("pilot_record", "redis unavailable")).toBeNull();
  expect(failures.failed("frame_append", "timeout")).toBeNull();
  expect(failures.total).toBe(3);
});

test("the first success after a streak logs how many failed, once; a new streak logs again", () => {
  const failures = new WriteFailures();
  failures.failed("frame_append", "down");
  failures.failed("frame_append", "down");
  expect(failures.succeeded("frame_append")).toEqual({ event: "redis_writes_recovered", operation: "frame_append", failed: 2 });
  expect(failures.succeeded("frame_append")).toBeNull();
  expect(failures.failed("alive_delete", "closed")).toEqual({ event: "redis_write_failed", operation: "alive_delete", reason: "closed" });
  expect(failures.succeeded("pilot_record")).toEqual({ event: "redis_writes_recovered", operation: "pilot_record", failed: 1 });
  expect(failures.total).toBe(3);
});
