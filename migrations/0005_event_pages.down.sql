-- Back to one row per event, keeping every event recorded in pages (same sequence numbers and fields).
DROP FUNCTION IF EXISTS hive_insert_event_page(text, int, text[], text[]);
CREATE TABLE events_from_pages AS SELECT * FROM events;
DROP VIEW events;
CREATE TABLE events (
  seq bigserial PRIMARY KEY,
  ts timestamptz NOT NULL DEFAULT clock_timestamp(),
  type text NOT NULL,
  correlation_id text NOT NULL,
  workflow_id text,
  task_id text,
  agent text,
  data jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_correlation_idx ON events (correlation_id, seq);
CREATE INDEX events_workflow_idx ON events (workflow_id, seq);
INSERT INTO events (seq, ts, type, correlation_id, workflow_id, task_id, agent, data)
SELECT seq, ts, type, correlation_id, workflow_id, task_id, agent, data FROM events_from_pages ORDER BY seq;
-- Numbers drawn for pages that were rolled back are not handed out again.
SELECT setval('events_seq_seq', greatest((SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM hive_event_seq), coalesce((SELECT max(seq) FROM events), 0)) + 1, false);
DROP TABLE events_from_pages;
DROP TABLE event_pages;
DROP SEQUENCE hive_event_seq;

-- 0004's function, as it was.
CREATE OR REPLACE FUNCTION hive_insert_events(sent jsonb) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(4483002)
  ; RETURN QUERY INSERT INTO events (ts, type, correlation_id, workflow_id, task_id, agent, data)
    SELECT v.ts, v.type, v.c, v.w, v.t, v.a, coalesce(v.d, '{}'::jsonb)
    FROM jsonb_to_recordset(sent) AS v(n int, ts timestamptz, type text, c text, w text, t text, a text, d jsonb)
    ORDER BY v.n
    RETURNING seq
; END $$;
