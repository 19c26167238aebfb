// pnpm bench (core): exact OT solvers on the same cost matrices, interleaved in one run — the Hungarian method
// (exact, O(n³)) against Bertsekas' auction with ε-scaling (TorchEBM's solver, tol 1e-4 on the max-normalised
// cost) and the greedy matching, on noise → two-moons-like batches. Reports median milliseconds, the ratio to
// Hungarian, and each solver's cost gap to the optimum. Writes bench-results/core-couplings.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import {
  assignmentCost,
  auctionAssignment,
  greedyAssignment,
  hungarianAssignment,
  normalArray,
  rngKey,
  uniformArray,
} from '../dist/index.js';

function costMatrix(n, seed) {
  const z = normalArray(rngKey(seed), [n, 2]);
  const u = uniformArray(rngKey(seed + 1), [n]);
  const c = new Float32Array(n * n);
  const m = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = Math.PI * u[i];
    m[2 * i] = i % 2 ? 1 - Math.cos(a) : Math.cos(a);
    m[2 * i + 1] = i % 2 ? 0.5 - Math.sin(a) : Math.sin(a);
  }
  let max = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const v = (z[2 * i] - m[2 * j]) ** 2 + (z[2 * i + 1] - m[2 * j + 1]) ** 2;
      c[i * n + j] = v;
      max = Math.max(max, v);
    }
  for (let k = 0; k < c.length; k++) c[k] /= max;
  return c;
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const rows = [];
for (const n of [64, 128, 256, 512]) {
  const reps = n >= 512 ? 3 : 7;
  const times = { hungarian: [], auction: [], greedy: [] };
  const gap = { hungarian: 0, auction: 0, greedy: 0 };
  for (let r = 0; r < reps + 1; r++) {
    const c = costMatrix(n, 100 + r);
    const res = {};
    for (const [k, f] of [
      ['hungarian', () => hungarianAssignment(c, n)],
      ['auction', () => auctionAssignment(c, n, { tol: 1e-4 }).assignment],
      ['greedy', () => greedyAssignment(c, n)],
    ]) {
      const t0 = performance.now();
      res[k] = f();
      if (r > 0) times[k].push(performance.now() - t0); // first round: warm-up
    }
    if (r > 0) {
      const best = assignmentCost(c, n, res.hungarian);
      for (const k of Object.keys(gap)) gap[k] += (assignmentCost(c, n, res[k]) - best) / best / reps;
    }
  }
  const row = { n, reps };
  for (const k of Object.keys(times)) {
    row[`${k}Ms`] = median(times[k]);
    row[`${k}RelGap`] = gap[k];
  }
  row.auctionRatio = row.auctionMs / row.hungarianMs;
  row.greedyRatio = row.greedyMs / row.hungarianMs;
  rows.push(row);
  console.log(
    `n=${n}: hungarian ${row.hungarianMs.toFixed(1)} ms, auction ${row.auctionMs.toFixed(1)} ms (×${row.auctionRatio.toFixed(2)}, gap ${row.auctionRelGap.toExponential(1)}), greedy ${row.greedyMs.toFixed(1)} ms (×${row.greedyRatio.toFixed(2)}, gap ${(100 * row.greedyRelGap).toFixed(1)}%)`,
  );
}
mkdirSync('bench-results', { recursive: true });
writeFileSync(
  'bench-results/core-couplings.json',
  JSON.stringify(
    { machine: `${os.cpus()[0]?.model} ×${os.cpus().length}`, node: process.version, rows },
    null,
    2,
  ),
);
