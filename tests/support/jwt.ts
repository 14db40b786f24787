/**
 * Real JWTs for tests: keys generated with `jose` (Web Crypto underneath),
 * tokens signed with them, and the hostile tokens a verifier must refuse
 * (`alg: none`, algorithm confusion), built byte for byte.
 */
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from "jose";

/** A secret long enough for `--jwt-secret` (32 bytes). */
export const testSecret = "test-secret-of-at-least-32-bytes!!";

export type AsymmetricAlg = "RS256" | "ES256" | "EdDSA";

/** A key pair for `alg`, its public JWK (with `kid`) and its public PEM. */
export async function testKeyPair(alg: AsymmetricAlg, kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid };
  return { alg, kid, privateKey, publicKey, jwk, pem: await exportSPKI(publicKey) };
}

/** What a test token says: claims, and times in Unix seconds (absolute: the server under test may run on a fake wall clock). */
export interface TestClaims extends JWTPayload {
  sub?: string;
  name?: string;
  scope?: string;
}

/** Signs `claims` with HS256 and `secret`. */
export function signHs256(claims: TestClaims, secret = testSecret): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(secret));
}

/** Signs `claims` with a test key pair, naming its `kid` unless told not to. */
export function signWith(pair: Awaited<ReturnType<typeof testKeyPair>>, claims: TestClaims, withKid = true): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: pair.alg, typ: "JWT", ...(withKid ? { kid: pair.kid } : {}) }).sign(pair.privateKey);
}

function base64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}

/** An unsigned token (`alg: none`, empty signature): must never be accepted. */
export function unsignedToken(claims: TestClaims): string {
  return `${base64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}.`;
}

/** Algorithm confusion: an HS256 token whose HMAC key is a public key's PEM text (which an attacker knows). */
export function hs256WithPublicKey(claims: TestClaims, pem: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(pem));
}

/** Unix seconds of a wall clock in ms. */
export function seconds(wallMs: number): number {
  return Math.floor(wallMs / 1000);
}
