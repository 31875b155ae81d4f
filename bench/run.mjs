#!/usr/bin/env node
// `hive bench [--json] [--only a,b] [--quick] [--cold]`: runs the scenarios against the built output (dist/).
import { createRedis } from '../dist/bus/redis.js';
import { machine, REDIS_URL } from './lib/common.mjs';
import * as scenarios from './scenarios.mjs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
// Read by the scenarios when they run: measure from a standing start instead of after a warm-up.
if (args.includes('--cold')) process.env.HIVE_BENCH_WARMUP = '0';
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const size = (full, small) => (quick ? small : full);
const plan = {
  throughput: () => scenarios.throughput({ workflows: size(10_000, 2_000) }),
  latency: () => scenarios.latency({ seconds: size(10, 4) }),
  dispatch: () => scenarios.dispatch({ seconds: size(10, 4) }),
  events: () => scenarios.events({ seconds: size(10, 4) }),
  dashboard: () => scenarios.dashboard({ seconds: size(10, 4) }),
  scale: () => scenarios.scale({ workflows: size(10_000, 2_000) }),
  overhead: () => scenarios.overhead({ workflows: size(5_000, 1_000) }),
  soak: () => scenarios.soak({ tasks: Number(process.env.HIVE_SOAK_TASKS ?? size(100_000, 10_000)) }),
};
const redis = createRedis(REDIS_URL, 'bench-info');
const result = { machine: await machine(redis), date: new Date().toISOString(), scenarios: {} };
redis.disconnect();
if (!json) console.log(`machine: ${JSON.stringify(result.machine)}`);
for (const [name, fn] of Object.entries(plan)) {
  if (only && !only.includes(name)) continue;
  const t0 = Date.now();
  result.scenarios[name] = await fn();
  if (!json)
    console.log(
      `${name} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${JSON.stringify(result.scenarios[name], null, 2)}`,
    );
}
if (json) console.log(JSON.stringify(result, null, 2));
process.exit(0);
