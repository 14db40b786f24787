/**
 * The TLS certificate and key skyport serves, read from their PEM files, at
 * start and again on SIGHUP.
 *
 * Owns reading and checking the pair (both files readable, the certificate
 * parseable, the key its own) and describing it for the log. It never serves:
 * `app.ts` hands the pair to `Bun.serve`.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

/** A certificate chain and its key, as `Bun.serve`'s `tls` option takes them. */
export interface TlsPair {
  cert: string;
  key: string;
  /** The leaf certificate's subject, e.g. `CN=sky.example`, for the log. */
  subject: string;
  /** When the leaf certificate expires, ISO 8601. */
  notAfter: string;
}

/** A certificate or key that cannot be served: says which file, and why. */
export class TlsError extends Error {
  override name = "TlsError";
}

/**
 * Reads and checks the pair.
 * @throws TlsError naming the file and the problem: unreadable, not a PEM certificate, or a key that does not match.
 */
export function readTlsPair(certFile: string, keyFile: string): TlsPair {
  const cert = readText(certFile, "--tls-cert");
  const key = readText(keyFile, "--tls-key");
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (error) {
    throw new TlsError(`--tls-cert ${certFile} must be a PEM certificate (-----BEGIN CERTIFICATE-----): ${messageOf(error)}`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new TlsError(`--tls-key ${keyFile} must be a PEM private key: ${messageOf(error)}`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new TlsError(`--tls-key ${keyFile} is not the private key of the certificate in ${certFile} (${leaf.subject})`);
  return { cert, key, subject: leaf.subject.replaceAll("\n", ", "), notAfter: new Date(leaf.validTo).toISOString() };
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new TlsError(`cannot read ${flag} ${file}: ${messageOf(error)}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
