-- astcti configuration, schema version 4 (migration 3 -> 4).
-- Frozen once released: a change is a new migration (config_v5.sql), never
-- an edit of this file. testdata/schema/config_v4.sql keeps the full schema
-- of version 4 to test upgrades from.

-- audit: the configurator's changes to manager users (their own database,
-- users.db, holds no log) are recorded here too, as entity 'manager' with
-- the users' row id and userid: who created, renamed, disabled or enabled
-- a manager user or set its password, and when (never a password or a
-- hash). SQLite cannot change a CHECK constraint in place: the table is
-- rebuilt (https://www.sqlite.org/lang_altertable.html, "12 steps"), its
-- entries kept with their ids, which the rows' versions name.
CREATE TABLE audit_v4 (
	id        INTEGER PRIMARY KEY,
	at        TEXT NOT NULL,
	userid    TEXT NOT NULL,
	action    TEXT NOT NULL
		CONSTRAINT audit_action_enum CHECK (action IN ('add', 'edit', 'remove', 'apply', 'rollback', 'import')),
	entity    TEXT NOT NULL
		CONSTRAINT audit_entity_enum CHECK (entity IN ('seat', 'operator', 'service', 'config', 'manager')),
	entity_id INTEGER NOT NULL DEFAULT 0,
	key       TEXT NOT NULL DEFAULT '',
	before    TEXT NOT NULL DEFAULT '',
	after     TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO audit_v4 (id, at, userid, action, entity, entity_id, key, before, after)
	SELECT id, at, userid, action, entity, entity_id, key, before, after FROM audit;
DROP TABLE audit;
ALTER TABLE audit_v4 RENAME TO audit;
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_entity ON audit (entity, entity_id);
