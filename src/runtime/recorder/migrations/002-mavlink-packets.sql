-- skyport flight recorder, schema version 2: a MAVLink vehicle's raw packets
-- during its flights, for `.tlog` exports. The bytes are base64 text (portable:
-- SQLite's BLOB and PostgreSQL's BYTEA differ).
CREATE TABLE mavlink_packets (
  -- Time-ordered (UUIDv7): two packets of one millisecond keep their order.
  id TEXT PRIMARY KEY,
  drone TEXT NOT NULL,
  flight_id TEXT NOT NULL,
  time BIGINT NOT NULL,
  bytes TEXT NOT NULL
);
CREATE INDEX mavlink_packets_by_flight ON mavlink_packets (flight_id, time, id);
