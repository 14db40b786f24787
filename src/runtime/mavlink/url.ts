/**
 * MAVLink link URLs as the MAVLink tools spell them (MAVProxy, mavlink-router):
 * `tcp:HOST:PORT` connects to a vehicle or SITL's TCP port. `udpin:` and
 * `udpout:` are recognised and refused as not supported yet, so the message
 * says so instead of "malformed".
 *
 * Pure parsing; returns a problem sentence instead of throwing, so the
 * configuration can name its flag.
 */

export interface MavlinkEndpoint {
  transport: "tcp";
  host: string;
  port: number;
}

/** The endpoint, or what is wrong with `raw` and what was expected. */
export function parseMavlinkUrl(raw: string): MavlinkEndpoint | { problem: string } {
  const match = /^([a-z]+):(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]+)):(\d{1,5})$/.exec(raw.trim());
  if (match === null) return { problem: `must be tcp:HOST:PORT, e.g. tcp:127.0.0.1:5760: received ${JSON.stringify(raw)}` };
  const [, scheme, v6, host, portText] = match;
  if (scheme === "udpin" || scheme === "udpout") return { problem: `${scheme}: links are not supported yet, only tcp:HOST:PORT: received ${JSON.stringify(raw)}` };
  if (scheme !== "tcp") return { problem: `must start with tcp: (tcp:HOST:PORT): received ${JSON.stringify(raw)}` };
  const port = Number(portText);
  if (port < 1 || port > 65535) return { problem: `the port must be from 1 to 65535: received ${JSON.stringify(raw)}` };
  return { transport: "tcp", host: v6 ?? host!, port };
}
