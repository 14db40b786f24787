/**
 * What `watch`, `fly` and `send` share: their flags, the first connection
 * (which must succeed: only after it does does the SDK's reconnection take
 * over), picking the drone, and the one-line wording of acks, completions
 * and errors. Printing is left to each command.
 */
import { describeStatus, flightOfReplay, isReplayId, requestArgs, type DroneRequest } from "../../../protocol/index.ts";
import { UsageError, webSocketUrlFlag, type Flags } from "../args.ts";
import { describeConnectFailure } from "../connect-failure.ts";
import { accessRefusal, defaultProtocols, SkyportClient, SkyportError, type AccessRefusal, type CommandAckFor, type CommandHandle, type DoneData, type SkyportTokens, type SubscribeOptions, type WelcomeData } from "../../sdk/index.ts";

export const defaultDroneUrl = "ws://localhost:8080/drone";

/** The valued flags every drone command takes. */
export const droneFlags = ["url", "drone", "token"] as const;
/** The valued flags of the commands that fly (`fly`, `send`). */
export const pilotFlags = [...droneFlags, "pilot-token"] as const;

/** The environment variables that stand in for `--token` and `--pilot-token`. */
export const tokenEnv = { token: "SKYPORT_TOKEN", pilotToken: "SKYPORT_PILOT_TOKEN" } as const;

/** The `--url`, `--drone` and `--token` lines of each command's usage. */
export const droneFlagsUsage = `  --url URL    the /drone endpoint (default ${defaultDroneUrl})
  --drone ID   the drone (default: the server's default drone, alpha out of the box)
  --token T    the viewer token, if the server needs one (default: $${tokenEnv.token})`;

/** The `--pilot-token` line of `fly` and `send`. */
export const pilotTokenUsage = `  --pilot-token T  the pilot token for the claim (default: $${tokenEnv.pilotToken}, else the viewer token)`;

/** Where to connect, which drone, and the tokens to present. */
export interface DroneTarget {
  url: URL;
  /** The drone asked for, or undefined for the server's default drone. */
  drone: string | undefined;
  tokens: SkyportTokens;
}

/** The target from the flags, a token flag winning over its environment variable. */
export function droneTarget(flags: Flags<"url" | "drone" | "token", never> & { "pilot-token"?: string }, env: Record<string, string | undefined> = process.env): DroneTarget {
  const token = tokenFrom("--token", flags.token, tokenEnv.token, env);
  const pilotToken = tokenFrom("--pilot-token", flags["pilot-token"], tokenEnv.pilotToken, env);
  const tokens: SkyportTokens = { ...(token === undefined ? {} : { token }), ...(pilotToken === undefined ? {} : { pilotToken }) };
  return { url: webSocketUrlFlag(flags.url ?? defaultDroneUrl), drone: flags.drone, tokens };
}

/** A token from its flag, else its environment variable (an empty variable counts as unset); an empty flag is a mistake. */
function tokenFrom(flag: string, value: string | undefined, variable: string, env: Record<string, string | undefined>): string | undefined {
  if (value !== undefined) {
    if (value === "") throw new UsageError(`${flag} needs a non-empty token: received ""`);
    return value;
  }
  const fromEnv = env[variable];
  return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
}

/** A welcomed client on the chosen drone, watching only that drone. */
export interface DroneLink {
  client: SkyportClient;
  welcome: WelcomeData;
  drone: string;
}

/**
 * Connects, checks the drone exists and narrows the subscriptions to it
 * (with `subscribeOptions`, e.g. a `maxHz`).
 * If the first connection fails (saying what the server answered), the
 * token is refused, or the drone is unknown, prints one line and returns
 * null: the caller exits 1. Later drops are the SDK's to repair.
 */
export async function openDroneLink(command: string, target: DroneTarget, subscribeOptions: SubscribeOptions = {}): Promise<DroneLink | null> {
  const client = new SkyportClient({ url: target.url.href, ...target.tokens });
  const first = await new Promise<WelcomeData | AccessRefusal | null>((resolve) => {
    const stops = [
      client.on("welcome", (welcome) => finish(welcome)),
      client.on("refused", (refusal) => finish(refusal)),
      client.on("reconnecting", () => finish(null)),
    ];
    function finish(result: WelcomeData | AccessRefusal | null) {
      for (const stop of stops) stop();
      resolve(result);
    }
    client.connect();
  });
  if (first === null) {
    await client.close();
    console.error(`skyport ${command}: cannot connect to ${await describeConnectFailure(target.url, defaultProtocols)}`);
    return null;
  }
  if ("kind" in first) {
    await client.close();
    console.error(`skyport ${command}: ${refusalLine(first)}`);
    return null;
  }
  const known = first.drones.map((drone) => drone.id);
  // With ?drone=a,b the server's default for this session is the first listed; otherwise its first drone.
  const drone = target.drone ?? first.subscribed[0] ?? known[0];
  // A replay vehicle not playing yet is started: any viewer of the recorded vehicle may.
  if (drone !== undefined && isReplayId(drone) && !known.includes(drone)) {
    const started = await client.replayStart(flightOfReplay(drone)).then(
      () => null,
      (error: unknown) => describeError(error),
    );
    if (started !== null) {
      await client.close();
      console.error(`skyport ${command}: cannot replay ${flightOfReplay(drone)}: ${started}`);
      return null;
    }
    known.push(drone);
  }
  if (drone === undefined || !known.includes(drone)) {
    await client.close();
    console.error(`skyport ${command}: no drone ${JSON.stringify(drone ?? "")}: this server flies ${known.join(", ")}`);
    return null;
  }
  for (const other of first.subscribed) if (other !== drone) await client.unsubscribe(other);
  // A throttled view (`--max-hz`) subscribes again with its rate, replacing the full-rate `?drone=` subscription.
  if (!first.subscribed.includes(drone) || subscribeOptions.maxHz !== undefined) await client.subscribe(drone, undefined, undefined, subscribeOptions);
  return { client, welcome: first, drone };
}

/**
 * Claims the drone. On refusal returns the one line to print, e.g.
 * `alpha is already flown by session 1a2b3c4d`; null on success.
 */
export async function claimOrExplain(link: DroneLink): Promise<string | null> {
  try {
    await link.client.claim(link.drone);
    return null;
  } catch (error) {
    const pilot = link.client.pilotOf(link.drone);
    if (error instanceof SkyportError && error.code === "lease_taken" && pilot !== null) return `${link.drone} is already flown by session ${pilot}`;
    const refusal = error instanceof SkyportError ? accessRefusal(error, "pilot", link.client.hasPilotToken) : null;
    if (refusal !== null) return refusalLine(refusal);
    return describeError(error);
  }
}

/** A refused token in operator words, with where the CLI takes that token from. */
export function refusalLine(refusal: AccessRefusal): string {
  switch (refusal.kind) {
    case "viewer_token_required":
    case "viewer_token_wrong":
      return `${refusal.message}: pass --token or set ${tokenEnv.token}`;
    case "pilot_token_required":
    case "pilot_token_wrong":
      return `${refusal.message}: pass --pilot-token or set ${tokenEnv.pilotToken}`;
    case "token_refused":
      return `token refused: ${refusal.message}`;
  }
}

/** Releases the lease if held and closes; never throws (the CLI is on its way out). */
export async function closeDroneLink(link: DroneLink): Promise<void> {
  if (link.client.isPilot(link.drone) && link.client.state === "open") await link.client.release(link.drone).catch(() => {});
  await link.client.close();
}

/** Sends a parsed request through the SDK as a typed command. */
export function sendRequest(link: DroneLink, request: DroneRequest): Promise<CommandHandle> {
  return link.client.command(link.drone, request.name, requestArgs(request));
}

/** `x=1.00 y=-2.50 z=10.00`: metres, to the centimetre. */
export function describePosition(point: { x: number; y: number; z: number }): string {
  return `x=${point.x.toFixed(2)} y=${point.y.toFixed(2)} z=${point.z.toFixed(2)}`;
}

/** `ack forward 10 → target x=.. y=.. z=.. (12 ms)`. */
export function describeAck(label: string, handle: CommandHandle): string {
  const target = "target" in handle.ack ? handle.ack.target : undefined;
  return `ack ${label}${target ? ` → target ${describePosition(target)}` : ""} (${handle.roundTripMs} ms)`;
}

/** `done forward 10 completed (2.1 s)` or `done forward 10 failed: superseded by hover (0.4 s)`. */
export function describeDone(label: string, done: DoneData, elapsedMs: number): string {
  const outcome = done.status === "completed" ? "completed" : `failed: ${done.reason ?? "no reason given"}`;
  return `done ${label} ${outcome} (${(elapsedMs / 1000).toFixed(1)} s)`;
}

/** `status alpha hovering x=0.00 ... pilot=you`: a status ack as one line, in the server's own status wording. */
export function describeStatusReport(report: CommandAckFor<"status">, session: string | null): string {
  return `status ${describeStatus(report.status, session)}`;
}

/** `error geofence: ...` for the server's refusals and the SDK's own failures; a plain message otherwise. */
export function describeError(error: unknown): string {
  // Same wording as the server's text replies (protocol's errorLine), for the SDK's own codes too.
  if (error instanceof SkyportError) return `error ${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
