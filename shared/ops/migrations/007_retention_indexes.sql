-- Indexes for the daily maintenance purges (functions/maintenance): each purge pages through rows
-- older than a retention window, so without an index on that column every page would scan its
-- table. ws_connections is purged by expires_at or connected_at, so both are indexed.
CREATE INDEX applied_operations_created_idx ON applied_operations (created_at);
CREATE INDEX sync_conflicts_created_idx ON sync_conflicts (created_at);
CREATE INDEX ws_connections_expires_idx ON ws_connections (expires_at);
CREATE INDEX ws_connections_connected_idx ON ws_connections (connected_at);
CREATE INDEX digest_sends_claimed_idx ON digest_sends (claimed_at);
CREATE INDEX refresh_families_revoked_idx ON refresh_families (revoked_at) WHERE revoked_at IS NOT NULL;
