/** The echo budget's batch charging, as values: how many messages a charge covers, and the remainder charged at close. */
import { expect, test } from "bun:test";
import { TokenBucket } from "../../../src/core/flow/rate-limit.ts";
import type { SocketData } from "../../../src/edge/connections.ts";
import { chargeEchoRemainder, echoChargeBatch, echoChargeEvery } from "../../../src/edge/endpoints/echo.ts";

test("a charge covers a batch, never more than the bucket's burst of one second", () => {
  expect(echoChargeEvery(10_000)).toBe(echoChargeBatch);
  expect(echoChargeEvery(40)).toBe(32);
  expect(echoChargeEvery(5)).toBe(5);
  expect(echoChargeEvery(1)).toBe(1);
  expect(echoChargeEvery(2.5)).toBe(2);
});

function echoData(messagesIn: number, echoBudget?: TokenBucket): SocketData {
  return { endpoint: "echo", address: "127.0.0.1", port: 0, openedAt: 0, messagesIn, messagesOut: messagesIn, bytesIn: 0, bytesOut: 0, session: null, ...(echoBudget ? { echoBudget } : {}) };
}

test("at close, the messages since the last charge are charged to the address's bucket", () => {
  const bucket = new TokenBucket(100);
  chargeEchoRemainder(echoData(70, bucket), 100, 0); // charged at 32 and 64 while open: 6 remain
  expect(bucket.take(0, 94)).toBe(true);
  expect(bucket.take(0, 1)).toBe(false);
  const untouched = new TokenBucket(100);
  chargeEchoRemainder(echoData(64, untouched), 100, 0); // nothing left to charge
  expect(untouched.take(0, 100)).toBe(true);
  chargeEchoRemainder(echoData(5), 100, 0); // no budget: nothing to do
});
