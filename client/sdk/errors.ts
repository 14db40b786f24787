/**
 * The one error type the SDK rejects with and emits: a code a program can
 * branch on, the message a person can read, and the request field at fault.
 */
import type { AuthFailureReason, ErrorCode } from "../../protocol/index.ts";

/** The client's own failure codes, beside the server's `ErrorCode`s. */
export type ClientErrorCode = "timeout" | "disconnected" | "closed" | "offline" | "internal";

/**
 * Why a request failed. `code` is the server's error code (`not_pilot`,
 * `geofence`, `out_of_range`...), or one of the client's own: `timeout` (no
 * reply within `requestTimeoutMs`), `disconnected` (the socket dropped before
 * the reply), `closed` (`close()` was called).
 */
export class SkyportError extends Error {
  override name = "SkyportError";
  /** The server's error code, or the client's own: `timeout`, `disconnected`, `closed`, `offline` (or `internal`, a bug). */
  readonly code: ErrorCode | ClientErrorCode;
  /** The offending request field, e.g. `data.args[0]`, when the server named one. */
  readonly field?: string;
  /** On `unauthorized`: why the server refused the token (`missing`, `wrong_token`, `expired`, `backoff`...), when it said. */
  readonly reason?: AuthFailureReason;

  constructor(code: ErrorCode | ClientErrorCode, message: string, field?: string, reason?: AuthFailureReason) {
    super(message);
    this.code = code;
    if (field !== undefined) this.field = field;
    if (reason !== undefined) this.reason = reason;
  }
}
