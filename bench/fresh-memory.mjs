#!/usr/bin/env node
// What memory the process touches for the first time costs on this machine, and why it matters for strings:
// V8 keeps strings up to 128 KB in its (reused) young generation and puts larger ones in fresh pages of their
// own. On a VM where a first-touch page fault is expensive, joining a few hundred kilobytes of SQL is then
// hundreds of times slower per byte than joining a little less (docs/benchmarks.md, "Scripts written piece by
// piece").   node bench/fresh-memory.mjs
const ROUNDS = 300;
const perCall = (f) => {
  const t = performance.now();
  for (let i = 0; i < ROUNDS; i++) f(i);
  return ((performance.now() - t) / ROUNDS) * 1000;
};

console.log('joining 8 strings into one (µs per join, MB/s)');
for (const kb of [32, 64, 120, 128, 200, 300, 600]) {
  const parts = Array.from({ length: 8 }, (_, i) => 'x'.repeat(kb * 128) + i);
  const us = perCall(() => parts.join(';'));
  console.log(
    `  ${String(kb).padStart(4)} KB  ${us.toFixed(0).padStart(6)} µs  ${((kb * 1024) / us).toFixed(0).padStart(6)} MB/s`,
  );
}

console.log('filling a buffer (µs per call): new each time vs reused');
for (const kb of [64, 127, 129, 300]) {
  const reused = Buffer.allocUnsafe(kb * 1024);
  const fresh = perCall(() => Buffer.allocUnsafe(kb * 1024).fill(1));
  const again = perCall(() => reused.fill(1));
  console.log(
    `  ${String(kb).padStart(4)} KB  new ${fresh.toFixed(0).padStart(5)} µs  reused ${again.toFixed(0).padStart(4)} µs`,
  );
}
