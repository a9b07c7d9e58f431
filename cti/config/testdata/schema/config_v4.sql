-- astcti configuration, schema version 4: the full schema after migrations
-- 0 -> 1 (schema/config_v1.sql), 1 -> 2 (schema/config_v2.sql), 2 -> 3
-- (schema/config_v3.sql) and 3 -> 4 (schema/config_v4.sql), frozen to
-- test upgrades from. Each table reads as sqlite_schema holds it after the
-- migrations (a column added by ALTER TABLE follows the last column).

PRAGMA application_id = 1095980099; -- 0x41535443, 'ASTC'

-- seats: an operator position, the PC's MAC and the phone's interface.
-- version (in seats, operators and services) counts the row's edits.
CREATE TABLE seats (
	id          INTEGER PRIMARY KEY,
	mac         TEXT NOT NULL
		CONSTRAINT seat_mac_unique UNIQUE
		CONSTRAINT seat_mac_format CHECK (length(mac) = 17 AND mac GLOB
			'[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]'),
	interface   TEXT NOT NULL
		CONSTRAINT seat_interface_unique UNIQUE
		CONSTRAINT seat_interface_format CHECK (interface GLOB '?*/?*' AND interface NOT GLOB '*[ &,|]*'),
	description TEXT NOT NULL DEFAULT ''
	, version   INTEGER NOT NULL DEFAULT 1
		CONSTRAINT seat_version_positive CHECK (version >= 1)) STRICT;

-- operators: people who log in on seats. password_hash is a salted PBKDF2 of
-- the MD5 hex the seat protocol sends, never the password.
CREATE TABLE operators (
	id            INTEGER PRIMARY KEY,
	username      TEXT NOT NULL
		CONSTRAINT operator_username_unique UNIQUE
		CONSTRAINT operator_username_format CHECK (username <> '' AND username NOT GLOB '*[^A-Za-z0-9._@-]*'),
	fullname      TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL
		CONSTRAINT operator_password_format CHECK (password_hash GLOB '$pbkdf2-sha256$i=*$*$*'),
	seat_id       INTEGER REFERENCES seats (id) ON DELETE SET NULL,
	enabled       INTEGER NOT NULL DEFAULT 1 CONSTRAINT operator_enabled_bool CHECK (enabled IN (0, 1)),
	begin_paused  INTEGER NOT NULL DEFAULT 0 CONSTRAINT operator_begin_paused_bool CHECK (begin_paused IN (0, 1))
	, version     INTEGER NOT NULL DEFAULT 1
		CONSTRAINT operator_version_positive CHECK (version >= 1)) STRICT;

-- services: telephone services of the dialplan (seed 2.2.1).
CREATE TABLE services (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL
		CONSTRAINT service_name_unique UNIQUE
		CONSTRAINT service_name_format CHECK (name <> ''),
	type         TEXT NOT NULL CONSTRAINT service_type_enum CHECK (type IN ('inbound', 'outbound')),
	context      TEXT NOT NULL CONSTRAINT service_context_format CHECK (context <> '' AND context NOT GLOB '*[^A-Za-z0-9_.+-]*'),
	is_queue     INTEGER NOT NULL DEFAULT 0 CONSTRAINT service_is_queue_bool CHECK (is_queue IN (0, 1)),
	queue_name   TEXT NOT NULL DEFAULT '',
	"trigger"    TEXT NOT NULL DEFAULT 'none' CONSTRAINT service_trigger_enum CHECK ("trigger" IN ('none', 'application', 'browser')),
	application  TEXT NOT NULL DEFAULT '',
	param_string TEXT NOT NULL DEFAULT '',
	enabled      INTEGER NOT NULL DEFAULT 1 CONSTRAINT service_enabled_bool CHECK (enabled IN (0, 1)),
	version      INTEGER NOT NULL DEFAULT 1
		CONSTRAINT service_version_positive CHECK (version >= 1),
	CONSTRAINT service_queue_name CHECK ((is_queue = 0 AND queue_name = '') OR (is_queue = 1 AND queue_name <> '' AND queue_name NOT GLOB '*[^A-Za-z0-9_.+-]*')),
	CONSTRAINT service_outbound_no_queue CHECK (type = 'inbound' OR is_queue = 0),
	CONSTRAINT service_trigger_application CHECK ("trigger" = 'none' OR application <> '')
) STRICT;

-- One non-queue service per context (a call there would be ambiguous); one
-- service per queue (a queue call's service is decided by its queue).
CREATE UNIQUE INDEX services_context_unique ON services (context) WHERE is_queue = 0;
CREATE UNIQUE INDEX services_queue_unique ON services (queue_name) WHERE is_queue = 1;

-- services_variables: names of the channel variables a service captures, in
-- the order it declares them (position).
CREATE TABLE services_variables (
	id         INTEGER PRIMARY KEY,
	service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	name       TEXT NOT NULL
		CONSTRAINT variable_name_format CHECK (name GLOB '[A-Za-z_]*' AND name NOT GLOB '*[^A-Za-z0-9_]*'),
	position   INTEGER NOT NULL DEFAULT 0
		CONSTRAINT variable_position_range CHECK (position >= 0),
	CONSTRAINT variable_unique UNIQUE (service_id, name)
) STRICT;

-- services_operators: memberships, with the queue penalty.
CREATE TABLE services_operators (
	service_id  INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	operator_id INTEGER NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
	penalty     INTEGER NOT NULL DEFAULT 0 CONSTRAINT member_penalty_range CHECK (penalty BETWEEN 0 AND 2147483647),
	PRIMARY KEY (service_id, operator_id)
) STRICT;
CREATE INDEX services_operators_operator ON services_operators (operator_id);

-- audit: every change made through the Store, with the row before and
-- after, and the configurator's changes to manager users (version 4). A
-- table renamed by ALTER TABLE keeps its name quoted in sqlite_schema.
CREATE TABLE "audit" (
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
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_entity ON audit (entity, entity_id);
