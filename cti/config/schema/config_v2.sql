-- astcti configuration, schema version 2 (migration 1 -> 2).
-- Frozen once released: a change is a new migration (config_v3.sql), never an
-- edit of this file. testdata/schema/config_v2.sql keeps the full schema of
-- version 2 to test upgrades from.

-- services_variables.position: the order in which the service declares its
-- variables, the order seats get them in <appdata>. Version 1 kept no order
-- and read them by name: its rows are numbered in that order.
ALTER TABLE services_variables ADD COLUMN position INTEGER NOT NULL DEFAULT 0
	CONSTRAINT variable_position_range CHECK (position >= 0);
UPDATE services_variables SET position = (
	SELECT count(*) FROM services_variables v
	WHERE v.service_id = services_variables.service_id AND v.name < services_variables.name);
