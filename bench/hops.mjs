// Where a workflow's latency goes, hop by hop, timed by Redis itself: offers the two-step workflow at a rate while
// `redis-cli monitor` (C, in a process of its own, writing to a file read afterwards: parsing every command in Node
// would take the CPU of the very hops it times) records when each message reached Redis. Prints p50/p90/p99 of:
//   agent 1   task 1 sent (its XADD)          → task 1's result written by the agent
//   coord 1   task 1's result written          → task 2 sent (the coordinator's unit of work, its commit included)
//   agent 2   task 2 sent                      → task 2's result written
//   coord 2   task 2's result written          → workflow.completed published on the live stream
// MONITOR costs Redis some CPU, so the hops read a little longer than without it: compare hops with each other.
// Needs `redis-cli` on the PATH (it comes with Redis).
//   node bench/hops.mjs [rate=200] [seconds=5]
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hiveSubmitter } from './lib/batches.mjs';
import { percentile, REDIS_URL } from './lib/common.mjs';
import { startHiveSystem, TWO_STEP } from './lib/hive-system.mjs';
import { offer } from './lib/offer.mjs';

const rate = Number(process.argv[2] ?? 200);
const seconds = Number(process.argv[3] ?? 5);

const hive = await startHiveSystem();
const dir = mkdtempSync(path.join(tmpdir(), 'hive-hops-'));
const file = path.join(dir, 'monitor.txt');
const monitor = spawn('redis-cli', ['-u', REDIS_URL, 'monitor'], {
  stdio: ['ignore', openSync(file, 'w'), 'inherit'],
});
await new Promise((r) => setTimeout(r, 300));

const { ids } = await offer(hive, rate, seconds, hiveSubmitter(hive, TWO_STEP, 'bench-hops'));
await new Promise((r) => setTimeout(r, 200));
monitor.kill();
await hive.stop();

// A line: `<seconds.micros> [<db> <client>] "xadd" "<key>" "*" "field" "value" …` (quotes inside arguments escaped).
const resultsKey = hive.deps.keys.results();
const eventsKey = hive.deps.keys.events();
const seen = new Map();
const at = (wf) => {
  if (!seen.has(wf)) seen.set(wf, {});
  return seen.get(wf);
};
const COMPLETED = /workflow\.completed.{0,300}?workflowId\W+([0-9a-f-]{36})/g;
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (!line.includes('] "xadd" ')) continue;
  const ms = Number(line.slice(0, line.indexOf(' '))) * 1000;
  const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
  const key = args[1];
  if (key === eventsKey) {
    for (const [, wf] of line.matchAll(COMPLETED)) at(wf).done ??= ms;
    continue;
  }
  const fields = args.slice(args.indexOf('*') + 1);
  const field = (name) => {
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
    return undefined;
  };
  const kind = field('kind');
  const wf = field('wf');
  if (!wf || !(kind === 'result' ? key === resultsKey : kind === 'task' && key !== resultsKey)) continue;
  at(wf)[`${kind}${field('task')}`] ??= ms;
}
rmSync(dir, { recursive: true, force: true });

const hops = [
  ['agent 1', 'task0', 'result0'],
  ['coord 1', 'result0', 'task1'],
  ['agent 2', 'task1', 'result1'],
  ['coord 2', 'result1', 'done'],
  ['all four', 'task0', 'done'],
];
console.log(`two-step workflows offered at ${rate}/s for ${seconds} s; hops timed by Redis (ms)`);
console.log(`${'hop'.padEnd(10)} ${'n'.padStart(6)}    p50     p90     p99`);
for (const [name, from, to] of hops) {
  const v = ids
    .map((id) => seen.get(id))
    .filter((m) => m?.[from] !== undefined && m?.[to] !== undefined)
    .map((m) => m[to] - m[from])
    .sort((a, b) => a - b);
  const q = (p) => (percentile(v, p) ?? Number.NaN).toFixed(2).padStart(7);
  console.log(`${name.padEnd(10)} ${String(v.length).padStart(6)} ${q(50)} ${q(90)} ${q(99)}`);
}
process.exit(0);
