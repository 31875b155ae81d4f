// CPU per workflow in every process a workflow goes through, at an offered rate: the process running the
// coordinator (with the submitting client and its live-event listener), the agents' process, PostgreSQL's
// processes and Redis, read from /proc before and after. CPU is steadier than latency on a shared machine, and
// the one figure both throughput and latency under load come down to.
//   node bench/cpu-per-workflow.mjs [rate=200] [seconds=8] [repository root to measure=this one]
//   node bench/cpu-per-workflow.mjs max [workflows=20000] [root]   scenario 1's load: all at once, batches of 100
// The third argument measures another build (a second worktree) with these same steps, for alternating runs. At
// `max` it also reports what PostgreSQL did per workflow on Hive's tables (rows inserted and updated, sequential
// scans and the rows they read), from its statistics counters.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
// The load itself is this checkout's, whichever build is measured: it touches no Hive module.
import { hiveSubmitter, inBatches } from './lib/batches.mjs';
import { offer } from './lib/offer.mjs';

const full = process.argv[2] === 'max';
const rate = full ? 0 : Number(process.argv[2] ?? 200);
const seconds = full ? 0 : Number(process.argv[3] ?? 8);
const fullWorkflows = full ? Number(process.argv[3] ?? 20_000) : 0;
const root = path.resolve(process.argv[4] ?? fileURLToPath(new URL('..', import.meta.url)));
const { startHiveSystem, TWO_STEP } = await import(path.join(root, 'bench/lib/hive-system.mjs'));
const { summarize } = await import(path.join(root, 'bench/lib/common.mjs'));

/** utime + stime of a process, in clock ticks (1/100 s); 0 once it is gone. */
function ticks(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}
const pgrep = (args) => {
  try {
    return execFileSync('pgrep', args).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
};
const snapshot = () => {
  const groups = {
    coordinator: [process.pid],
    agents: pgrep(['-f', 'hive-agents-process']),
    postgres: pgrep(['-u', 'postgres']),
    redis: pgrep(['-x', 'redis-server']),
  };
  return Object.fromEntries(
    Object.entries(groups).map(([name, pids]) => [name, new Map(pids.map((p) => [p, ticks(p)]))]),
  );
};

const hive = await startHiveSystem();
const offerTwoStep = async (seconds, label) => {
  const { ids, startedAt } = await offer(hive, rate, seconds, hiveSubmitter(hive, TWO_STEP, label));
  return ids.map((id) => hive.completedAt.get(id) - startedAt.get(id));
};

/** CPU used by each group of processes between two snapshots, in µs per workflow. */
function cpuPerWorkflow(before, after, workflows) {
  const cpu = {};
  let sum = 0;
  for (const [name, pids] of Object.entries(after)) {
    let used = 0;
    // A process started since the first snapshot (a pool connection opened under load) used all of its CPU
    // in between.
    for (const [pid, t] of pids) used += t - (before[name]?.get(pid) ?? 0);
    cpu[name] = Math.round((used * 10_000) / workflows); // ticks of 10 ms → µs per workflow
    sum += cpu[name];
  }
  return { ...cpu, total: sum };
}

const tableCounters = async () =>
  (
    await sql`SELECT relname, seq_scan, seq_tup_read, n_tup_ins, n_tup_upd FROM pg_stat_user_tables
      WHERE relname IN ('workflows', 'tasks', 'events', 'event_pages')`.execute(hive.deps.db)
  ).rows;
// Events recorded: rows of the `events` table, or (migration 0005 on) of the view over event_pages.
const lastSeq = async () =>
  Number((await sql`SELECT coalesce(max(seq), 0) AS m FROM events`.execute(hive.deps.db)).rows[0].m);
const eventsSince = async (seq) =>
  Number((await sql`SELECT count(*) AS n FROM events WHERE seq > ${seq}`.execute(hive.deps.db)).rows[0].n);

/** Submits `n` two-step workflows in batches, as scenario 1 does, and waits for all of them. */
async function allAtOnce(n, label) {
  await hive.waitAll(await inBatches(n, hiveSubmitter(hive, TWO_STEP, label)));
}

/** Scenario 1's load: CPU and PostgreSQL's row counters per workflow. */
async function atFullLoad() {
  await allAtOnce(2_000, 'cpu-warm'); // unmeasured, as scenario 1 warms up
  // An idle backend reports its statistics counters within 10 s (PGSTAT_IDLE_INTERVAL); wait them out.
  const settle = () => new Promise((r) => setTimeout(r, 11_000));
  await settle();
  const rowsBefore = await tableCounters();
  const seqBefore = await lastSeq();
  const before = snapshot();
  const t0 = performance.now();
  await allAtOnce(fullWorkflows, 'cpu');
  const secs = (performance.now() - t0) / 1000;
  const after = snapshot();
  await settle();
  const perWorkflow = {};
  for (const row of await tableCounters()) {
    const was = rowsBefore.find((r) => r.relname === row.relname);
    const per = (k) => Math.round(((Number(row[k]) - Number(was?.[k] ?? 0)) / fullWorkflows) * 100) / 100;
    perWorkflow[row.relname] = {
      inserted: per('n_tup_ins'),
      updated: per('n_tup_upd'),
      seqScans: per('seq_scan'),
      seqRowsRead: per('seq_tup_read'),
    };
  }
  perWorkflow.eventsRecorded = Math.round(((await eventsSince(seqBefore)) / fullWorkflows) * 100) / 100;
  return {
    root,
    workflows: fullWorkflows,
    workflowsPerSecond: Math.round(fullWorkflows / secs),
    cpuMicrosPerWorkflow: cpuPerWorkflow(before, after, fullWorkflows),
    perWorkflow,
  };
}

/** The offered rate: CPU per workflow and latency. */
async function atOfferedRate() {
  await offerTwoStep(2, 'cpu-warm'); // 2 s unmeasured, as the scenarios warm up
  const total = Math.round(rate * seconds);
  const before = snapshot();
  const latencies = await offerTwoStep(seconds, 'cpu');
  const after = snapshot();
  return {
    root,
    rate,
    seconds,
    cpuMicrosPerWorkflow: cpuPerWorkflow(before, after, total),
    latencyMs: summarize(latencies),
  };
}

try {
  console.log(JSON.stringify(full ? await atFullLoad() : await atOfferedRate()));
} finally {
  await hive.stop();
}
process.exit(0);
