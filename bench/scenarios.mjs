// The benchmark scenarios of issue 9. Each returns a plain object of figures.

import { startBullmqSystem } from './lib/bullmq-system.mjs';
import { sleep, summarize } from './lib/common.mjs';
import { startHiveSystem, TWO_STEP } from './lib/hive-system.mjs';

const BATCH = 100;

async function hiveThroughput(n, opts = {}) {
  const hive = await startHiveSystem(opts);
  try {
    const ids = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i += BATCH) {
      const res = await hive.submit(
        Array.from({ length: Math.min(BATCH, n - i) }, () => TWO_STEP),
        `bench-tp-${i}`,
      );
      for (const r of res) ids.push(r.id);
    }
    await hive.waitAll(ids);
    const seconds = (performance.now() - t0) / 1000;
    return { workflows: n, seconds: round(seconds), workflowsPerSecond: Math.round(n / seconds) };
  } finally {
    await hive.stop();
  }
}

async function bullmqThroughput(n, opts = {}) {
  const bull = await startBullmqSystem(opts);
  try {
    const ids = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i += BATCH) ids.push(...(await bull.submit(Math.min(BATCH, n - i))));
    await bull.waitAll(ids);
    const seconds = (performance.now() - t0) / 1000;
    return { workflows: n, seconds: round(seconds), workflowsPerSecond: Math.round(n / seconds) };
  } finally {
    await bull.stop();
  }
}

const round = (v) => Math.round(v * 100) / 100;

/** 1. Throughput: the two-step workflow, agents at concurrency 50, submitted in batches of 100. */
export async function throughput({ workflows = 10_000 } = {}) {
  const hive = await hiveThroughput(workflows);
  const bullmq = await bullmqThroughput(workflows);
  return { hive, bullmq, ratio: round(hive.workflowsPerSecond / bullmq.workflowsPerSecond) };
}

/** Offers `rate` workflows per second for `seconds`, in ticks of 10 ms; returns submit→completed latencies. */
async function offered(system, rate, seconds, submitOne) {
  const started = new Map();
  const ids = [];
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    const count = due - sent;
    if (count > 0) {
      const at = performance.now();
      const batch = await submitOne(count);
      for (const id of batch) {
        started.set(id, at);
        ids.push(id);
      }
      sent += count;
    }
    await sleep(10);
  }
  await system.waitAll(ids);
  return summarize(ids.map((id) => system.completedAt.get(id) - started.get(id)));
}

/** 2. Latency: submit→completed at 200 and 1,000 workflows per second. */
export async function latency({ rates = [200, 1000], seconds = 10 } = {}) {
  const out = {};
  for (const rate of rates) {
    const hive = await startHiveSystem();
    let h;
    try {
      h = await offered(hive, rate, seconds, async (count) =>
        (
          await hive.submit(
            Array.from({ length: count }, () => TWO_STEP),
            'bench-lat',
          )
        ).map((r) => r.id),
      );
    } finally {
      await hive.stop();
    }
    const bull = await startBullmqSystem();
    let b;
    try {
      b = await offered(bull, rate, seconds, (count) => bull.submit(count));
    } finally {
      await bull.stop();
    }
    out[`${rate}/s`] = { hiveMs: h, bullmqMs: b };
  }
  return out;
}

/** 3. Dispatch: queued→started (task.started data) for single-task workflows offered at 500 tasks/s. */
export async function dispatch({ rate = 500, seconds = 10 } = {}) {
  const hive = await startHiveSystem();
  try {
    const one = { tasks: [{ type: 'api_creation', agent: 'backend_agent' }] };
    await offered(hive, rate, seconds, async (count) =>
      (
        await hive.submit(
          Array.from({ length: count }, () => one),
          'bench-dispatch',
        )
      ).map((r) => r.id),
    );
    return { rate, queuedToStartedMs: summarize(hive.startedAtByTask) };
  } finally {
    await hive.stop();
  }
}

/** 5. Soak: many tasks through one hive; Redis memory and PostgreSQL size before, during and after. */
export async function soak({ tasks = 100_000 } = {}) {
  const hive = await startHiveSystem();
  try {
    const samples = [];
    const sample = async (phase) =>
      samples.push({ phase, redisBytes: await hive.redisMemory(), postgresBytes: await hive.dbSize() });
    await sample('before');
    const workflows = Math.ceil(tasks / 2);
    const step = Math.max(BATCH, Math.floor(workflows / 10));
    for (let done = 0; done < workflows; done += step) {
      const ids = [];
      for (let i = done; i < Math.min(workflows, done + step); i += BATCH) {
        const res = await hive.submit(
          Array.from({ length: Math.min(BATCH, Math.min(workflows, done + step) - i) }, () => TWO_STEP),
          'bench-soak',
        );
        ids.push(...res.map((r) => r.id));
      }
      await hive.waitAll(ids);
      await sample(`after ${Math.min(workflows, done + step) * 2} tasks`);
    }
    await sleep(1000);
    await sample('after');
    const redis = samples.map((s) => s.redisBytes);
    return {
      tasks: workflows * 2,
      samples,
      redisGrowthBytes: redis.at(-1) - redis[0],
      redisMaxBytes: Math.max(...redis),
    };
  } finally {
    await hive.stop();
  }
}

/** 6. Scale: one coordinator vs two (coordinators and agents in separate processes). */
export async function scale({ workflows = 10_000 } = {}) {
  const one = await hiveThroughput(workflows, { coordinators: 1 });
  const two = await hiveThroughput(workflows, { coordinators: 2 });
  return { oneCoordinator: one, twoCoordinators: two };
}

/** 7. Overhead: logging at info (and an agent log line per task) vs silent. */
export async function overhead({ workflows = 5_000 } = {}) {
  const off = await hiveThroughput(workflows, { logLevel: 'silent' });
  const on = await hiveThroughput(workflows, { logLevel: 'info' });
  return {
    silent: off,
    info: on,
    costPercent: round((1 - on.workflowsPerSecond / off.workflowsPerSecond) * 100),
  };
}
