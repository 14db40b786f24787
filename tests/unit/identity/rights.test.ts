/** Scope parsing and the rights decisions: view, fly (implies view), admin (take over). Pure. */
import { describe, expect, test } from "bun:test";
import { displayName, isIdentity, isScopeError, mayFly, mayTakeOver, mayView, parseScope, viewable, viewsEverything, type Rights } from "../../../src/core/identity/rights.ts";

function rights(scope: string): Rights {
  const parsed = parseScope(scope);
  if (isScopeError(parsed)) throw new Error(parsed.message);
  return parsed;
}

describe("parseScope", () => {
  test("view, fly and admin entries; other services' entries are ignored", () => {
    expect(parseScope("fly:alpha view:* email openid")).toEqual({ view: ["*"], fly: ["alpha"], admin: false });
    expect(parseScope("  admin\tview:bravo  ")).toEqual({ view: ["bravo"], fly: [], admin: true });
    expect(parseScope("view:alpha view:alpha")).toEqual({ view: ["alpha"], fly: [], admin: false });
  });

  test("no skyport right at all is refused, naming what is needed", () => {
    for (const scope of ["", "email openid", "view:", "fly", "viewer:alpha", "ADMIN"]) {
      const parsed = parseScope(scope);
      expect(isScopeError(parsed)).toBe(true);
      expect((parsed as { message: string }).message).toContain("view:<drone|*>, fly:<drone|*> or admin");
    }
  });

  test("a scope that is not a string, or too long, is refused with what was received", () => {
    expect(parseScope(undefined)).toEqual({ message: expect.stringContaining("received none") });
    expect(parseScope(["fly:alpha"])).toEqual({ message: expect.stringContaining("received object") });
    expect(parseScope(`view:${"a".repeat(65)}`)).toEqual({ message: expect.stringContaining("received 65") });
    expect(parseScope("view:a ".repeat(1000))).toEqual({ message: expect.stringContaining("at most 4096 characters") });
  });
});

describe("decisions", () => {
  test("fly implies view; view does not imply fly", () => {
    const pilot = rights("fly:alpha view:bravo");
    expect([mayFly(pilot, "alpha"), mayView(pilot, "alpha")]).toEqual([true, true]);
    expect([mayFly(pilot, "bravo"), mayView(pilot, "bravo")]).toEqual([false, true]);
    expect([mayFly(pilot, "charlie"), mayView(pilot, "charlie")]).toEqual([false, false]);
    expect(mayTakeOver(pilot)).toBe(false);
  });

  test("wildcards grant every vehicle; admin grants everything and take-over", () => {
    expect(mayView(rights("view:*"), "zulu")).toBe(true);
    expect(mayFly(rights("view:*"), "zulu")).toBe(false);
    expect(mayFly(rights("fly:*"), "zulu")).toBe(true);
    const admin = rights("admin");
    expect([mayView(admin, "x"), mayFly(admin, "x"), mayTakeOver(admin), viewsEverything(admin)]).toEqual([true, true, true, true]);
  });

  test("viewable keeps the fleet's order and drops what it may not see", () => {
    const fleet = ["alpha", "bravo", "charlie"];
    expect(viewable(rights("view:charlie fly:alpha"), fleet)).toEqual(["alpha", "charlie"]);
    expect(viewable(rights("view:alpha"), fleet)).toEqual(["alpha"]);
    expect(viewable(rights("fly:*"), fleet)).toEqual(fleet);
    expect(viewsEverything(rights("view:alpha view:bravo view:charlie"))).toBe(false);
  });

  test("a display name is `Name (user)`, or the user alone", () => {
    expect(displayName({ user: "alice", name: "Alice Smith" })).toBe("Alice Smith (alice)");
    expect(displayName({ user: "alice" })).toBe("alice");
    expect(displayName({ user: "alice", name: "alice" })).toBe("alice");
  });
});

test("isIdentity: the shape an identity read back from another node must have", () => {
  expect(isIdentity({ user: "a", rights: { view: ["*"], fly: [], admin: false }, source: "jwt" })).toBe(true);
  expect(isIdentity({ user: "a", name: "A", rights: { view: [], fly: ["x"], admin: true }, source: "shared" })).toBe(true);
  for (const bad of [null, {}, { user: "", rights: { view: [], fly: [], admin: false }, source: "jwt" }, { user: "a", rights: { view: "*", fly: [], admin: false }, source: "jwt" }, { user: "a", rights: { view: [], fly: [], admin: "yes" }, source: "jwt" }, { user: "a", rights: { view: [], fly: [], admin: false }, source: "root" }, { user: "a", name: 5, rights: { view: [], fly: [], admin: false }, source: "jwt" }]) {
    expect(isIdentity(bad)).toBe(false);
  }
});
