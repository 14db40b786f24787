/** The per-socket token bucket and the sustained-abuse rule, on a fake clock. */
import { expect, test } from "bun:test";
import { RateLimiter, SharedBuckets, TokenBucket } from "../../src/core/flow/rate-limit.ts";

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

test("maxExcess: a flood is cut after that many messages over the rate, long before the 10 s rule (issue 19 #10)", () => {
  const limiter = new RateLimiter({ perSecond: 50, abuseSeconds: 10, maxExcess: 500 });
  const verdicts: string[] = [];
  for (let i = 0; i < 550; i++) verdicts.push(limiter.take(0)); // a burst of 550 in one instant
  expect(verdicts.slice(0, 50).every((v) => v === "allowed")).toBe(true);
  expect(verdicts.slice(50, 549).every((v) => v === "limited")).toBe(true);
  expect(verdicts[549]).toBe("flooding");
  // Twice the rate (limited from 1 s on) reaches 500 over the rate 10 s later, as the time rule does; four times, after 3.3 s.
  for (const [every, cutAfter] of [[10, 11_000], [5, 333 + 3_333]] as const) {
    const limiter2 = new RateLimiter({ perSecond: 50, abuseSeconds: 10, maxExcess: 500 });
    let cutAt = -1;
    for (let t = 0; t <= 12_000 && cutAt < 0; t += every) if (["abusive", "flooding"].includes(limiter2.take(t))) cutAt = t;
    expect(Math.abs(cutAt - cutAfter)).toBeLessThan(50);
  }
});

test("answerLimited: at most one rate_limited answer a second (issue 19 #10)", () => {
  const limiter = new RateLimiter({ perSecond: 1, abuseSeconds: 10 });
  expect(limiter.answerLimited(0)).toBe(true);
  expect(limiter.answerLimited(999)).toBe(false);
  expect(limiter.answerLimited(1000)).toBe(true);
  expect(limiter.answerLimited(1500)).toBe(false);
});

test("SharedBuckets: one budget per key for all its sockets, gone with the last socket", () => {
  const buckets = new SharedBuckets(3);
  const a = buckets.open("203.0.113.7");
  const b = buckets.open("203.0.113.7");
  expect(a).toBe(b);
  expect([a.take(0), b.take(0), a.take(0), b.take(0)]).toEqual([true, true, true, false]);
  expect(buckets.open("198.51.100.1").take(0)).toBe(true);
  buckets.close("203.0.113.7");
  buckets.close("203.0.113.7");
  buckets.close("198.51.100.1");
  expect(buckets.size).toBe(0);
});

/** Verdicts (and whether each limited one is answered) for a pattern of message times. */
function verdicts(limiter: RateLimiter, times: readonly number[]): string[] {
  return times.map((t) => {
    const verdict = limiter.take(t);
    return verdict === "limited" ? `limited:${limiter.answerLimited(t)}` : verdict;
  });
}

test("atRest: not while the bucket refills, a streak runs or an answer is recent; then it decides as a fresh limiter", () => {
  const options = { perSecond: 10, abuseSeconds: 10, maxExcess: 100 };
  const limiter = new RateLimiter(options);
  expect(limiter.atRest(0)).toBe(true);
  for (let i = 0; i < 15; i++) limiter.take(0);
  limiter.answerLimited(0);
  expect(limiter.atRest(500)).toBe(false); // 5 of 10 tokens back, the streak is 0.5 s old
  expect(limiter.atRest(1000)).toBe(false); // full again, but the streak's gap is not over
  expect(limiter.atRest(1001)).toBe(true);
  // From a rest point on, the old limiter and a fresh one give the same answers to any pattern.
  const pattern = [1001, ...Array.from({ length: 40 }, (_, i) => 1001 + i * 3), 1500, 2600, 2601, 2602];
  expect(verdicts(limiter, pattern)).toEqual(verdicts(new RateLimiter(options), pattern));
});

test("atRest: a limiter used below its rate is at rest once its bucket is full", () => {
  const limiter = new RateLimiter({ perSecond: 50, abuseSeconds: 10 });
  limiter.take(0);
  expect(limiter.atRest(10)).toBe(false);
  expect(limiter.atRest(20)).toBe(true);
});

test("TokenBucket.take(now, count): all of count or nothing", () => {
  const bucket = new TokenBucket(40);
  expect(bucket.take(0, 32)).toBe(true);
  expect(bucket.take(0, 32)).toBe(false); // 8 left: none taken
  expect(bucket.take(0, 8)).toBe(true);
  expect(bucket.take(600, 24)).toBe(true); // 0.6 s refills 24
  expect(bucket.take(600, 1)).toBe(false);
});
