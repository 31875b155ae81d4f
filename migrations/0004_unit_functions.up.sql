-- The writes of a unit of work as functions. A unit's statements were planned afresh every time: for a unit of
-- one workflow (every result at a moderate rate) PostgreSQL spent more on parsing and planning its task update,
-- workflow update, event insert and cache check than on executing them. PL/pgSQL keeps each statement's plan for
-- the session, so a unit now sends a short call with its rows as one JSON literal (the script and its SQL comment
-- with the correlation ID unchanged) and the statement inside is planned once per connection.
--
-- A plan kept for the session must stay right as the tables grow: one made while `tasks` held a few rows could
-- hash the whole table on every later call. The updates therefore run with sequential scans, hash joins and
-- merge joins off: the rows sent are joined to their table by key, one index lookup each, whatever its size.
-- (The cache check's FULL JOIN is between the rows sent and the rows of the same workflows read by key: it may
-- hash those.)
--
-- The migrator splits statements at a semicolon that ends a line: inside these bodies no line ends in one.

CREATE OR REPLACE FUNCTION hive_update_tasks(sent jsonb, expected bigint) RETURNS void LANGUAGE plpgsql
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
  FROM jsonb_to_recordset(sent) AS v(workflow_id text, id text, prev_status text, prev_attempt int, status text,
    attempt int, agent text, output jsonb, error jsonb, usage jsonb, completed_order int, instance text,
    not_before float8, deadline_at float8, queued_at float8, started_at float8, finished_at float8,
    reset_dispatch boolean, dispatched_at float8, msg_id text)
  WHERE t.workflow_id = v.workflow_id AND t.id = v.id AND t.status = v.prev_status AND t.attempt = v.prev_attempt
  ; GET DIAGNOSTICS changed = ROW_COUNT
  ; PERFORM hive_expect_rows(changed, expected, 'a task')
; END $$;

CREATE OR REPLACE FUNCTION hive_update_workflows(sent jsonb, expected bigint) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE changed bigint; BEGIN
  UPDATE workflows w SET status = v.status, error = v.error, started_at = to_timestamp(v.started_at / 1000),
    finished_at = to_timestamp(v.finished_at / 1000), updated_at = now()
  FROM jsonb_to_recordset(sent) AS v(id text, prev_status text, status text, error jsonb, started_at float8,
    finished_at float8)
  WHERE w.id = v.id AND w.status = v.prev_status
  ; GET DIAGNOSTICS changed = ROW_COUNT
  ; PERFORM hive_expect_rows(changed, expected, 'a workflow')
; END $$;

-- Events take their sequence numbers under one transaction-level lock, held to the commit: seq order is commit
-- order, and a reader resuming after seq N never misses an event committed later with a lower number.
CREATE OR REPLACE FUNCTION hive_insert_events(sent jsonb) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(4483002)
  ; RETURN QUERY INSERT INTO events (ts, type, correlation_id, workflow_id, task_id, agent, data)
    SELECT v.ts, v.type, v.c, v.w, v.t, v.a, coalesce(v.d, '{}'::jsonb)
    FROM jsonb_to_recordset(sent) AS v(n int, ts timestamptz, type text, c text, w text, t text, a text, d jsonb)
    ORDER BY v.n
    RETURNING seq
; END $$;

-- A unit deciding on cached workflows checks, under their locks, that their workflow and task rows are exactly
-- the ones cached, by row version; any difference (a row another process wrote, a task inserted or deleted)
-- raises HW001 and the unit reruns on rows read afresh.
CREATE OR REPLACE FUNCTION hive_check_cached(ids text[], expected jsonb) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE differing bigint; BEGIN
  SELECT count(*) INTO differing FROM (
    SELECT 'w' AS k, id AS w, '' AS t, xmin::text AS x FROM workflows WHERE id = ANY(ids)
    UNION ALL SELECT 't', workflow_id, id, xmin::text FROM tasks WHERE workflow_id = ANY(ids)
  ) AS a FULL JOIN jsonb_to_recordset(expected) AS e(k text, w text, t text, x text) USING (k, w, t)
  WHERE a.x IS DISTINCT FROM e.x
  ; PERFORM hive_expect_rows(differing, 0, 'a cached workflow')
; END $$;
