/**
 * The public keys JWTs are verified with, read from a PEM or JWKS file
 * (`--jwt-keys`), and replaced as a whole on reload (SIGHUP: key rotation).
 *
 * Owns reading and checking the file: every key is pinned to the one
 * algorithm its kind allows (RSA: RS256, EC P-256: ES256, Ed25519: EdDSA),
 * so a token cannot pick another (algorithm confusion); symmetric and private
 * keys are refused (a secret belongs in `--jwt-secret`, and a private key
 * must never sit on the server). A reload that fails keeps the keys in use.
 * Never verifies a token (verifier.ts does) and never logs key material.
 */
import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { calculateJwkThumbprint, createLocalJWKSet, type JSONWebKeySet, type JWK } from "jose";

/** The asymmetric algorithms a key file may hold keys for, one per kind of key. */
export const asymmetricAlgorithms = ["RS256", "ES256", "EdDSA"] as const;

/** Most keys one file may hold: a rotation needs two or three; more is a mistake. */
const maxKeys = 100;
/** Smallest RSA modulus accepted, bits (NIST SP 800-131A). */
const minRsaBits = 2048;

/** A key file that cannot be used: what was wrong, the rule, and what was found. */
export class KeyFileError extends Error {
  override name = "KeyFileError";
}

/** The keys of one file, ready for `jwtVerify`: a local JWKS and how many keys it holds. */
export interface KeySet {
  verifyKey: ReturnType<typeof createLocalJWKSet>;
  /** Key ids (given, or the RFC 7638 thumbprint when the file gave none), for the log. */
  kids: string[];
}

/** The algorithm a public key's kind allows, or a sentence saying why it is not usable. */
function pinnedAlgorithm(jwk: JWK): string | { problem: string } {
  if (jwk.kty === "RSA") {
    const bits = jwk.n === undefined ? 0 : Buffer.from(jwk.n, "base64url").length * 8;
    return bits >= minRsaBits ? "RS256" : { problem: `an RSA key must have at least ${minRsaBits} bits: received ${bits}` };
  }
  if (jwk.kty === "EC") return jwk.crv === "P-256" ? "ES256" : { problem: `an EC key must be on curve P-256 (ES256): received ${jwk.crv}` };
  if (jwk.kty === "OKP") return jwk.crv === "Ed25519" ? "EdDSA" : { problem: `an OKP key must be Ed25519 (EdDSA): received ${jwk.crv}` };
  if (jwk.kty === "oct") return { problem: "a symmetric (oct) key belongs in --jwt-secret, not in a key file" };
  return { problem: `key type must be RSA, EC or OKP: received ${JSON.stringify(jwk.kty)}` };
}

/** Checks one public JWK and pins its algorithm; `where` names it in errors. */
async function checkedKey(jwk: JWK, where: string): Promise<JWK & { kid: string; alg: string }> {
  if (typeof jwk !== "object" || jwk === null) throw new KeyFileError(`${where} must be a JWK object`);
  if ("d" in jwk || "p" in jwk || "k" in jwk) throw new KeyFileError(`${where} holds private or secret key material: a key file holds public keys only`);
  const pinned = pinnedAlgorithm(jwk);
  if (typeof pinned !== "string") throw new KeyFileError(`${where}: ${pinned.problem}`);
  if (jwk.alg !== undefined && jwk.alg !== pinned) throw new KeyFileError(`${where} says alg ${JSON.stringify(jwk.alg)}, but a ${jwk.kty} key of this kind verifies ${pinned} only`);
  if (jwk.use !== undefined && jwk.use !== "sig") throw new KeyFileError(`${where} has use ${JSON.stringify(jwk.use)}: verification keys must have use "sig" or none`);
  const kid = typeof jwk.kid === "string" && jwk.kid !== "" ? jwk.kid : await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg: pinned };
}

/** The public keys of a PEM text: one or more `-----BEGIN PUBLIC KEY-----` blocks (SPKI). */
function pemKeys(text: string): JWK[] {
  const blocks = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  if (blocks.length === 0) {
    const what = /PRIVATE KEY-----/.test(text) ? "a private key: give the public key (openssl pkey -pubout)" : "no -----BEGIN PUBLIC KEY----- block";
    throw new KeyFileError(`must be a JWKS (JSON) or PEM public keys: found ${what}`);
  }
  return blocks.map((pem, index) => {
    try {
      return createPublicKey(pem).export({ format: "jwk" }) as JWK;
    } catch (error) {
      throw new KeyFileError(`PEM block ${index + 1} is not a public key: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/** Parses a key file's text (a JWKS `{"keys":[...]}`, one JWK, or PEM public keys) into a key set. */
export async function parseKeyFile(text: string): Promise<KeySet> {
  const trimmed = text.trim();
  let jwks: JWK[];
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new KeyFileError(`is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    const record = parsed as { keys?: unknown };
    jwks = Array.isArray(record.keys) ? (record.keys as JWK[]) : [parsed as JWK];
  } else {
    jwks = pemKeys(trimmed);
  }
  if (jwks.length === 0) throw new KeyFileError("holds no key: a JWKS needs at least one in \"keys\"");
  if (jwks.length > maxKeys) throw new KeyFileError(`holds ${jwks.length} keys: at most ${maxKeys}`);
  const keys = await Promise.all(jwks.map((jwk, index) => checkedKey(jwk, `key ${index + 1}`)));
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.kid)) throw new KeyFileError(`holds two keys with kid ${JSON.stringify(key.kid)}: each kid must name one key`);
    seen.add(key.kid);
  }
  const set: JSONWebKeySet = { keys };
  return { verifyKey: createLocalJWKSet(set), kids: keys.map((key) => key.kid) };
}

/** Reads and parses a key file; errors name the file. */
export async function loadKeyFile(path: string): Promise<KeySet> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KeyFileError(`cannot be read (${code ?? (error instanceof Error ? error.message : String(error))})`);
  }
  return parseKeyFile(text);
}

/**
 * The key set in use, and its reload. A reload that fails keeps the keys in
 * use and reports why, so a bad rotation never locks everyone out.
 */
export class KeyStore {
  private constructor(
    private readonly path: string,
    private set: KeySet,
  ) {}

  /** Loads the file once; throws a `KeyFileError` when it is not usable. */
  static async open(path: string): Promise<KeyStore> {
    return new KeyStore(path, await loadKeyFile(path));
  }

  /** The keys in use now. */
  get current(): KeySet {
    return this.set;
  }

  /** Reads the file again: the new keys replace the old ones only if all of them are usable. */
  async reload(): Promise<{ ok: true; kids: string[] } | { ok: false; message: string }> {
    try {
      this.set = await loadKeyFile(this.path);
      return { ok: true, kids: this.set.kids };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  }
}
