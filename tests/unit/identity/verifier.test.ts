/**
 * Token verification with real signatures: every refusal reason, the claims
 * taken into an identity, and the shared viewer token beside JWTs. The
 * verifier's wall clock is injected: expiry is judged without waiting.
 */
import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyStore } from "../../../src/runtime/identity/keys.ts";
import { clockLeewaySeconds, TokenVerifier, type VerifierSettings } from "../../../src/runtime/identity/verifier.ts";
import { hs256WithPublicKey, seconds, signHs256, signWith, testKeyPair, testSecret, unsignedToken } from "../../support/jwt.ts";

const nowMs = Date.UTC(2026, 0, 1);
const now = seconds(nowMs);
const clocks = { monotonicMs: () => 0, wallMs: () => nowMs };
const valid = { sub: "alice", name: "Alice", scope: "fly:alpha view:*", exp: now + 3600 };

const none: VerifierSettings = { jwtSecret: null, keys: null, jwtIssuer: null, jwtAudience: null, viewerToken: null };

/** A correctly signed HS256 token whose payload is not JSON. */
function signedGarbage(): string {
  const input = `${Buffer.from('{"alg":"HS256"}').toString("base64url")}.${Buffer.from("not json").toString("base64url")}`;
  return `${input}.${createHmac("sha256", testSecret).update(input).digest("base64url")}`;
}

async function keyFile(contents: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), "skyport-keys-")), "keys");
  await writeFile(path, contents);
  return path;
}

describe("HS256 with --jwt-secret", () => {
  const verifier = new TokenVerifier({ ...none, jwtSecret: testSecret }, clocks);

  test("a valid token is an identity: sub, name, rights, and until when it is accepted (exp plus the leeway, in ms)", async () => {
    expect(await verifier.verify(await signHs256(valid))).toEqual({
      ok: true,
      identity: { user: "alice", name: "Alice", rights: { view: ["*"], fly: ["alpha"], admin: false }, source: "jwt" },
      expiresAtMs: (now + 3600 + clockLeewaySeconds) * 1000,
    });
  });

  test("every way a token is wrong has its own reason", async () => {
    const cases: [string, string][] = [
      [await signHs256({ ...valid, exp: now - clockLeewaySeconds - 1 }), "expired"],
      [await signHs256({ ...valid, nbf: now + clockLeewaySeconds + 60 }), "not_yet_valid"],
      [await signHs256(valid, "another-secret-of-at-least-32-bytes"), "bad_signature"],
      [unsignedToken(valid), "alg_none"],
      [await signHs256({ ...valid, scope: "email" }), "no_scope"],
      [await signHs256({ ...valid, scope: undefined }), "no_scope"],
      [await signHs256({ ...valid, sub: undefined }), "invalid_claims"],
      [await signHs256({ ...valid, exp: undefined }), "invalid_claims"],
      [await signHs256({ ...valid, name: 42 as never }), "invalid_claims"],
      ["not-a-jwt", "malformed"],
      ["a.b.c", "malformed"],
      [signedGarbage(), "malformed"],
    ];
    for (const [token, reason] of cases) expect({ token: token.slice(0, 12), verdict: await verifier.verify(token) }).toMatchObject({ verdict: { ok: false, reason } });
  });

  test("within the leeway, exp and nbf still pass", async () => {
    expect((await verifier.verify(await signHs256({ ...valid, exp: now - clockLeewaySeconds + 1 }))).ok).toBe(true);
    expect((await verifier.verify(await signHs256({ ...valid, nbf: now + clockLeewaySeconds - 1 }))).ok).toBe(true);
  });

  test("issuer and audience, when configured", async () => {
    const strict = new TokenVerifier({ ...none, jwtSecret: testSecret, jwtIssuer: "https://id.example", jwtAudience: "skyport" }, clocks);
    const good = { ...valid, iss: "https://id.example", aud: ["other", "skyport"] };
    expect((await strict.verify(await signHs256(good))).ok).toBe(true);
    expect(await strict.verify(await signHs256({ ...good, iss: "https://evil.example" }))).toMatchObject({ ok: false, reason: "wrong_issuer" });
    expect(await strict.verify(await signHs256({ ...good, aud: "other" }))).toMatchObject({ ok: false, reason: "wrong_audience" });
    expect(await strict.verify(await signHs256({ ...valid }))).toMatchObject({ ok: false, reason: "wrong_issuer" });
  });

  test("no refusal message carries the token or the user", async () => {
    for (const token of [await signHs256({ ...valid, exp: now - 100 }), await signHs256(valid, "x".repeat(40)), unsignedToken(valid)]) {
      const verdict = await verifier.verify(token);
      expect(verdict.ok).toBe(false);
      expect(JSON.stringify(verdict)).not.toContain("alice");
      expect(JSON.stringify(verdict)).not.toContain(token.slice(-20));
    }
  });

  test("asymmetric algorithms are not accepted without a key file", async () => {
    const pair = await testKeyPair("ES256", "k1");
    expect(await verifier.verify(await signWith(pair, valid))).toMatchObject({ ok: false, reason: "alg_not_allowed" });
  });
});

describe("RS256, ES256, EdDSA with --jwt-keys", () => {
  test("a JWKS of several kinds: each key verifies its own tokens, by kid or without one", async () => {
    const pairs = await Promise.all([testKeyPair("RS256", "rsa-1"), testKeyPair("ES256", "ec-1"), testKeyPair("EdDSA", "ed-1")]);
    const keys = await KeyStore.open(await keyFile(JSON.stringify({ keys: pairs.map((pair) => pair.jwk) })));
    const verifier = new TokenVerifier({ ...none, keys }, clocks);
    for (const pair of pairs) {
      expect(await verifier.verify(await signWith(pair, valid))).toMatchObject({ ok: true, identity: { user: "alice" } });
      expect(await verifier.verify(await signWith(pair, valid, false))).toMatchObject({ ok: true, identity: { user: "alice" } });
    }
  });

  test("unknown kid, bad signature, HS256 (algorithm confusion), alg none", async () => {
    const [known, stranger] = await Promise.all([testKeyPair("RS256", "rsa-1"), testKeyPair("RS256", "rsa-2")]);
    const keys = await KeyStore.open(await keyFile(known.pem));
    const verifier = new TokenVerifier({ ...none, keys }, clocks);
    expect(await verifier.verify(await signWith(stranger, valid))).toMatchObject({ ok: false, reason: "unknown_key" });
    expect(await verifier.verify(await signWith({ ...stranger, kid: keys.current.kids[0]! }, valid))).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(await verifier.verify(await hs256WithPublicKey(valid, known.pem))).toMatchObject({ ok: false, reason: "alg_not_allowed" });
    expect(await verifier.verify(unsignedToken(valid))).toMatchObject({ ok: false, reason: "alg_none" });
  });

  test("with a secret too, an HS256 token signed with a public key is checked against the secret only", async () => {
    const pair = await testKeyPair("RS256", "rsa-1");
    const verifier = new TokenVerifier({ ...none, jwtSecret: testSecret, keys: await KeyStore.open(await keyFile(pair.pem)) }, clocks);
    expect(await verifier.verify(await hs256WithPublicKey(valid, pair.pem))).toMatchObject({ ok: false, reason: "bad_signature" });
    expect((await verifier.verify(await signHs256(valid))).ok).toBe(true);
    expect((await verifier.verify(await signWith(pair, valid, false))).ok).toBe(true);
  });
});

describe("the shared viewer token beside JWTs", () => {
  test("the viewer token is the shared identity; a wrong one is wrong_token (no JWT) or malformed (JWT server)", async () => {
    const shared = new TokenVerifier({ ...none, viewerToken: "v-token" }, clocks);
    expect(await shared.verify("v-token")).toEqual({ ok: true, identity: expect.objectContaining({ source: "shared" }), expiresAtMs: null });
    expect(await shared.verify("guess")).toMatchObject({ ok: false, reason: "wrong_token" });
    const both = new TokenVerifier({ ...none, viewerToken: "v-token", jwtSecret: testSecret }, clocks);
    expect((await both.verify("v-token")).ok).toBe(true);
    expect((await both.verify(await signHs256(valid))).ok).toBe(true);
    expect(await both.verify("guess")).toMatchObject({ ok: false, reason: "malformed" });
  });
});
