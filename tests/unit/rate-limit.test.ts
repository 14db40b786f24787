/** The per-socket token bucket and the sustained-abuse rule, on a fake clock. */
import { expect, test } from "bun:test";
import { RateLimiter } from "../../src/core/flow/rate-limit.ts";

test("allows a burst of perSecond, then limits until tokens refill", () => {
  const limiter = new RateLimiter({ perSecond: 50, abuseSeconds: 10 });
  for (let i = 0; i < 50; i++) expect(limiter.take(0)).toBe("allowed");
  expect(limiter.take(0)).toBe("limited");
  expect(limiter.take(20)).toBe("allowed"); // 20 ms refills one token at 50/s
  expect(limiter.take(20)).toBe("limited");
});

test("a steady 50/s is always allowed", () => {
  const limiter = new RateLimiter({ perSecond: 50, abuseSeconds: 10 });
  for (let i = 0; i < 2000; i++) expect(limiter.take(i * 20)).toBe("allowed");
});

test("10 s of continuous abuse becomes abusive; a pause of over a second forgives", () => {
  const limiter = new RateLimiter({ perSecond: 50, abuseSeconds: 10 });
  const verdicts = new Map<number, string>();
  for (let t = 0; t <= 11_000; t += 5) verdicts.set(t, limiter.take(t)); // 200/s against 50/s
  const firstLimited = [...verdicts].find(([, verdict]) => verdict === "limited")![0];
  const firstAbusive = [...verdicts].find(([, verdict]) => verdict === "abusive")![0];
  expect(firstLimited).toBeGreaterThan(300); // the 50-message burst, draining at 150/s net
  expect(firstLimited).toBeLessThan(400);
  expect(firstAbusive - firstLimited).toBeGreaterThanOrEqual(10_000);
  expect(firstAbusive - firstLimited).toBeLessThan(10_010);

  const forgiving = new RateLimiter({ perSecond: 50, abuseSeconds: 10 });
  const seen = new Set<string>();
  for (let t = 0; t <= 6_000; t += 5) seen.add(forgiving.take(t));
  for (let t = 7_500; t <= 13_500; t += 5) seen.add(forgiving.take(t)); // after 1.5 s of quiet
  expect(seen.has("limited")).toBe(true);
  expect(seen.has("abusive")).toBe(false);
});

test("bad options are refused naming the option", () => {
  expect(() => new RateLimiter({ perSecond: 0, abuseSeconds: 1 })).toThrow(/'perSecond' must be a positive number: received 0/);
  expect(() => new RateLimiter({ perSecond: 1, abuseSeconds: -1 })).toThrow(/'abuseSeconds'/);
});
