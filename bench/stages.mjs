// Where a workflow's latency goes: offers the two-step workflow at a rate and prints, for each event of the
// workflow, when it was created (its `ts`) and when the live stream delivered it, both measured from the
// submit call, p50 and p99; then the coordinator process's socket writes and CPU per workflow.
//   node bench/stages.mjs [rate=200] [seconds=10]
import { readFileSync } from 'node:fs';
import { hiveSubmitter } from './lib/batches.mjs';
import { percentile } from './lib/common.mjs';
import { startHiveSystem, TWO_STEP } from './lib/hive-system.mjs';
import { offer } from './lib/offer.mjs';

const rate = Number(process.argv[2] ?? 200);
const seconds = Number(process.argv[3] ?? 10);
const io = () =>
  Object.fromEntries(
    readFileSync('/proc/self/io', 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(': '))
      .map(([k, v]) => [k, Number(v)]),
  );

const hive = await startHiveSystem();
// Per workflow: its events in order, each named by type and the task's position (first task seen is 1).
const seen = new Map();
const taskNumbers = new Map();
hive.onEvent.push((e) => {
  if (!e.workflowId) return;
  const list = seen.get(e.workflowId) ?? [];
  const numbers = taskNumbers.get(e.workflowId) ?? new Map();
  if (e.taskId && !numbers.has(e.taskId)) numbers.set(e.taskId, numbers.size + 1);
  const name = e.taskId ? `${e.type} (task ${numbers.get(e.taskId)})` : e.type;
  list.push({ name, ts: Date.parse(e.ts), received: Date.now() });
  seen.set(e.workflowId, list);
  taskNumbers.set(e.workflowId, numbers);
});

const io0 = io();
const cpu0 = process.cpuUsage();
const { ids, startedAt: submittedAt } = await offer(
  hive,
  rate,
  seconds,
  hiveSubmitter(hive, TWO_STEP, 'bench-stages'),
  Date.now,
);
const cpu = process.cpuUsage(cpu0);
const io1 = io();

const q = (values, p) =>
  percentile(
    [...values].sort((a, b) => a - b),
    p,
  );
console.log(`two-step workflows offered at ${rate}/s for ${seconds} s (ms from the submit call)`);
console.log(`${'event'.padEnd(34)} created p50/p99   received p50/p99`);
for (const { name } of seen.get(ids[0])) {
  const created = [];
  const received = [];
  for (const id of ids) {
    const e = seen.get(id)?.find((x) => x.name === name);
    if (!e) continue;
    created.push(e.ts - submittedAt.get(id));
    received.push(e.received - submittedAt.get(id));
  }
  console.log(
    `${name.padEnd(34)} ${`${q(created, 50)} / ${q(created, 99)}`.padEnd(17)} ${q(received, 50)} / ${q(received, 99)}`,
  );
}
console.log(
  `coordinator process (with this script): ${((io1.syscw - io0.syscw) / ids.length).toFixed(1)} socket/file writes and ${Math.round((cpu.user + cpu.system) / ids.length)} µs CPU per workflow`,
);
await hive.stop();
process.exit(0);
