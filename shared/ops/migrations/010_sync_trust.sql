-- Sync and caches you can trust (issue 13).

-- 1. A conflict is a change-log entry (entity 'conflict', entity_id = the conflict's public id):
--    GET /sync delivers it to devices that were away; acknowledging it appends a tombstone.
ALTER TABLE changes DROP CONSTRAINT changes_entity_check;
ALTER TABLE changes ADD CONSTRAINT changes_entity_check CHECK (entity IN ('skill', 'profile', 'conflict'));

-- 2. The conflict inbox: a public id, where the losing write came from, and when a device acknowledged it.
--    REST writes that fail a precondition have no op_id.
ALTER TABLE sync_conflicts ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE sync_conflicts ADD COLUMN source text NOT NULL DEFAULT 'batch' CHECK (source IN ('batch', 'rest'));
ALTER TABLE sync_conflicts ADD COLUMN acked_at timestamptz;
ALTER TABLE sync_conflicts ALTER COLUMN op_id DROP NOT NULL;
CREATE UNIQUE INDEX sync_conflicts_public_id_key ON sync_conflicts (public_id);
-- GET /sync/conflicts pages a user's pending conflicts in id order.
CREATE INDEX sync_conflicts_pending_idx ON sync_conflicts (owner_id, id) WHERE acked_at IS NULL;

-- 3. Field-level last-write-wins for profile operations: when each profile field was last written
--    ({"display_name": "2026-…Z", …}); a field never written since this migration counts as updated_at.
ALTER TABLE users ADD COLUMN profile_field_times jsonb NOT NULL DEFAULT '{}'::jsonb;

-- 4. Immutable avatars: confirm serves a checked copy under avatars/<user>/served/ (a fresh key), never
--    the (still writable) upload key. Keys confirmed before this stay valid until replaced.
ALTER TABLE users DROP CONSTRAINT users_avatar_key_check;
ALTER TABLE users ADD CONSTRAINT users_avatar_key_check
    CHECK (avatar_key ~ '^avatars/[0-9a-f-]{36}/(served/)?[0-9a-f]{32}\.(png|jpg|webp)$');
