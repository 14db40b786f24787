/** Session creation and the token rules, as values: each check returns the refusal to send, or null. */
import { expect, test } from "bun:test";
import { addSubscription, checkPilotToken, checkViewerHello, countAuthFailure, limiterOf, maxAuthFailures, newSession, removeSubscription, restLimiter, subscriptionsOf } from "../../../src/edge/sessions/session.ts";

test("a new session: an 8-character id, its drones, no limiter until its first message", () => {
  const session = newSession("bravo", ["bravo", "*"], null);
  expect(session).toMatchObject({ defaultDrone: "bravo", subscriptions: ["bravo", "*"], limiter: null, authenticated: false, authFailures: 0 });
  expect(session.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  const limiter = limiterOf(session, 50);
  expect(limiterOf(session, 50)).toBe(limiter);
});

test("a session watching nothing holds no array: the first subscription makes one, the last one gone drops it", () => {
  const session = newSession("bravo", [], null);
  expect(session.subscriptions).toBeNull();
  expect([...subscriptionsOf(session)]).toEqual([]);
  addSubscription(session, "alpha");
  addSubscription(session, "bravo");
  addSubscription(session, "alpha");
  expect([...subscriptionsOf(session)]).toEqual(["alpha", "bravo"]);
  expect(removeSubscription(session, "charlie")).toBe(false);
  expect(removeSubscription(session, "alpha")).toBe(true);
  expect(session.subscriptions).toEqual(["bravo"]);
  expect(removeSubscription(session, "bravo")).toBe(true);
  expect(session.subscriptions).toBeNull();
  expect(removeSubscription(session, "bravo")).toBe(false);
});

test("restLimiter drops a limiter at rest and keeps a busy one", () => {
  const session = newSession("bravo", [], null);
  const limiter = limiterOf(session, 50);
  for (let i = 0; i < 50; i++) limiter.take(0);
  restLimiter(session, 500);
  expect(session.limiter).toBe(limiter);
  restLimiter(session, 1000);
  expect(session.limiter).toBeNull();
  expect(limiterOf(session, 50)).not.toBe(limiter);
});

test("the pilot token: none required, missing, wrong, right", () => {
  expect(checkPilotToken(undefined, null)).toBeNull();
  expect(checkPilotToken(undefined, "secret")).toMatchObject({ code: "unauthorized", field: "data.token", message: "this server requires a pilot token: claim with data.token" });
  expect(checkPilotToken("guess", "secret")).toMatchObject({ code: "unauthorized", message: "wrong pilot token" });
  expect(checkPilotToken("secret", "secret")).toBeNull();
});

test("the viewer token: only hello with the right token passes", () => {
  expect(checkViewerHello({ type: "hello", data: { token: "v" } }, "v")).toBeNull();
  expect(checkViewerHello({ type: "hello", data: { token: "x" } }, "v")).toMatchObject({ message: "wrong viewer token", field: "data.token" });
  expect(checkViewerHello({ type: "hello", data: {} }, "v")).toMatchObject({ message: "wrong viewer token" });
  expect(checkViewerHello({ type: "ping", data: {} }, "v")?.message).toStartWith("this server requires a viewer token");
  expect(checkViewerHello(null, "v")?.field).toBeUndefined();
});

test("the last failed attempt allowed gives the close reason", () => {
  const session = newSession("alpha", [], null);
  for (let attempt = 1; attempt < maxAuthFailures; attempt++) expect(countAuthFailure(session)).toBeNull();
  expect(countAuthFailure(session)).toBe(`unauthorized: ${maxAuthFailures} failed attempts`);
});
