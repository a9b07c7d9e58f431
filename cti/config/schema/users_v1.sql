-- astcti manager users (the configurator's logins), schema version 1.
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
