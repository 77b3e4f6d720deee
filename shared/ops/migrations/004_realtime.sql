-- Realtime (issue 5): the WebSocket connections of each user, so a write can be pushed to every device.
-- Durable in Postgres (not only in a cache) so a device is not silently lost when a cache evicts;
-- rows whose $disconnect never came (AWS calls it best effort) are removed on the first fan-out that
-- gets 410 Gone for them, and rows past expires_at (API Gateway's 2 h maximum connection lifetime)
-- are ignored by the fan-out and swept when the same user connects again.

CREATE TABLE ws_connections (
    connection_id text PRIMARY KEY CHECK (char_length(connection_id) BETWEEN 1 AND 128),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    connected_at  timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL DEFAULT now() + interval '2 hours'
);
-- The fan-out reads "all connections of this user" on every write.
CREATE INDEX ws_connections_user_idx ON ws_connections (user_id);
