/**
 * MAVLink link URLs as the MAVLink tools spell them (MAVProxy, mavlink-router):
 * `tcp:HOST:PORT` connects to a vehicle or SITL's TCP port; `udpin:HOST:PORT`
 * listens where a vehicle or router sends (`udpin:0.0.0.0:14550`);
 * `udpout:HOST:PORT` sends to a vehicle that listens.
 *
 * Pure parsing; returns a problem sentence instead of throwing, so the
 * configuration can name its flag.
 */

export interface MavlinkEndpoint {
  transport: "tcp" | "udpin" | "udpout";
  host: string;
  port: number;
}

/** The endpoint, or what is wrong with `raw` and what was expected. */
export function parseMavlinkUrl(raw: string): MavlinkEndpoint | { problem: string } {
  const match = /^([a-z]+):(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]+)):(\d{1,5})$/.exec(raw.trim());
  if (match === null) return { problem: `must be tcp:HOST:PORT, udpin:HOST:PORT or udpout:HOST:PORT, e.g. tcp:127.0.0.1:5760: received ${JSON.stringify(raw)}` };
  const [, scheme, v6, host, portText] = match;
  if (scheme !== "tcp" && scheme !== "udpin" && scheme !== "udpout") {
    return { problem: `must start with tcp:, udpin: or udpout:: received ${JSON.stringify(raw)}` };
  }
  const port = Number(portText);
  if (port < 1 || port > 65535) return { problem: `the port must be from 1 to 65535: received ${JSON.stringify(raw)}` };
  return { transport: scheme, host: v6 ?? host!, port };
}
