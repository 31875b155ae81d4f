-- Events are stored a page at a time: one row per transaction that records events, holding them as a JSON
-- array, instead of one row each. An event row cost PostgreSQL ≈ 13 µs (heap tuple, three index entries, its
-- share of the JSON parse), and a two-step workflow records eleven: half of PostgreSQL's work per workflow at
-- full load. A page of a 300-workflow unit (1,200 events) costs ≈ 3.5 ms against ≈ 15 ms as rows (docs/benchmarks.md).
--
-- A page holds the contiguous sequence numbers first_seq..last_seq, in the order of its JSON array. The pages of
-- committed transactions follow one another: the insert takes the event-order lock (held to the commit) before
-- it draws its range, so seq order is still commit order and a reader resuming after seq N misses nothing.
-- correlation_ids and workflow_ids list the page's distinct IDs: GIN indexes on them find a trace's pages and
-- a filtered replay's. The JSON is stored as text, uncompressed and out of line when large (STORAGE EXTERNAL):
-- nothing in PostgreSQL reads inside it on the write path, and compressing 300 KB per unit would cost more CPU
-- than the rows it replaced.
--
-- `events` stays, as a view with the columns of the table it replaces: ad-hoc SQL and `psql` still read one
-- row per event (it expands every page it reads: use it with a seq range or on small data; the engine and the
-- API read pages).
--
-- The migrator splits statements at a semicolon that ends a line: inside the function body no line ends in one.

CREATE SEQUENCE hive_event_seq;
SELECT setval('hive_event_seq', coalesce(max(seq), 0) + 1, false) FROM events;

CREATE TABLE event_pages (
  last_seq bigint PRIMARY KEY,
  first_seq bigint NOT NULL,
  correlation_ids text[] NOT NULL,
  workflow_ids text[] NOT NULL,
  events text NOT NULL
);
ALTER TABLE event_pages ALTER COLUMN events SET STORAGE EXTERNAL;
-- fastupdate off: each insert adds its entries to the index itself. With the pending list a unit now and then
-- paid for merging megabytes of others' entries (and nothing else merges it where autovacuum is off).
CREATE INDEX event_pages_correlation_idx ON event_pages USING gin (correlation_ids) WITH (fastupdate = off);
CREATE INDEX event_pages_workflow_idx ON event_pages USING gin (workflow_ids) WITH (fastupdate = off);

-- Events recorded before this migration: one page each, same sequence numbers, same fields.
INSERT INTO event_pages (last_seq, first_seq, correlation_ids, workflow_ids, events)
SELECT seq, seq, ARRAY[correlation_id],
  CASE WHEN workflow_id IS NULL THEN ARRAY[]::text[] ELSE ARRAY[workflow_id] END,
  jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
    'ts', to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'type', type,
    'correlationId', correlation_id, 'workflowId', workflow_id, 'taskId', task_id, 'agent', agent))
    || jsonb_build_object('data', data))::text
FROM events;

DROP FUNCTION IF EXISTS hive_insert_events(jsonb);
DROP TABLE events;

CREATE VIEW events AS
SELECT p.first_seq + e.i - 1 AS seq, (e.v->>'ts')::timestamptz AS ts, e.v->>'type' AS type,
  e.v->>'correlationId' AS correlation_id, e.v->>'workflowId' AS workflow_id, e.v->>'taskId' AS task_id,
  e.v->>'agent' AS agent, coalesce(e.v->'data', '{}'::jsonb) AS data
FROM event_pages p CROSS JOIN LATERAL jsonb_array_elements(p.events::jsonb) WITH ORDINALITY AS e(v, i);

-- Records one transaction's events (`events`: their JSON array, `n` of them) as a page and returns its first
-- sequence number; the events take first, first + 1, … in array order. The event-order lock comes first, then
-- the range: the sequence is only ever advanced under the lock, so nextval and setval hand out a contiguous range.
CREATE OR REPLACE FUNCTION hive_insert_event_page(events text, n int, correlation_ids text[], workflow_ids text[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE lo bigint; BEGIN
  IF n < 1 THEN RAISE EXCEPTION 'an event page holds at least one event (got %)', n USING ERRCODE = '22023' ; END IF
  ; PERFORM pg_advisory_xact_lock(4483002)
  ; lo := nextval('hive_event_seq')
  ; IF n > 1 THEN PERFORM setval('hive_event_seq', lo + n - 1) ; END IF
  ; INSERT INTO event_pages (last_seq, first_seq, correlation_ids, workflow_ids, events)
    VALUES (lo + n - 1, lo, correlation_ids, workflow_ids, events)
  ; RETURN lo
; END $$;
