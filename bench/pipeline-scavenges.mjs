// `node bench/pipeline-scavenges.mjs [seconds]`: what survives each young-generation collection (scavenge) while
// a process sends 3,000 small pipelines a second, with Hive's lean pipelines and with ioredis's own on the same
// connection (test/fixtures/pipeline-churn.mjs under --trace-gc-nvp; built output, so `npm run build` first).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REDIS_URL = process.env.HIVE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const seconds = process.argv[2] ?? '5';
const field = (line, name) => Number(new RegExp(`\\b${name}=([0-9.]+)`).exec(line)?.[1]);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

for (const which of ['lean', 'ioredis']) {
  const out = execFileSync(
    process.execPath,
    [
      '--trace-gc-nvp',
      path.join(ROOT, 'test/fixtures/pipeline-churn.mjs'),
      REDIS_URL,
      which,
      `bench-churn-${process.pid}`,
      seconds,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const lines = out.split('\n');
  // The first scavenges carry start-up (modules, the connection); the churn is what follows.
  const scavenges = lines.filter((l) => l.includes('gc=s ')).slice(3);
  const run = JSON.parse(lines.find((l) => l.startsWith('{')));
  const kb = (name) => (mean(scavenges.map((l) => field(l, name))) / 1024).toFixed(0);
  const pauses = scavenges.map((l) => field(l, 'pause'));
  console.log(
    `${which.padEnd(7)} ${run.pipelines} pipelines, ${scavenges.length} scavenges: survived ${kb('new_space_survived')} KB,` +
      ` promoted ${kb('promoted')} KB, pause mean ${mean(pauses).toFixed(2)} ms, max ${Math.max(...pauses).toFixed(1)} ms`,
  );
}
