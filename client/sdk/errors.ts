/**
 * The one error type the SDK rejects with and emits: a code a program can
 * branch on, the message a person can read, and the request field at fault.
 */

/**
 * Why a request failed. `code` is the server's error code (`not_pilot`,
 * `geofence`, `out_of_range`...), or one of the client's own: `timeout` (no
 * reply within `requestTimeoutMs`), `disconnected` (the socket dropped before
 * the reply), `closed` (`close()` was called).
 */
export class SkyportError extends Error {
  override name = "SkyportError";
  /** The server's error code, or `timeout`, `disconnected` or `closed`. */
  readonly code: string;
  /** The offending request field, e.g. `data.args[0]`, when the server named one. */
  readonly field?: string;

  constructor(code: string, message: string, field?: string) {
    super(message);
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}
