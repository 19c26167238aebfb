// pnpm bench (core): counter-based normals (Philox4x32-10 + Box–Muller on the host, core's `randomNormal`
// kernel fallback) against tfjs's own tf.randomNormal, measured in the same run on the active backend.
// Prints medians and ratios; writes bench-results/core-rng.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { foldIn, randomNormal, rngKey } from '../dist/index.js';

const backend = process.argv[2] ?? 'cpu';
if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
await tf.setBackend(backend);
await tf.ready();
const sizes = [
  [1000, 2],
  [10000, 2],
  [1000, 64],
  [10000, 64],
];
const reps = 30;
function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}
function time(fn) {
  for (let i = 0; i < 5; i++) fn(i).dispose();
  const t = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const out = fn(i + 5);
    out.dataSync();
    t.push(performance.now() - t0);
    out.dispose();
  }
  return median(t);
}
const key = rngKey(1);
const rows = [];
for (const [n, d] of sizes) {
  const base = time(() => tf.randomNormal([n, d]));
  const ours = time((i) => randomNormal(foldIn(key, i), [n, d]));
  rows.push({
    shape: `${n}x${d}`,
    tfRandomNormalMs: base,
    philoxMs: ours,
    ratio: base / ours,
    nsPerElement: (ours * 1e6) / (n * d),
  });
}
const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, node ${process.version}`;
console.log(`core RNG bench on ${backend} (${machine}); median of ${reps}`);
console.log('shape        tf.randomNormal ms   philox ms   speed-up   ns/elem');
for (const r of rows) {
  console.log(
    `${r.shape.padEnd(12)} ${r.tfRandomNormalMs.toFixed(3).padStart(15)} ${r.philoxMs.toFixed(3).padStart(11)} ${r.ratio.toFixed(2).padStart(9)}x ${r.nsPerElement.toFixed(1).padStart(9)}`,
  );
}
mkdirSync('bench-results', { recursive: true });
writeFileSync(
  `bench-results/core-rng-${backend}.json`,
  JSON.stringify({ backend, machine, reps, rows }, null, 2),
);
