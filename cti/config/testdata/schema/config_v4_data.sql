-- Sample data for a schema version 4 database: the demo configuration
-- (passwords alice and bob, fixed salts), edited and audited. Frozen with
-- config_v4.sql, the data of config_v3_data.sql and a manager user's
-- change.
INSERT INTO seats (id, mac, interface, description, version) VALUES
	(1, '00:11:22:33:44:01', 'SIP/201', 'Demo seat 1', 2),
	(2, '00:11:22:33:44:02', 'SIP/202', 'Demo seat 2', 1);
INSERT INTO operators (id, username, fullname, password_hash, seat_id, enabled, begin_paused) VALUES
	(1, 'alice', 'Alice', '$pbkdf2-sha256$i=1000$Zml4ZWQtc2FsdC1hbGljZQ$PcgeTvxrw4JOt2m4Pr4QXdFAG2ky5maOziGWghCrQ0w', 1, 1, 0),
	(2, 'bob', 'Bob', '$pbkdf2-sha256$i=1000$Zml4ZWQtc2FsdC1ib2IhIQ$OqNopHqd1CQDyyOMSTQeRj+HJOfQpA02Guoyi6HwjDw', 2, 1, 0);
INSERT INTO services (id, name, type, context, is_queue, queue_name, "trigger", application, param_string, enabled) VALUES
	(1, 'sales', 'inbound', 'astcti-service', 0, '', 'browser', 'http://crm.example/?caller=${calleridnum}&data=${calldata}', '', 1),
	(2, 'support', 'inbound', 'astcti-queue-service', 1, 'astcti-queue', 'application', 'crm-lookup', '--customer ${customer_id} --caller ${calleridnum}', 1),
	(3, 'outbound', 'outbound', 'from-operators', 0, '', 'none', '', '', 1);
INSERT INTO services_variables (service_id, name, position) VALUES (1, 'calldata', 0), (2, 'customer_id', 0);
INSERT INTO services_operators (service_id, operator_id, penalty) VALUES
	(1, 1, 1), (1, 2, 2), (2, 1, 1), (2, 2, 2), (3, 1, 1), (3, 2, 2);
INSERT INTO audit (at, userid, action, entity, entity_id, key, before, after) VALUES
	('2026-12-01T10:00:00Z', 'admin', 'import', 'config', 0, '', '', '{"summary":"2 seats, 2 operators, 3 services (1 queue, 1 outbound)"}'),
	('2026-12-01T10:05:00Z', 'admin', 'edit', 'seat', 1, '00:11:22:33:44:01',
		'{"id":1,"version":1,"mac":"00:11:22:33:44:01","interface":"SIP/201","description":""}',
		'{"id":1,"version":2,"mac":"00:11:22:33:44:01","interface":"SIP/201","description":"Demo seat 1"}'),
	('2026-12-01T10:10:00Z', 'admin', 'add', 'manager', 2, 'bob', '',
		'{"userid":"bob","fullname":"Bob","enabled":true,"password":"set"}');
