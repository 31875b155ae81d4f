-- The rows of a unit's updates and cache check travel as json, not jsonb: PostgreSQL builds a jsonb value (every
-- object's keys sorted, the whole tree allocated) when the literal is read, only for jsonb_to_recordset to take
-- it apart again; json_to_recordset reads the text once. Measured on 300 task-update rows: 1.64 against 2.17 ms of
-- processing beyond lexing the literal (docs/benchmarks.md). The bodies are 0004's with json in place of jsonb.
--
-- The migrator splits statements at a semicolon that ends a line: inside these bodies no line ends in one.

DROP FUNCTION IF EXISTS hive_update_tasks(jsonb, bigint);
DROP FUNCTION IF EXISTS hive_update_workflows(jsonb, bigint);
DROP FUNCTION IF EXISTS hive_check_cached(text[], jsonb);

CREATE OR REPLACE FUNCTION hive_update_tasks(sent json, expected bigint) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE changed bigint; BEGIN
  -- dispatched_at/msg_id belong to the dispatcher (written after the XADD): set here when the unit records the
  -- dispatch, cleared when a new attempt is queued, and otherwise left alone, so a dispatch marker written
  -- concurrently is never erased.
  UPDATE tasks t SET status = v.status, attempt = v.attempt, agent = v.agent, output = v.output,
    error = v.error, usage = v.usage, completed_order = v.completed_order, instance = v.instance,
    not_before = to_timestamp(v.not_before / 1000), deadline_at = to_timestamp(v.deadline_at / 1000),
    queued_at = to_timestamp(v.queued_at / 1000), started_at = to_timestamp(v.started_at / 1000),
    finished_at = to_timestamp(v.finished_at / 1000),
    dispatched_at = CASE WHEN v.reset_dispatch THEN NULL
      ELSE coalesce(to_timestamp(v.dispatched_at / 1000), t.dispatched_at) END,
    msg_id = CASE WHEN v.reset_dispatch THEN NULL ELSE coalesce(v.msg_id, t.msg_id) END
  FROM json_to_recordset(sent) AS v(workflow_id text, id text, prev_status text, prev_attempt int, status text,
    attempt int, agent text, output jsonb, error jsonb, usage jsonb, completed_order int, instance text,
    not_before float8, deadline_at float8, queued_at float8, started_at float8, finished_at float8,
    reset_dispatch boolean, dispatched_at float8, msg_id text)
  WHERE t.workflow_id = v.workflow_id AND t.id = v.id AND t.status = v.prev_status AND t.attempt = v.prev_attempt
  ; GET DIAGNOSTICS changed = ROW_COUNT
  ; PERFORM hive_expect_rows(changed, expected, 'a task')
; END $$;

CREATE OR REPLACE FUNCTION hive_update_workflows(sent json, expected bigint) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE changed bigint; BEGIN
  UPDATE workflows w SET status = v.status, error = v.error, started_at = to_timestamp(v.started_at / 1000),
    finished_at = to_timestamp(v.finished_at / 1000), updated_at = now()
  FROM json_to_recordset(sent) AS v(id text, prev_status text, status text, error jsonb, started_at float8,
    finished_at float8)
  WHERE w.id = v.id AND w.status = v.prev_status
  ; GET DIAGNOSTICS changed = ROW_COUNT
  ; PERFORM hive_expect_rows(changed, expected, 'a workflow')
; END $$;

CREATE OR REPLACE FUNCTION hive_check_cached(ids text[], expected json) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE differing bigint; BEGIN
  SELECT count(*) INTO differing FROM (
    SELECT 'w' AS k, id AS w, '' AS t, xmin::text AS x FROM workflows WHERE id = ANY(ids)
    UNION ALL SELECT 't', workflow_id, id, xmin::text FROM tasks WHERE workflow_id = ANY(ids)
  ) AS a FULL JOIN json_to_recordset(expected) AS e(k text, w text, t text, x text) USING (k, w, t)
  WHERE a.x IS DISTINCT FROM e.x
  ; PERFORM hive_expect_rows(differing, 0, 'a cached workflow')
; END $$;
