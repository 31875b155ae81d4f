// CPU per workflow in every process a workflow goes through, at an offered rate: the process running the
// coordinator (with the submitting client and its live-event listener), the agents' process, PostgreSQL's
// processes and Redis, read from /proc before and after. CPU is steadier than latency on a shared machine, and
// the one figure both throughput and latency under load come down to.
//   node bench/cpu-per-workflow.mjs [rate=200] [seconds=8] [repository root to measure=this one]
// The third argument measures another build (a second worktree) with these same steps, for alternating runs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// The load itself is this checkout's, whichever build is measured: it touches no Hive module.
import { offer } from './lib/offer.mjs';

const rate = Number(process.argv[2] ?? 200);
const seconds = Number(process.argv[3] ?? 8);
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
  const { ids, startedAt } = await offer(hive, rate, seconds, async (count) =>
    (
      await hive.submit(
        Array.from({ length: count }, () => TWO_STEP),
        label,
      )
    ).map((r) => r.id),
  );
  return ids.map((id) => hive.completedAt.get(id) - startedAt.get(id));
};

try {
  await offerTwoStep(2, 'cpu-warm'); // 2 s unmeasured, as the scenarios warm up
  const total = Math.round(rate * seconds);
  const before = snapshot();
  const latencies = await offerTwoStep(seconds, 'cpu');
  const after = snapshot();
  const cpu = {};
  let sum = 0;
  for (const [name, pids] of Object.entries(after)) {
    let used = 0;
    for (const [pid, t] of pids) used += t - (before[name]?.get(pid) ?? t);
    cpu[name] = Math.round((used * 10_000) / total); // ticks of 10 ms → µs per workflow
    sum += cpu[name];
  }
  const lat = summarize(latencies);
  console.log(
    JSON.stringify({ root, rate, seconds, cpuMicrosPerWorkflow: { ...cpu, total: sum }, latencyMs: lat }),
  );
} finally {
  await hive.stop();
}
process.exit(0);
