// PostgreSQL's own CPU for two statements of a unit of work, each against the form it replaced, measured on one
// backend each (utime + stime from /proc), alternating call by call. Usage:
//   node bench/unit-statements.mjs [workflows per unit = 300] [calls = 200]
//
// events:  a unit's events (4 per workflow, as a task's result records them) as one page (migration 0005)
//          against one row each with the two secondary indexes of the table it replaced (migration 0001's
//          `events`, inserted as 0004's hive_insert_events did);
// updates: hive_update_tasks taking its rows as json (migration 0006) against jsonb (migration 0005);
// pages:   a unit's event page lz4-compressed (migration 0007, where the server has lz4) against uncompressed out
//          of line (0005), with each table's size after the run.
// Needs PostgreSQL on this machine (it reads the backends' CPU counters from /proc).
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { insertEventsStatement } from '../dist/engine/events.js';
import { openStore } from '../dist/store/database.js';
import { migrateUp } from '../dist/store/migrator.js';
import { tempDatabase } from './lib/common.mjs';

const perUnit = Number(process.argv[2] ?? 300);
const calls = Number(process.argv[3] ?? 200);
const TABLE_ROWS = 20_000;

const cpuTicks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};

/** A database migrated to `version`, holding TABLE_ROWS running workflows with one queued task each. */
async function database(version) {
  const db = await tempDatabase();
  const store = await openStore({ url: db.url, poolSize: 1 });
  await migrateUp(store.db, version);
  await store.close();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(`INSERT INTO workflows (id, correlation_id, status, spec)
    SELECT 'w' || g, 'c' || g, 'running', '{}' FROM generate_series(1, ${TABLE_ROWS}) g`);
  await client.query(`INSERT INTO tasks (workflow_id, id, position, correlation_id, type, agent, status, attempt,
    max_attempts, timeout_ms) SELECT 'w' || g, '1', 0, 'c' || g, 'ui_integration', 'frontend_agent', 'queued', 1, 3,
    600000 FROM generate_series(1, ${TABLE_ROWS}) g`);
  await client.query('ANALYZE');
  const pid = (await client.query('SELECT pg_backend_pid() AS p')).rows[0].p;
  return { db, client, pid };
}

/** Runs each variant's statement `calls` times, alternating, and returns each one's backend CPU per call (ms). */
async function compare(variants, statementFor) {
  const used = Object.fromEntries(Object.keys(variants).map((k) => [k, 0]));
  for (let i = 0; i < calls; i++) {
    for (const [name, v] of Object.entries(variants)) {
      const text = statementFor(name, i);
      const before = cpuTicks(v.pid);
      await v.client.query(text);
      used[name] += (cpuTicks(v.pid) - before) * 10;
    }
  }
  return Object.fromEntries(Object.entries(used).map(([k, ms]) => [k, Math.round((ms / calls) * 100) / 100]));
}

const lit = (s) => `$q$${s}$q$`;
const workflowsOf = (i) => Array.from({ length: perUnit }, (_, j) => 1 + ((i * perUnit + j) % TABLE_ROWS));

function eventsOf(i) {
  const ts = new Date().toISOString();
  return workflowsOf(i).flatMap((n) => {
    const base = { correlationId: `c${n}`, workflowId: `w${n}` };
    const who = { instance: 'frontend_agent-bench' };
    return [
      {
        ts,
        type: 'task.started',
        ...base,
        taskId: '1',
        agent: 'backend_agent',
        data: { attempt: 1, ...who },
      },
      {
        ts,
        type: 'task.completed',
        ...base,
        taskId: '1',
        agent: 'backend_agent',
        data: { attempt: 1, ...who },
      },
      { ts, type: 'task.queued', ...base, taskId: '2', agent: 'frontend_agent', data: { attempt: 1 } },
      { ts, type: 'task.dispatched', ...base, taskId: '2', agent: 'frontend_agent', data: { attempt: 1 } },
    ];
  });
}

/** The event table and insert before migration 0005, side by side with the pages in the same database. */
const ROWS_TABLE = `
  CREATE TABLE events_as_rows (seq bigserial PRIMARY KEY, ts timestamptz NOT NULL, type text NOT NULL,
    correlation_id text NOT NULL, workflow_id text, task_id text, agent text, data jsonb NOT NULL DEFAULT '{}');
  CREATE INDEX ON events_as_rows (correlation_id, seq);
  CREATE INDEX ON events_as_rows (workflow_id, seq);`;
const rowsInsert = (events) => {
  const rows = events.map((e, n) => ({
    n,
    ts: e.ts,
    type: e.type,
    c: e.correlationId,
    w: e.workflowId,
    t: e.taskId,
    a: e.agent,
    d: e.data,
  }));
  return `SELECT pg_advisory_xact_lock(4483002); INSERT INTO events_as_rows (ts, type, correlation_id, workflow_id,
    task_id, agent, data) SELECT v.ts, v.type, v.c, v.w, v.t, v.a, coalesce(v.d, '{}'::jsonb)
    FROM jsonb_to_recordset(${lit(JSON.stringify(rows))}::jsonb) AS v(n int, ts timestamptz, type text, c text,
    w text, t text, a text, d jsonb) ORDER BY v.n RETURNING seq`;
};

function taskRows(i) {
  return workflowsOf(i).map((n) => ({
    workflow_id: `w${n}`,
    id: '1',
    prev_status: 'queued',
    prev_attempt: 1,
    status: 'completed',
    attempt: 1,
    agent: 'frontend_agent',
    output: { ok: true },
    completed_order: 2,
    instance: 'frontend_agent-bench',
    deadline_at: 1796693812583,
    queued_at: 1796693212404,
    started_at: 1796693212491,
    finished_at: 1796693212583,
    dispatched_at: 1796693212466,
    msg_id: '1796693212469-50',
  }));
}

const head = await database(undefined);
const before0006 = await database(5);
const uncompressed = await database(undefined);
await uncompressed.client.query(
  'ALTER TABLE event_pages ALTER COLUMN events SET STORAGE EXTERNAL, ALTER COLUMN events SET COMPRESSION default',
);
const pagesSize = async (d) =>
  Math.round(
    Number((await d.client.query(`SELECT pg_total_relation_size('event_pages') AS s`)).rows[0].s) / 1e5,
  ) / 10;
try {
  await head.client.query(ROWS_TABLE);
  const events = await compare(
    { rows: head, page: head },
    (name, i) =>
      `BEGIN; ${name === 'rows' ? rowsInsert(eventsOf(i)) : insertEventsStatement(eventsOf(i))}; COMMIT`,
  );
  const updates = await compare(
    { jsonb: before0006, json: head },
    (name, i) =>
      `BEGIN; SELECT hive_update_tasks(${lit(JSON.stringify(taskRows(i)))}::${name}, ${perUnit}); ROLLBACK`,
  );
  const headBefore = await pagesSize(head); // the pages of the events comparison above
  const pages = await compare(
    { uncompressed, lz4: head },
    (_name, i) => `BEGIN; ${insertEventsStatement(eventsOf(i))}; COMMIT`,
  );
  console.log(
    JSON.stringify({
      workflowsPerUnit: perUnit,
      calls,
      backendCpuMsPerCall: { eventsOfAUnit: events, taskUpdatesOfAUnit: updates, eventPage: pages },
      eventPagesMB: {
        uncompressed: await pagesSize(uncompressed),
        lz4: Math.round(((await pagesSize(head)) - headBefore) * 10) / 10,
      },
    }),
  );
} finally {
  for (const d of [head, before0006, uncompressed]) {
    await d.client.end();
    await d.db.drop();
  }
}
