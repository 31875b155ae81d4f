// Young-generation collections (scavenges) in the process running the coordinator at scenario 1's load: how many,
// their pauses, and the bytes they copied (survived) and moved to the old generation (promoted). An object still
// referenced when a scavenge runs is copied, and at the next one promoted; at full load that copying, not the
// allocation itself, is most of a Node process's collector time.
//   node bench/scavenges-at-load.mjs [workflows=20000] [repository root to measure=this one]
// Runs `bench/cpu-per-workflow.mjs max` under `--trace-gc-nvp` (the warm-up and the measured run together) and
// prints its figures with the scavenges' totals, for that process and for the agents' process (fork() passes the
// flag on). Pass another build's root (a second worktree) for alternating runs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const workflows = process.argv[2] ?? '20000';
const root = process.argv[3] ?? path.resolve(here, '..');

const child = spawn(
  process.execPath,
  ['--trace-gc-nvp', path.join(here, 'cpu-per-workflow.mjs'), 'max', workflows, root],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let out = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk) => {
  out += chunk;
});
const code = await new Promise((resolve) => child.on('close', resolve));
if (code !== 0) process.exit(code ?? 1);

// Lines of the parent (the coordinator's process) and of the agents' process, which fork() starts with the same flag.
const totals = { coordinator: blank(), agents: blank() };
function blank() {
  return { scavenges: 0, pauseMs: 0, survivedMB: 0, promotedMB: 0 };
}
let figures;
for (const line of out.split('\n')) {
  if (line.startsWith('{')) figures = JSON.parse(line);
  if (!line.includes(' gc=s ')) continue;
  const t = line.startsWith(`[${child.pid}:`) ? totals.coordinator : totals.agents;
  const field = (name) => Number(new RegExp(` ${name}=([0-9.]+)`).exec(line)?.[1] ?? 0);
  t.scavenges++;
  t.pauseMs += field('pause');
  t.survivedMB += field('new_space_survived') / 1e6;
  t.promotedMB += field('promoted') / 1e6;
}
for (const t of Object.values(totals))
  for (const k of ['pauseMs', 'survivedMB', 'promotedMB']) t[k] = Math.round(t[k]);
console.log(
  JSON.stringify({
    root,
    workflowsPerSecond: figures?.workflowsPerSecond,
    cpuMicrosPerWorkflow: figures?.cpuMicrosPerWorkflow,
    scavenges: totals,
  }),
);
