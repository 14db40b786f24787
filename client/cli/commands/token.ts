/**
 * `cli.ts token`: mints an HS256 JWT for development and tests, signed with
 * the server's `--jwt-secret`, and prints it on stdout (nothing else, so
 * `$(...)` captures it). Production tokens come from an identity provider.
 * Never prints or logs the secret.
 */
import { SignJWT } from "jose";
import { parseFlags, UsageError } from "../args.ts";

/** Shortest secret, bytes: what the server requires of `--jwt-secret` (RFC 7518 section 3.2). */
const minSecretBytes = 32;
/** Longest lifetime minted, seconds: a development token that outlives a day is a credential left lying around. */
const maxTtlSeconds = 7 * 24 * 3600;
const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

export const tokenUsage = `usage: skyport token --sub USER --scope "RIGHTS" [--secret S] [--ttl 1h] [--name NAME] [--iss ISS] [--aud AUD]

Prints an HS256 JSON Web Token for a server started with --jwt-secret S
(or SKYPORT_JWT_SECRET). RIGHTS is space-separated: view:<drone|*>,
fly:<drone|*> (implies view), admin (take over, force-release).

flags:
  --secret S   the server's --jwt-secret, at least ${minSecretBytes} bytes (default: env SKYPORT_JWT_SECRET; prefer it: flags show in ps)
  --sub USER   who the token speaks for: shown as the pilot and recorded
  --scope R    the rights, e.g. "fly:alpha view:*"
  --ttl T      lifetime: a number with s, m, h or d, at most 7d (default 1h)
  --name NAME  display name
  --iss ISS    issuer (for a server started with --jwt-issuer)
  --aud AUD    audience (for a server started with --jwt-audience)
  --help       print this help`;

/** `90s`, `15m`, `1h`, `2d` → seconds; a UsageError naming the flag otherwise. */
export function parseTtl(raw: string): number {
  const match = /^(\d{1,7})([smhd])$/.exec(raw.trim());
  const seconds = match ? Number(match[1]) * unitSeconds[match[2]!]! : NaN;
  if (!(seconds > 0 && seconds <= maxTtlSeconds)) throw new UsageError(`--ttl must be a number with s, m, h or d, from 1s to 7d: received ${JSON.stringify(raw)}`);
  return seconds;
}

export async function runToken(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const args = parseFlags(argv, ["secret", "sub", "scope", "ttl", "name", "iss", "aud"]);
  if (args.flags.help) {
    console.log(tokenUsage);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`token takes no arguments: received ${JSON.stringify(args.positionals[0])}`);
  const secret = args.flags.secret ?? env.SKYPORT_JWT_SECRET;
  if (secret === undefined) throw new UsageError("token needs the server's secret: --secret S or env SKYPORT_JWT_SECRET");
  const bytes = new TextEncoder().encode(secret).length;
  if (bytes < minSecretBytes) throw new UsageError(`--secret must be at least ${minSecretBytes} bytes, as the server requires: received ${bytes}`);
  const { sub, scope, name, iss, aud } = args.flags;
  if (sub === undefined || sub.trim() === "") throw new UsageError("token needs --sub USER: who the token speaks for");
  if (scope === undefined || !/(^|\s)(view:\S+|fly:\S+|admin)(\s|$)/.test(scope)) {
    throw new UsageError(`--scope must name at least one right (view:<drone|*>, fly:<drone|*>, admin): received ${JSON.stringify(scope ?? "")}`);
  }
  const ttlSeconds = parseTtl(args.flags.ttl ?? "1h");
  const nowSeconds = Math.floor(Date.now() / 1000);
  const claims = { scope, ...(name === undefined ? {} : { name }) };
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(sub).setIssuedAt(nowSeconds).setExpirationTime(nowSeconds + ttlSeconds);
  if (iss !== undefined) jwt = jwt.setIssuer(iss);
  if (aud !== undefined) jwt = jwt.setAudience(aud);
  console.log(await jwt.sign(new TextEncoder().encode(secret)));
  return 0;
}
