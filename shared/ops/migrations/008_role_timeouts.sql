-- Time limits that survive a transaction-mode pooler (PgBouncer, RDS Proxy, Neon, Supabase): such a
-- pooler refuses startup options and hands each transaction to any server session, so a limit set
-- per connection or with a session SET is lost. A per-role setting is applied by Postgres to every
-- new session of the role, pooled server sessions included. Server sessions the pooler opened before
-- this ran keep the old values until the pooler recycles them (PgBouncer: server_lifetime, or
-- RECONNECT on its admin console); docs/operations.md says so.
-- * statement_timeout 5 s: a request never waits on the database longer than that (the API answers
--   503); the client's read deadline (DB_READ_TIMEOUT_S, 6 s) is only the backstop for a silent server.
-- * idle_in_transaction_session_timeout 15 s: a Lambda frozen or killed inside a transaction must not
--   hold its row locks (and, behind the pooler, its server session) for long.
-- Migrations raise their own limit with SET LOCAL inside each file's transaction (shared.ops.migrate).
ALTER ROLE CURRENT_USER SET statement_timeout = '5s';
ALTER ROLE CURRENT_USER SET idle_in_transaction_session_timeout = '15s';
