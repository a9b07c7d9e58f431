-- astcti configuration, schema version 3 (migration 2 -> 3).
-- Frozen once released: a change is a new migration (config_v4.sql), never an
-- edit of this file. testdata/schema/config_v3.sql keeps the full schema of
-- version 3 to test upgrades from.

-- version: the version of the row's last change, set by every write that
-- changes what a read of the row returns (a service's variables and members
-- share the service's). The Store gives a change the id of its audit entry
-- as version, so versions only grow, even across a removed row's reused id.
-- A save or delete names the version it read and is refused when the row
-- has moved on (config.ErrStale): two administrators editing one row never
-- overwrite each other in silence. The rows of a version 2 database start
-- at 1.
ALTER TABLE seats ADD COLUMN version INTEGER NOT NULL DEFAULT 1
	CONSTRAINT seat_version_positive CHECK (version >= 1);
ALTER TABLE operators ADD COLUMN version INTEGER NOT NULL DEFAULT 1
	CONSTRAINT operator_version_positive CHECK (version >= 1);
ALTER TABLE services ADD COLUMN version INTEGER NOT NULL DEFAULT 1
	CONSTRAINT service_version_positive CHECK (version >= 1);

-- audit: every change made through the working database's Store: who (the
-- manager user's userid, '' for a program), when (RFC 3339 UTC, to the
-- nanosecond), what (entity, its row id and key, action) and the row before
-- and after as JSON ('' when there is none). Snapshots are written without
-- its rows: it never reaches the server's directory.
CREATE TABLE audit (
	id        INTEGER PRIMARY KEY,
	at        TEXT NOT NULL,
	userid    TEXT NOT NULL,
	action    TEXT NOT NULL
		CONSTRAINT audit_action_enum CHECK (action IN ('add', 'edit', 'remove', 'apply', 'rollback', 'import')),
	entity    TEXT NOT NULL
		CONSTRAINT audit_entity_enum CHECK (entity IN ('seat', 'operator', 'service', 'config')),
	entity_id INTEGER NOT NULL DEFAULT 0,
	key       TEXT NOT NULL DEFAULT '',
	before    TEXT NOT NULL DEFAULT '',
	after     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_entity ON audit (entity, entity_id);
