/**
 * The drone dashboard at GET /: wires one SkyportClient to the page's panels.
 *
 * Owns the page-level state (which drone is selected, the telemetry history)
 * and the translation of SDK events into panel updates. It draws nothing and
 * handles no input itself: each panel lives in its own module under ui/.
 */
import { secondsToEmpty } from "./battery-estimate.ts";
import { FleetHistory } from "./dashboard-history.ts";
import { flightPermission } from "./dashboard-permission.ts";
import { accessRefusal, SkyportClient, SkyportError, type SkyportTokens } from "../sdk/index.ts";
import { ConnectionStatus } from "./ui/connection.ts";
import { FlightControls } from "./ui/controls.ts";
import { byId } from "./ui/dom.ts";
import { oneDecimal, shortSession } from "./ui/format.ts";
import { EmergencyDialog } from "./ui/emergency-dialog.ts";
import { CommandLog } from "./ui/log.ts";
import { FleetList } from "./ui/fleet-list.ts";
import { FlyHere } from "./ui/fly-here.ts";
import { FlightMap, type MapTiles, type MapVehicle, type MapView } from "./ui/map.ts";
import { homeOf } from "./ui/map-geo.ts";
import { MissionEditor, type MissionVehicle } from "./ui/mission-editor.ts";
import { PilotBar } from "./ui/pilot.ts";
import { batteryDangerPercent, batteryLevel, batteryWarnPercent, TelemetryReadouts } from "./ui/readouts.ts";
import { EventJournal } from "./ui/event-journal.ts";
import { eventSeverity, spokenAlert } from "./ui/event-severity.ts";
import { GamepadFlight } from "./ui/gamepad.ts";
import type { VelocityArgs } from "./ui/hold-to-fly.ts";
import { SignIn } from "./ui/sign-in.ts";
import { stepOnto } from "./ui/step-onto.ts";
import { VoiceAlerts } from "./ui/voice-alerts.ts";
import { StatusStrip } from "./ui/status-strip.ts";
import { Sparkline } from "./ui/sparkline.ts";
import { sameServerSocketUrl } from "./socket-url.ts";
import type { CommandName, MissionItem, MissionMessageType, MissionProgressData } from "../../protocol/index.ts";
import { FlightsPanel } from "./ui/flights-panel.ts";
import { TelemetryRate } from "./ui/telemetry-rate.ts";

/** Where the selected drone is remembered between visits. */
const selectedDroneStorageKey = "skyport.dashboard.drone";
/** How often the status strip's server round trip is measured while connected, milliseconds. */
const roundTripEveryMs = 2000;

const signIn = new SignIn({ signIn: (tokens) => void signInWith(tokens) });
/** Set while the server has warned that the token expires: the next sign-in refreshes it in place instead of reconnecting. */
let expiringWarned = false;
const client = new SkyportClient({ url: sameServerSocketUrl(window.location, "/drone"), ...signIn.current });
const history = new FleetHistory();
let drones: string[] = [];
let selected: string | null = null;

const log = new CommandLog(byId("command-log", HTMLOListElement));
const journal = new EventJournal();
const voice = new VoiceAlerts();
const logFilter = byId("log-filter", HTMLSelectElement);
logFilter.addEventListener("change", () => (byId("command-log", HTMLOListElement).dataset.filter = logFilter.value));
// Events heard earlier in this tab come back after a reload, with their times and severities.
const restored = journal.load();
if (restored.length > 0) {
  for (const event of restored) log.event(event.drone, event.kind, event.message, event.severity, event.time);
  log.note(`Above: ${restored.length === 1 ? "1 event" : `${restored.length} events`} from before the page was reloaded`);
}
const connection = new ConnectionStatus();
const telemetryRate = new TelemetryRate((maxHz) => applyTelemetryRate(maxHz));
/** Whether the chosen telemetry rate was asked of the server since the page loaded (the SDK asks it again after a reconnection). */
let telemetryRateApplied = false;
const dialog = new EmergencyDialog();
const pilotBar = new PilotBar({
  select(drone) {
    selectDrone(drone);
  },
  claim() {
    if (selected) void lease("claim", selected);
  },
  release() {
    if (selected) void lease("release", selected);
  },
});
const controls = new FlightControls({
  send: (name, args) => void sendCommand(name, args),
  fly: (velocity) => flyContinuously(velocity),
  confirmEmergency: () => dialog.confirm(selected ?? "the drone"),
  denied: () => pilotBar.flashReason(),
  modalOpen: () => dialog.isOpen || signIn.isOpen,
});
const readouts = new TelemetryReadouts();
// A gamepad flies like a held key: the sticks give the velocity while this page may fly.
new GamepadFlight(
  (velocity) => flyContinuously(velocity),
  () => selected !== null && client.isPilot(selected) && client.state === "open",
  (count) => log.note(count > 0 ? "Gamepad connected: the sticks fly the drone while you hold them" : "Gamepad disconnected"),
);
const strip = new StatusStrip();
/** The latest measured round trip to the server, ms; null while unknown. */
let roundTripMs: number | null = null;
const map = new FlightMap(byId("map", HTMLElement), byId("map-legend", HTMLElement), byId("map-notice", HTMLElement), mapView);
const flyHere = new FlyHere(map.map, {
  mayFly: () => selected !== null && client.isPilot(selected) && client.state === "open",
  denied: () => pilotBar.flashReason(),
  selected: () => (selected === null ? null : { drone: selected, altitude: history.of(selected).latest?.position.z ?? 0 }),
  fly: (where, altitude) => void sendCommand("gotogeo", [where.lat, where.lon, altitude]),
});
// A click on another vehicle selects it; anywhere else it adds a waypoint while planning, else it is fly-here for the selected one.
map.onPick((where, at, vehicle) => (vehicle !== null && vehicle !== selected ? selectDrone(vehicle) : missions.pick(where) || flyHere.pick(where, at)));
// ------------------------------------------------------------ missions (plan, send, follow)

/** The geofence the welcome announced, for checking plans in the page; null before it. */
let missionFence: { radiusMetres: number; ceilingMetres: number } | null = null;
const missions = new MissionEditor(map.map, {
  mayFly: (drone) => client.isPilot(drone) && client.state === "open",
  send: (drone, type, items) => sendMission(drone, type, items),
  vehicle: (drone) => missionVehicle(drone),
  fence: () => missionFence,
  planningChanged: () => renderMap(),
});
/** The selected vehicle's home at the last look (to a metre or so), or "": the route is redrawn when it is first known or moves (an autopilot's GPS fix). */
let missionHomeKey = "";

/** Where a vehicle's home is, from its latest frame (null fields until it has said where it is). */
function missionVehicle(drone: string): MissionVehicle {
  const frame = history.of(drone).latest ?? null;
  const home = frame === null ? null : homeOf(frame);
  return { home, homeAltitudeMsl: frame?.altitudeMsl == null ? null : frame.altitudeMsl - frame.position.z };
}

/** Sends a mission message, logged like a command: null when the vehicle did it, else why not; a refusal rejects (naming the item). */
async function sendMission(drone: string, type: MissionMessageType, items?: MissionItem[]): Promise<string | null> {
  const entry = log.command(drone, items === undefined ? type : `mission upload (${items.length} items)`);
  const sentAt = performance.now();
  try {
    const handle = await client.mission(drone, type, items);
    entry.acked(handle.roundTripMs);
    const done = await handle.done;
    if (done.status === "completed") {
      entry.completed(performance.now() - sentAt);
      return null;
    }
    const reason = done.reason ?? "the vehicle did not do it";
    entry.failed(reason);
    return reason;
  } catch (error) {
    if (error instanceof SkyportError) entry.refused(error.code, error.message);
    else entry.refused("client", error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/** The last mission state logged per vehicle, so the log says each change once. */
const missionStates = new Map<string, MissionProgressData["state"]>();
client.on("mission", (data) => {
  missionStates.delete(data.drone);
  missions.missionChanged(data);
});
client.on("missionProgress", (data) => {
  if (missionStates.get(data.drone) !== data.state) {
    missionStates.set(data.drone, data.state);
    const why = data.reason === undefined ? "" : ` (${data.reason})`;
    log.note(`${data.drone}: mission ${data.state}${why}`, data.state === "aborted" ? "danger" : data.state === "paused" ? "warn" : "info");
  }
  missions.progressed(data);
});

// ------------------------------------------------------------ fleet list
const fleetList = new FleetList(byId("fleet-list", HTMLTableSectionElement), (drone) => selectDrone(drone), (drone) => history.of(drone).latest, () => client.session);
void loadMapTiles();
const altitudeChart = new Sparkline(byId("altitude-sparkline", HTMLCanvasElement), byId("altitude-range", HTMLElement), {
  floor: 0,
  minimumTop: 5,
  fill: true,
  colour: (theme) => theme.accent,
  caption: (min, max) => `${oneDecimal(min)}–${oneDecimal(max)} m`,
});
const batteryChart = new Sparkline(byId("battery-sparkline", HTMLCanvasElement), byId("battery-range", HTMLElement), {
  floor: 0,
  minimumTop: 100,
  fixedTop: 100,
  fill: false,
  thresholds: [
    { value: batteryWarnPercent, level: "warn" },
    { value: batteryDangerPercent, level: "bad" },
  ],
  colour: (theme, latest) => ({ ok: theme.ok, warn: theme.warn, danger: theme.bad })[batteryLevel(latest)],
  caption: (min, max) => `${min.toFixed(1)}–${max.toFixed(1)} %`,
});
byId("clear-trail", HTMLButtonElement).addEventListener("click", () => {
  if (selected === null) return;
  history.of(selected).clearTrail();
  renderMap();
});

// ------------------------------------------------------------ rendering

/** Controls, badge and reason follow the lease; recomputed whenever it may have changed. */
let permissionKey = "";
function renderPermission(): void {
  const permission = flightPermission({
    connection: client.state,
    drone: selected,
    session: client.session,
    pilot: selected === null ? null : client.pilotOf(selected),
  });
  const key = `${selected}|${permission.role}|${permission.reason}`;
  if (key === permissionKey) return;
  permissionKey = key;
  pilotBar.setPermission(selected, permission);
  controls.setEnabled(permission.canFly, permission.reason);
  if (!permission.canFly) dialog.cancel();
  missions.refresh();
}

function renderMap(): void {
  map.invalidate();
}

/** What the map draws when it paints: every vehicle heard, with its trail (asked once per paint, not per frame). */
function mapView(): MapView {
  const vehicles: MapVehicle[] = [];
  for (const id of drones) {
    const drone = history.of(id);
    if (drone.latest) vehicles.push({ frame: drone.latest, trail: drone.trail });
  }
  return { selected, vehicles, planning: missions.planning };
}

/** The map's tiles, as the server says (`GET /map.json`); without them the map draws offline. */
async function loadMapTiles(): Promise<void> {
  try {
    const response = await fetch("/map.json", { cache: "no-cache" });
    if (!response.ok) throw new Error(`GET /map.json answered ${response.status}`);
    map.setTiles((await response.json()) as MapTiles);
  } catch (error) {
    map.tilesUnavailable(error instanceof Error ? error.message : String(error));
  }
}

function renderStrip(): void {
  const drone = selected === null ? null : history.of(selected);
  const pilot = selected === null ? null : client.pilotOf(selected);
  strip.show({
    drone: selected,
    frame: drone?.latest ?? null,
    secondsToEmpty: drone ? secondsToEmpty(drone.battery) : null,
    pilot: pilot !== null && pilot === client.session ? "you" : pilot,
    ...pilotNameOf(drone?.latest ?? null),
    roundTripMs,
    linkUp: client.state === "open",
  });
}

/** The pilot's name from its signed token (display name, else user), when the frame carries one. */
function pilotNameOf(frame: { pilotName?: string; pilotUser?: string } | null): { pilotName?: string } {
  const name = frame?.pilotName ?? frame?.pilotUser;
  return name === undefined ? {} : { pilotName: name };
}

function renderSelected(): void {
  const drone = selected === null ? null : history.of(selected);
  renderStrip();
  readouts.show(selected, drone?.latest ?? null);
  altitudeChart.update(drone?.altitude ?? []);
  batteryChart.update(drone?.battery ?? []);
  renderMap();
}

function selectDrone(drone: string): void {
  if (!drones.includes(drone)) return;
  selected = drone;
  try {
    localStorage.setItem(selectedDroneStorageKey, drone);
  } catch {
    // Storage may be off (private mode); the choice then lasts for this visit.
  }
  dialog.cancel();
  missions.select(selected);
  missionHomeKey = "";
  pilotBar.setDrones(drones, selected);
  fleetList.setSelected(selected);
  renderSelected();
  renderPermission();
}

/** The drone to show after a welcome: the current one, the remembered one, or the server's first. */
function pickDrone(ids: readonly string[]): string | null {
  if (selected !== null && ids.includes(selected)) return selected;
  let remembered: string | null = null;
  try {
    remembered = localStorage.getItem(selectedDroneStorageKey);
  } catch {
    remembered = null;
  }
  if (remembered !== null && ids.includes(remembered)) return remembered;
  return ids[0] ?? null;
}

// ------------------------------------------------------------ actions

async function sendCommand(tapped: CommandName, tappedArgs: number[]): Promise<void> {
  const drone = selected;
  if (drone === null) return;
  // A move tapped while the last one still flies goes on from where that one ends (taps add up).
  const onto = tappedArgs.length === 1 ? stepOnto(history.of(drone).latest ?? null, tapped, tappedArgs[0]!) : null;
  const [name, args]: [CommandName, number[]] = onto === null ? [tapped, tappedArgs] : ["goto", onto];
  const label = onto === null ? [name, ...args].join(" ") : `${tapped} ${tappedArgs[0]} (from the last target: goto ${args.join(" ")})`;
  const entry = log.command(drone, label);
  const sentAt = performance.now();
  try {
    const handle = await client.command(drone, name, args);
    entry.acked(handle.roundTripMs);
    const done = await handle.done;
    if (done.status === "completed") entry.completed(performance.now() - sentAt);
    else entry.failed(done.reason ?? "the drone did not finish it");
  } catch (error) {
    if (error instanceof SkyportError) entry.refused(error.code, error.message);
    else entry.refused("client", error instanceof Error ? error.message : String(error));
  }
}

/** Whether hold-to-fly is streaming velocity now, and whether its streak already logged an error. */
let holdFlight: { drone: string; errorLogged: boolean } | null = null;

/**
 * Hold-to-fly: each velocity goes out unlogged (four a second), with one log
 * line when the hold begins and one error per streak; letting go sends a
 * logged `hover` so the drone stops at once rather than at the end of its hold.
 */
function flyContinuously(velocity: VelocityArgs | null): void {
  if (velocity === null) {
    const flying = holdFlight;
    holdFlight = null;
    if (flying !== null && flying.drone === selected) void sendCommand("hover", []);
    return;
  }
  const drone = selected;
  if (drone === null) return;
  if (holdFlight?.drone !== drone) {
    holdFlight = { drone, errorLogged: false };
    log.note(`${drone}: flying while held (velocity ${velocity.join(" ")}); let go to stop`);
  }
  const streak = holdFlight;
  client.command(drone, "velocity", velocity).catch((error: unknown) => {
    if (streak.errorLogged) return;
    streak.errorLogged = true;
    log.note(`${drone}: hold-to-fly ${error instanceof SkyportError ? `error ${error.code}: ${error.message}` : String(error)}`, "danger");
  });
}

async function lease(kind: "claim" | "release", drone: string): Promise<void> {
  const entry = log.command(drone, kind);
  const started = performance.now();
  try {
    await (kind === "claim" ? client.claim(drone) : client.release(drone));
    entry.granted(kind === "claim" ? "granted: you are the pilot" : "released: nobody flies it now", performance.now() - started);
  } catch (error) {
    const refusal = error instanceof SkyportError ? accessRefusal(error, "pilot", client.hasPilotToken) : null;
    if (refusal !== null) {
      entry.refused("unauthorized", refusal.message);
      signIn.open(sentence(refusal.message));
    } else if (error instanceof SkyportError) entry.refused(error.code, error.message);
    else entry.refused("client", error instanceof Error ? error.message : String(error));
  }
  renderPermission();
}

/**
 * New tokens from the sign-in dialog. After the server warned that the token
 * expires, and while connected, they refresh the session in place (lease and
 * subscriptions kept); otherwise the link is dialled again with them.
 */
async function signInWith(tokens: SkyportTokens): Promise<void> {
  if (!expiringWarned || client.state !== "open") return reconnectWith(tokens);
  try {
    await client.refreshTokens(tokens);
    expiringWarned = false;
    log.note("Signed in again: the session, its lease and its telemetry go on", "info");
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.note(`The fresh token was refused: ${message}`, "danger");
    signIn.open(sentence(`the fresh token was refused: ${message}`));
  }
}

/** Presents new tokens: closes the link and dials again with them (they apply to the next socket). */
async function reconnectWith(tokens: SkyportTokens): Promise<void> {
  await client.close();
  client.setTokens(tokens);
  log.note(tokens.token === undefined && tokens.pilotToken === undefined ? "Signed out: connecting without a token" : "Signed in: connecting with the new token", "info");
  client.connect();
}

/** "wrong viewer token" → "Wrong viewer token." */
function sentence(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith(".") ? "" : "."}`;
}

// ------------------------------------------------------------ SDK events

let wasOpen = false;
const dashboard = document.querySelector<HTMLElement>(".dashboard");
client.on("state", (state) => {
  connection.setState(state, client.session);
  if (state !== "open") roundTripMs = null;
  renderStrip();
  // Telemetry on screen stops being live the moment the link drops: say so by dimming it.
  if (dashboard) dashboard.dataset.link = state === "open" ? "live" : "down";
  if (state === "open") wasOpen = true;
  else if (wasOpen && state === "reconnecting") {
    wasOpen = false;
    log.note("Connection lost: reconnecting", "warn");
  }
  renderPermission();
});

client.on("reconnecting", (info) => connection.setReconnect(info));

/** Asks the server for every watched drone's telemetry at `maxHz` (null: every frame), and says so in the log. */
function applyTelemetryRate(maxHz: number | null): void {
  telemetryRateApplied = true;
  const watched = client.watching().filter((drone) => client.maxHzOf(drone) !== maxHz);
  if (watched.length === 0) return;
  for (const drone of watched) {
    client.subscribe(drone, undefined, undefined, maxHz === null ? {} : { maxHz }).catch((error: unknown) => {
      log.note(`Telemetry rate for ${drone} not changed: ${error instanceof Error ? error.message : String(error)}`, "warn");
    });
  }
  log.note(maxHz === null ? "Telemetry: every frame" : `Telemetry: at most ${maxHz} ${maxHz === 1 ? "frame" : "frames"} a second per drone, each the latest`);
}

client.on("welcome", (welcome) => {
  // The geofence is the server's: drawn and warned about as its welcome announces it.
  readouts.setGeofenceRadius(welcome.limits.maxRadiusMetres);
  missionFence = { radiusMetres: welcome.limits.maxRadiusMetres, ceilingMetres: welcome.limits.maxAltitudeMetres };
  map.setGeofence({ ...missionFence, ...(welcome.limits.geofencePolygon ? { polygon: welcome.limits.geofencePolygon } : {}) });
  drones = welcome.drones.map((drone) => drone.id);
  selected = pickDrone(drones);
  missions.select(selected);
  pilotBar.setDrones(drones, selected);
  fleetList.setDrones(drones, selected);
  connection.setState(client.state, welcome.session);
  log.note(`Connected as session ${welcome.session}: ${drones.length === 1 ? "1 drone" : `${drones.length} drones`} (${drones.join(", ")})`, "ok");
  renderSelected();
  permissionKey = "";
  renderPermission();
  measureRoundTrip();
  // A rate chosen on an earlier visit (or a data-saving browser's) is asked once the server says what this page watches.
  if (!telemetryRateApplied && telemetryRate.maxHz !== null) applyTelemetryRate(telemetryRate.maxHz);
});

client.on("telemetry", (frame) => {
  history.add(frame);
  fleetList.invalidate();
  if (frame.drone === selected) {
    renderSelected();
    renderPermission();
    const home = homeOf(frame);
    const homeKey = home === null ? "" : `${home.lat.toFixed(5)},${home.lon.toFixed(5)}`;
    if (homeKey !== missionHomeKey) {
      missionHomeKey = homeKey;
      missions.refresh();
    }
  } else {
    renderMap();
  }
});

client.on("lease", (change) => {
  renderStrip();
  const { drone, pilot, reason } = change;
  if (pilot === null) log.note(`${drone} has no pilot (${reason})`, "warn");
  else if (pilot === client.session) log.note(`You are the pilot of ${drone}`, "ok");
  else log.note(`${drone} is now flown by session ${shortSession(pilot)} (${reason})`);
  renderPermission();
});

client.on("event", (event) => {
  // The server restarted (or reset the drone): its telemetry starts again, so the charts break rather than draw a slope that never flew.
  if (event.kind === "stream_reset") history.of(event.drone).streamReset();
  const message =
    event.kind === "stream_reset"
      ? "the server restarted: this drone's telemetry starts again from what it reports now (the charts break here; earlier flight data is from before the restart)"
      : event.message;
  const severity = eventSeverity(event);
  if (event.kind === "token_expiring") {
    // Ask for a fresh token while there is time: signing in now keeps the lease and the telemetry.
    expiringWarned = true;
    signIn.open(`Your sign-in expires in ${Math.round(event.expiresInSeconds)} s. Paste a fresh token to stay connected: your lease and telemetry are kept.`);
  }
  log.event(event.drone, event.kind, message, severity);
  journal.record({ time: Date.now(), drone: event.drone, kind: event.kind, message, severity });
  if (severity === "danger") voice.announce(spokenAlert(event));
});

client.on("error", (error) => log.note(`error ${error.code}: ${error.message}`, "danger"));

// A refused token is not a dropped link: the SDK stops, and the operator is asked for the right one.
client.on("refused", (refusal) => {
  connection.setRefused(refusal.message);
  log.note(`Refused: ${refusal.message}`, "danger");
  signIn.open(sentence(refusal.message));
});

/** Measures the server round trip for the status strip (only while connected). */
function measureRoundTrip(): void {
  if (client.state !== "open") return;
  client.ping().then(
    (milliseconds) => {
      roundTripMs = milliseconds;
      renderStrip();
    },
    () => {},
  );
}
setInterval(measureRoundTrip, roundTripEveryMs);

// ------------------------------------------------------------ flights (issue 13): recorded flights and their replays

/** Replays of recorded flights come and go: listed, drawn and selectable like any vehicle while they play. */
function addVehicle(drone: string): void {
  if (!drones.includes(drone)) drones = [...drones, drone];
  pilotBar.setDrones(drones, selected);
  fleetList.setDrones(drones, selected);
}
const flights = new FlightsPanel({
  client,
  map: map.map,
  token: () => signIn.current.token ?? signIn.current.pilotToken,
  hooks: {
    watch(drone) {
      addVehicle(drone);
      selectDrone(drone);
    },
    problem: (message) => log.note(message, "danger"),
  },
});
client.on("vehicle", (change) => {
  if (change.change === "added") return log.note(`${change.drone}: a replay of ${change.recordedDrone}'s flight started`, "info");
  drones = drones.filter((drone) => drone !== change.drone);
  if (selected === change.drone) selected = pickDrone(drones);
  pilotBar.setDrones(drones, selected);
  fleetList.setDrones(drones, selected);
  log.note(`${change.drone} ended (${change.reason ?? "stopped"})`, "info");
  renderSelected();
  renderPermission();
});
client.on("welcome", (welcome) => flights.connected(welcome.drones.filter((drone) => drone.replay === undefined).map((drone) => drone.id)));

renderSelected();
renderPermission();
client.connect();
