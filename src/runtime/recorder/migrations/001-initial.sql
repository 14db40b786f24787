-- skyport flight recorder, schema version 1.
-- Portable SQL: the same text runs on SQLite and PostgreSQL (TEXT, BIGINT,
-- DOUBLE PRECISION, no AUTOINCREMENT/SERIAL: ids are made by the recorder).
-- Times are wall-clock milliseconds since the Unix epoch.

-- A flight: one vehicle from takeoff to landing (or emergency, or link loss).
CREATE TABLE flights (
  id TEXT PRIMARY KEY,
  drone TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  -- NULL while the flight is open.
  ended_at BIGINT,
  -- landed | emergency | link_lost | shutdown | restart
  end_reason TEXT,
  max_altitude DOUBLE PRECISION NOT NULL,
  distance DOUBLE PRECISION NOT NULL,
  battery_start DOUBLE PRECISION NOT NULL,
  battery_end DOUBLE PRECISION NOT NULL,
  -- The session that piloted it first, NULL when nobody did (failsafe only).
  pilot TEXT,
  -- The user the pilot's session signed in as (a JWT's sub), or NULL.
  pilot_user TEXT,
  frames BIGINT NOT NULL
);
CREATE INDEX flights_by_start ON flights (started_at, id);
CREATE INDEX flights_by_drone ON flights (drone, started_at);

-- Telemetry frames as published (the frame's data JSON), decimated by --record-hz;
-- frames on the ground belong to no flight and are kept at 1 Hz.
CREATE TABLE frames (
  drone TEXT NOT NULL,
  epoch TEXT NOT NULL,
  seq BIGINT NOT NULL,
  time BIGINT NOT NULL,
  flight_id TEXT,
  data TEXT NOT NULL,
  PRIMARY KEY (drone, epoch, seq)
);
CREATE INDEX frames_by_flight ON frames (flight_id, time, seq);
CREATE INDEX frames_by_time ON frames (time);

-- Every command: the request, its answer, and how it ended.
CREATE TABLE commands (
  id TEXT PRIMARY KEY,
  drone TEXT NOT NULL,
  flight_id TEXT,
  session TEXT NOT NULL,
  -- The sender's signed-in user (a JWT's sub), or NULL.
  user_name TEXT,
  -- The request id as the client sent it, JSON (a string or a number), or NULL.
  request_id TEXT,
  -- The command as the client wrote it (its label) and as parsed, JSON.
  request TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  -- ack | error
  answer TEXT,
  -- The ack's target or the error's code and message, JSON.
  answer_detail TEXT,
  answered_at BIGINT,
  -- completed | failed, NULL until the command ends (or when it was refused).
  outcome TEXT,
  outcome_reason TEXT,
  ended_at BIGINT,
  duration_ms BIGINT
);
CREATE INDEX commands_by_flight ON commands (flight_id, received_at);
CREATE INDEX commands_by_time ON commands (received_at);

-- Lease changes, failsafe, geofence refusals, battery, landings, link, autopilot messages.
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  drone TEXT NOT NULL,
  flight_id TEXT,
  time BIGINT NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  -- The event's other facts (the wire event's data), JSON.
  details TEXT NOT NULL
);
CREATE INDEX events_by_flight ON events (flight_id, time);
CREATE INDEX events_by_time ON events (time);

-- Where each vehicle's telemetry stream stood at the last flush: restart recovery
-- carries seq on in the same epoch from here.
CREATE TABLE streams (
  drone TEXT PRIMARY KEY,
  epoch TEXT NOT NULL,
  seq BIGINT NOT NULL,
  time BIGINT NOT NULL,
  -- The open flight, if the vehicle was airborne.
  flight_id TEXT,
  -- The newest frame's data JSON, recorded or not (decimation): where the vehicle was.
  data TEXT NOT NULL
);
