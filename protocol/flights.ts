/**
 * The flight recorder's HTTP API shapes (`/api/flights`, docs/recorder.md),
 * shared by the server's handlers and the CLI. Types only; times are Unix
 * milliseconds, distances metres, battery percent.
 */

/** What a flight id looks like: a drone id, a dash, whole milliseconds (`alpha-1767225600000`). */
export const flightIdPattern = /^[a-z0-9_-]{1,32}-\d{1,15}$/;

/** A recorded flight as `GET /api/flights` lists it. */
export interface RecordedFlight {
  /** The drone id, a dash and the start in ms: `alpha-1767225600000`. */
  id: string;
  drone: string;
  startedAt: number;
  /** Null while the flight is open. */
  endedAt: number | null;
  /** `landed`, `emergency` or `link_lost`; null while open. */
  endReason: string | null;
  /** Highest altitude above home. */
  maxAltitude: number;
  /** Horizontal distance flown. */
  distance: number;
  batteryStart: number;
  batteryEnd: number;
  /** The first session that piloted it, or null. */
  pilot: string | null;
  /** The signed-in user behind `pilot` (a JWT's `sub`), or null. */
  pilotUser: string | null;
  /** Frames recorded for it. */
  frames: number;
  /** True while the vehicle is still in this flight. */
  open: boolean;
}

/** `GET /api/flights`: a page, newest first; `next` is the `cursor` of the following page, or null. */
export interface FlightList {
  flights: RecordedFlight[];
  next: string | null;
}
