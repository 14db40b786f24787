/**
 * Comparing a presented shared token (viewer, pilot) with the server's, in
 * constant time. Pure apart from hashing: no clock, no socket, and the
 * tokens are never logged or echoed from here.
 */
import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Compares a presented token with the expected one in constant time: both
 * are hashed to SHA-256 first, so the comparison runs over equal lengths and
 * response timing reveals nothing of the expected token, its length included.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(expected));
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
