#!/usr/bin/env node
// Demo reviewer agent: answers a review prompt with deterministic findings (no model service needed).
import { readTask, writeOutput } from './lib.mjs';

const task = await readTask();
const prompt = String(task.input?.prompt ?? '');
const lines = prompt.split('\n');
console.log(`reviewing a prompt of ${lines.length} lines`);
const findings = lines.filter((l) => /TODO|FIXME|XXX/.test(l)).map((l) => `unresolved marker: ${l.trim()}`);
writeOutput({ summary: `${findings.length} finding(s)`, findings, promptChars: prompt.length });
