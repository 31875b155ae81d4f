#!/usr/bin/env node
// Test agent: sleeps for input.ms (or forever), exits with input.exitCode, can ignore SIGTERM.
import { readTask, writeOutput } from './lib.mjs';

const task = await readTask();
const { ms = 0, exitCode = 0, ignoreTerm = false, failUntilAttempt = 0, pidFile } = task.input ?? {};
if (pidFile) (await import('node:fs')).writeFileSync(pidFile, String(process.pid));
if (ignoreTerm) process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
console.log(`sleepy attempt ${task.attempt} pid ${process.pid}`);
if (ms < 0) setInterval(() => {}, 1 << 30);
else {
  await new Promise((r) => setTimeout(r, ms));
  if (task.attempt <= failUntilAttempt) {
    console.error(`failing attempt ${task.attempt}`);
    process.exit(3);
  }
  writeOutput({ slept: ms, attempt: task.attempt, pid: process.pid });
  process.exit(exitCode);
}
