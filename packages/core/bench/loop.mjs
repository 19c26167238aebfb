// pnpm bench (core): the overhead of the run loop (`sampleChainSync` / `sampleChain`: key derivation, state
// disposal, non-finite checks at progress points, abort checks, yields) against a bare hand-written loop over
// the same kernel, measured interleaved in the same run on the active backend. Ratio ≈ 1 means the loop costs
// nothing measurable next to the step. Writes bench-results/core-loop-<backend>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { foldIn, randomNormal, rngKey, sampleChain, sampleChainSync } from '../dist/index.js';

const backend = process.argv[2] ?? 'cpu';
if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
await tf.setBackend(backend);
await tf.ready();

/** Langevin on the DoubleWell (h = 2, b = 1), composite ops: the step the loop drives. */
const h = 0.01;
const kernel = {
  name: 'langevin-doubleWell',
  init: (x0, step = 0) => ({ x: tf.clone(x0), step }),
  step: (s, key) => ({
    state: {
      x: tf.tidy(() => {
        const g = tf.mul(8, tf.mul(s.x, tf.sub(tf.square(s.x), 1)));
        return tf.add(tf.sub(s.x, tf.mul(g, h)), tf.mul(randomNormal(key, s.x.shape), Math.sqrt(2 * h)));
      }),
      step: s.step + 1,
    },
    info: {},
  }),
};
function bare(x0, nSteps, seed) {
  const runKey = rngKey(seed);
  let s = kernel.init(x0);
  for (let t = 0; t < nSteps; t++) {
    const next = kernel.step(s, foldIn(runKey, s.step)).state;
    s.x.dispose();
    s = next;
  }
  return s.x;
}
const cases = [
  [1024, 128, 100],
  [256, 32, 200],
  [64, 8, 200],
];
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const reps = 5;
const rows = [];
for (const [b, d, n] of cases) {
  const x0 = tf.randomNormal([b, d]);
  const times = { bare: [], sync: [], async: [] };
  for (let r = 0; r < reps + 1; r++) {
    for (const [k, run] of [
      ['bare', () => bare(x0, n, 1)],
      ['sync', () => sampleChainSync(kernel, { x0, nSteps: n, seed: 1 }).samples],
      ['async', async () => (await sampleChain(kernel, { x0, nSteps: n, seed: 1 })).samples],
    ]) {
      const t0 = performance.now();
      const out = await run();
      await out.data();
      out.dispose();
      if (r > 0) times[k].push(performance.now() - t0); // first round: warm-up
    }
  }
  x0.dispose();
  const row = {
    case: `${b}x${d}x${n}`,
    bareMs: median(times.bare),
    syncMs: median(times.sync),
    asyncMs: median(times.async),
  };
  row.syncRatio = row.syncMs / row.bareMs;
  row.asyncRatio = row.asyncMs / row.bareMs;
  rows.push(row);
  console.log(
    `${backend} ${row.case}: bare ${row.bareMs.toFixed(1)} ms, sampleChainSync ${row.syncMs.toFixed(1)} ms (×${row.syncRatio.toFixed(3)}), sampleChain ${row.asyncMs.toFixed(1)} ms (×${row.asyncRatio.toFixed(3)})`,
  );
}
mkdirSync('bench-results', { recursive: true });
writeFileSync(
  `bench-results/core-loop-${backend}.json`,
  `${JSON.stringify({ backend, machine: `${os.cpus()[0]?.model} ×${os.cpus().length}`, date: new Date().toISOString(), reps, rows }, null, 2)}\n`,
);
