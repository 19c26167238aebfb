/**
 * Scores and draws the Energy Matching authors' own 2-D run (`packages/cuda/bench/em_reference.py` on the GPU, which
 * writes `em-reference.json`) exactly as `energy-matching-2d --setup paper` scores and draws ours: the same held-out
 * moons (torchdyn's, `paperMoons`), the same multi-bandwidth MMD², the same three panels (V, its Boltzmann density at
 * ε_max, samples over V) on the same grid.
 *
 *   pnpm --filter @ebm/examples exec tsx scripts/em-reference-figure.ts <em-reference.json> [outDir]
 *
 * Prints one JSON line of scores (the paper's training sampler from p₀, the same continued 200 steps at ε_max —
 * our `mmd2Long` — and the notebook's `simulate_piecewise_length` samples) and writes `em-reference-landscape.png/svg`
 * and `em-reference-notebook.png/svg` to outDir (default: beside the JSON).
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EnergyGrid } from '@ebm/viz/node';
import { landscapeFigure, paperMoons } from '../src/examples/energy-matching-2d.js';
import { writeFigure } from '../src/lib/output.js';
import { roundScore, SCORE_POINTS, scoreReference, scoreSamples } from '../src/lib/quality.js';

interface Reference {
  readonly source: string;
  readonly device: string;
  readonly settings: { readonly epsilonMax: number; readonly flowSteps: number; readonly jointSteps: number };
  readonly trainSeconds: number;
  readonly grid: { readonly lo: number; readonly hi: number; readonly n: number; readonly v: number[] };
  readonly samplesGibbs: number[];
  readonly samplesLong: number[];
  readonly samplesNotebook: number[];
  readonly notebookSteps: number;
}

const path = process.argv[2];
if (path === undefined) {
  console.error('usage: tsx scripts/em-reference-figure.ts <em-reference.json> [outDir]');
  process.exit(2);
}
const outDir = process.argv[3] ?? dirname(path);
const ref = JSON.parse(readFileSync(path, 'utf8')) as Reference;
const { lo, hi, n, v } = ref.grid;
if (v.length !== n * n) throw new Error(`grid: ${v.length} values for ${n} × ${n}`);
const grid: EnergyGrid = { nx: n, ny: n, xRange: [lo, hi], yRange: [lo, hi], values: Float64Array.from(v) };
// the example's reference: seed 0, SCORE_POINTS held-out moons of torchdyn's kind
const scoreRef = scoreReference('twoMoons', 0, SCORE_POINTS, paperMoons);
const score = (xs: number[]) => roundScore(scoreSamples(scoreRef, Float32Array.from(xs))).mmd;
const gibbs = score(ref.samplesGibbs);
const long = score(ref.samplesLong);
const notebook = score(ref.samplesNotebook);
const eps = ref.settings.epsilonMax;
const what = `the authors' code, ${ref.settings.flowSteps} + ${ref.settings.jointSteps} steps`;
await writeFigure(
  outDir,
  'em-reference-landscape',
  await landscapeFigure(grid, eps, Float32Array.from(ref.samplesGibbs), gibbs, `Energy matching, ${what}`),
);
await writeFigure(
  outDir,
  'em-reference-notebook',
  await landscapeFigure(
    grid,
    eps,
    Float32Array.from(ref.samplesNotebook),
    notebook,
    `Energy matching, ${what}: the notebook's sampler (${ref.notebookSteps} steps)`,
  ),
);
console.log(
  JSON.stringify({
    device: ref.device,
    trainSeconds: ref.trainSeconds,
    mmd2: gibbs.samples,
    mmd2Long: long.samples,
    mmd2Notebook: notebook.samples,
    notebookSteps: ref.notebookSteps,
    floor: gibbs.floor,
    noise: gibbs.baseline,
  }),
);
