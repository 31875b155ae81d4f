DROP FUNCTION IF EXISTS hive_check_cached(text[], jsonb);
DROP FUNCTION IF EXISTS hive_insert_events(jsonb);
DROP FUNCTION IF EXISTS hive_update_workflows(jsonb, bigint);
DROP FUNCTION IF EXISTS hive_update_tasks(jsonb, bigint);
