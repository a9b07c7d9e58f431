-- astcti manager users (the configurator's logins), full schema of version 2.
-- A separate file from the configuration: it never reaches the server.
-- Frozen once released, like config_v1.sql.

PRAGMA application_id = 1095980117; -- 0x41535455, 'ASTU'

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	userid        TEXT NOT NULL
		CONSTRAINT user_userid_unique UNIQUE
		CONSTRAINT user_userid_format CHECK (userid <> '' AND userid NOT GLOB '*[^A-Za-z0-9._@-]*'),
	fullname      TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL CONSTRAINT user_password_bcrypt CHECK (password_hash GLOB '$2[aby]$*'),
	created_at    TEXT NOT NULL,
	enabled       INTEGER NOT NULL DEFAULT 1 CONSTRAINT user_enabled_bool CHECK (enabled IN (0, 1))
) STRICT;

-- version: the version of the row's last change, 1 for the rows of a
-- version 1 database. Every write that changes what a read of the row
-- returns increments it; an edit names the version it read and is refused
-- when the row has moved on (config.ErrStale), so two administrators
-- editing one manager user never overwrite each other in silence.
-- changed_at and changed_by say when (RFC 3339 UTC) and by whom (the
-- configurator's manager user, "shell:<os user>" for `astcti user`, ''
-- when unknown) the last change was made, for that refusal's message.
-- password_changed_at changes with every new password: a configurator
-- session started before it ends at its next request.
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1
	CONSTRAINT user_version_positive CHECK (version >= 1);
ALTER TABLE users ADD COLUMN changed_at TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN password_changed_at TEXT NOT NULL DEFAULT '';
