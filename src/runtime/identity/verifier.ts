/**
 * Turns a presented token into an `Identity`, or into the one reason it is
 * refused: a JWT (HS256 with the shared secret, RS256/ES256/EdDSA with the
 * key file's public keys) through `jose`, or a shared viewer token compared
 * in constant time.
 *
 * Owns the choice of key by the token's `alg` (so an HS256 token is only
 * ever checked against the secret, never against a public key: no algorithm
 * confusion), the claim rules (`sub` and `exp` required, `nbf`, optional
 * `iss`/`aud`, a small leeway), and the mapping of every failure to one
 * `AuthFailureReason`. Reads the wall clock only through the `Clocks` it is
 * given; never logs, stores or echoes a token.
 */
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import type { AuthFailureReason } from "../../../protocol/index.ts";
import { isScopeError, parseScope, sharedViewerIdentity, type Identity } from "../../core/identity/rights.ts";
import type { Clocks } from "../clock.ts";
import { asymmetricAlgorithms, type KeyStore } from "./keys.ts";
import { tokensEqual } from "./shared-token.ts";

/**
 * Seconds of clock skew allowed on `exp` and `nbf` between the token's
 * issuer and this server. Small: a token is refused at most this long after
 * it expired, and the socket it opened closes at `exp` plus this.
 */
export const clockLeewaySeconds = 5;
/** Longest `sub` and `name` kept, characters: they are shown and recorded, never a document. */
const maxClaimLength = 128;

/** What verification needs: the keys, the claim checks, the shared viewer token. */
export interface VerifierSettings {
  /** HS256 secret (`--jwt-secret`), or null. */
  jwtSecret: string | null;
  /** Public keys (`--jwt-keys`), or null. */
  keys: KeyStore | null;
  /** Required `iss`, or null. */
  jwtIssuer: string | null;
  /** Required `aud` (one of the token's), or null. */
  jwtAudience: string | null;
  /** The shared viewer token (`--viewer-token`), or null. */
  viewerToken: string | null;
}

/** A token accepted: who it speaks for, and until when it is accepted (Unix ms: `exp` plus the leeway; null for a shared token: it does not expire). */
export interface Verified {
  ok: true;
  identity: Identity;
  expiresAtMs: number | null;
}

/** A token refused: the reason code and a sentence for the client (never the token, never whether a user exists). */
export interface Refused {
  ok: false;
  reason: AuthFailureReason;
  message: string;
}

export type Verdict = Verified | Refused;

const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Verifies presented tokens against the server's keys and shared token. */
export class TokenVerifier {
  private readonly secret: Uint8Array | null;

  constructor(
    private readonly settings: VerifierSettings,
    private readonly clocks: Clocks,
  ) {
    this.secret = settings.jwtSecret === null ? null : new TextEncoder().encode(settings.jwtSecret);
  }

  /** Whether JWTs are accepted at all (a secret or a key file is configured). */
  get acceptsJwt(): boolean {
    return this.secret !== null || this.settings.keys !== null;
  }

  /** Whether any token is required to watch: JWTs or the shared viewer token. */
  get required(): boolean {
    return this.acceptsJwt || this.settings.viewerToken !== null;
  }

  /** The identity a presented token speaks for, or why it is refused. */
  async verify(token: string): Promise<Verdict> {
    if (this.acceptsJwt && jwtShape.test(token)) return this.verifyJwt(token);
    if (this.settings.viewerToken !== null && tokensEqual(token, this.settings.viewerToken)) return { ok: true, identity: sharedViewerIdentity, expiresAtMs: null };
    if (this.acceptsJwt) return refused("malformed", "not a JWT: it must be three base64url parts separated by dots");
    return refused("wrong_token", "wrong viewer token");
  }

  private async verifyJwt(token: string): Promise<Verdict> {
    let alg: string;
    try {
      alg = String(decodeProtectedHeader(token).alg);
    } catch {
      return refused("malformed", "its header is not base64url JSON");
    }
    if (alg.toLowerCase() === "none") return refused("alg_none", "unsigned tokens (alg none) are never accepted");
    const options = {
      clockTolerance: clockLeewaySeconds,
      currentDate: new Date(this.clocks.wallMs()),
      requiredClaims: ["sub", "exp"],
      ...(this.settings.jwtIssuer === null ? {} : { issuer: this.settings.jwtIssuer }),
      ...(this.settings.jwtAudience === null ? {} : { audience: this.settings.jwtAudience }),
    };
    const allowed = this.allowedAlgorithms();
    if (!allowed.includes(alg)) return refused("alg_not_allowed", `alg ${JSON.stringify(alg.slice(0, 20))} is not accepted here: this server verifies ${allowed.join(", ") || "no JWT"}`);
    try {
      const { payload } =
        alg === "HS256" ? await jwtVerify(token, this.secret!, { ...options, algorithms: ["HS256"] }) : await jwtVerify(token, this.settings.keys!.current.verifyKey, { ...options, algorithms: [...asymmetricAlgorithms] });
      return identityOf(payload);
    } catch (error) {
      return refusalOf(error);
    }
  }

  /** HS256 with a secret; the asymmetric ones with a key file. */
  private allowedAlgorithms(): string[] {
    return [...(this.secret === null ? [] : ["HS256"]), ...(this.settings.keys === null ? [] : asymmetricAlgorithms)];
  }
}

/** A verified payload's identity: `sub`, optional `name`, and the rights its `scope` grants. */
function identityOf(payload: JWTPayload): Verdict {
  const { sub, name, scope } = payload as JWTPayload & { name?: unknown; scope?: unknown };
  if (typeof sub !== "string" || sub === "" || sub.length > maxClaimLength) return refused("invalid_claims", `sub must be a string of 1 to ${maxClaimLength} characters`);
  if (name !== undefined && (typeof name !== "string" || name.length > maxClaimLength)) return refused("invalid_claims", `name must be a string of at most ${maxClaimLength} characters`);
  const rights = parseScope(scope);
  if (isScopeError(rights)) return refused("no_scope", rights.message);
  const identity: Identity = name === undefined ? { user: sub, rights, source: "jwt" } : { user: sub, name, rights, source: "jwt" };
  return { ok: true, identity, expiresAtMs: (payload.exp! + clockLeewaySeconds) * 1000 };
}

/** The reason a `jose` error stands for. */
function refusalOf(error: unknown): Refused {
  if (error instanceof errors.JWTExpired) return refused("expired", "it has expired: get a fresh one");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return refused("not_yet_valid", "it is not valid yet (nbf)");
    if (error.claim === "iss") return refused("wrong_issuer", "it was issued by another issuer than this server trusts");
    if (error.claim === "aud") return refused("wrong_audience", "it is meant for another audience");
    return refused("invalid_claims", `claim ${error.claim} is missing or invalid (sub and exp are required)`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return refused("unknown_key", "no key of this server matches its kid and algorithm");
  if (error instanceof errors.JWSSignatureVerificationFailed) return refused("bad_signature", "its signature does not verify");
  if (error instanceof errors.JOSEAlgNotAllowed) return refused("alg_not_allowed", "its algorithm is not accepted here");
  return refused("malformed", "it is not a well-formed signed JWT");
}

function refused(reason: AuthFailureReason, message: string): Refused {
  return { ok: false, reason, message };
}
