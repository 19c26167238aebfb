/**
 * Recipe search: trains and scores a list of recipes (JSON lines on stdin or a file), one at a time, and prints
 * one JSON line per run with the score, the CPU time and the settings. Shard a list over processes with
 * `--shard i/n`. Example:
 *
 *   echo '{"dataset":"twoMoons","recipe":{...}}' | tsx scripts/recipe-search.ts --backend wasm
 *
 * A line is `{ dataset, seed?, recipe }` where recipe is a full {@link Recipe} or `{ base: "<dataset>/<loss>", ... }`
 * (a table recipe with overrides).
 */
import { readFileSync } from 'node:fs';
import type { DatasetName } from '@ebm/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { RECIPES } from '../src/demo/recipe-table.js';
import {
  type PreparedRecipe,
  prepareRecipe,
  type Recipe,
  releaseTraining,
  sampleAndScore,
  trainMore,
} from '../src/demo/recipes.js';
import { type BackendName, selectBackend } from '../src/lib/backend.js';
import { roundScore, type ScoreReference, scoreReference } from '../src/lib/quality.js';

const args = process.argv.slice(2);
const opt = (name: string, d: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : d;
};
const backend = opt('backend', 'wasm') as BackendName;
const [shard, nShards] = opt('shard', '0/1').split('/').map(Number) as [number, number];
const file = opt('file', '');
if (process.env.EBM_WASM_DIR) {
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  setWasmPaths(`${process.env.EBM_WASM_DIR}/`);
}
await selectBackend(backend);
const lines = (file ? readFileSync(file, 'utf8') : readFileSync(0, 'utf8'))
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l.length > 0 && !l.startsWith('#'));
const refs = new Map<string, ScoreReference>();
const deadline = Date.now() + Number(opt('minutes', '1e6')) * 60_000;
for (let i = shard; i < lines.length && Date.now() < deadline; i += nShards) {
  const spec = JSON.parse(lines[i]!) as {
    dataset: DatasetName;
    seed?: number;
    recipe: Partial<Recipe> & { base?: string };
    tag?: string;
    /** Cumulative update counts at which to score (default: the recipe's steps). */
    segments?: number[];
    /** Final-run Langevin steps to score at (default: the recipe's sampleSteps). */
    sampleSteps?: number[];
    /** Final-run noise scales to score (default: the recipe's). */
    noiseScales?: number[];
    /** Annealed final runs (one per final noise scale, over the last sampleSteps). */
    anneals?: number[];
  };
  const seed = spec.seed ?? 0;
  const { base, ...over } = spec.recipe;
  const recipe = { ...(base ? RECIPES[base as keyof typeof RECIPES] : {}), ...over } as Recipe;
  const key = `${spec.dataset}/${seed}`;
  if (!refs.has(key)) refs.set(key, scoreReference(spec.dataset, seed));
  let p: PreparedRecipe | undefined;
  try {
    p = prepareRecipe(spec.dataset, recipe, { seed, reference: refs.get(key)! });
    let trainCpu = 0;
    for (const seg of spec.segments ?? [recipe.steps]) {
      trainCpu += await trainMore(p, seg - p.stepsDone);
      const h = p.history;
      const tail = h.slice(-Math.max(1, Math.floor(h.length / 10)));
      const variants: { ns: number; anneal: number | null; steps: number[] }[] = [
        ...(spec.noiseScales ?? [recipe.sampleNoiseScale ?? recipe.noiseScale]).map((ns) => ({
          ns,
          anneal: spec.anneals ? null : (recipe.sampleNoiseFinal ?? null),
          steps: spec.sampleSteps ?? [recipe.sampleSteps],
        })),
        ...(spec.anneals ?? []).map((a) => ({
          ns: recipe.sampleNoiseScale ?? recipe.noiseScale,
          anneal: a,
          steps: [(spec.sampleSteps ?? [recipe.sampleSteps]).at(-1)!],
        })),
      ];
      for (const { ns, anneal, steps } of variants) {
        const scores = await sampleAndScore(p, { steps, noiseScale: ns, noiseFinal: anneal });
        for (const sc of scores) {
          console.log(
            JSON.stringify({
              i,
              tag: spec.tag,
              dataset: spec.dataset,
              seed,
              trained: p.stepsDone,
              sampleSteps: sc.steps,
              sampleNoise: ns,
              anneal,
              score: roundScore(sc.score),
              cpuMs: { train: Math.round(trainCpu), sample: Math.round(sc.cpuMs) },
              lossEnd: tail.reduce((a, m) => a + m.loss, 0) / tail.length,
              ePos: tail.reduce((a, m) => a + (m.energyPos ?? 0), 0) / tail.length,
              eNeg: tail.reduce((a, m) => a + (m.energyNeg ?? 0), 0) / tail.length,
              rollbacks: p.rollbacks.length,
              recipe,
            }),
          );
        }
      }
    }
  } catch (e) {
    console.log(JSON.stringify({ i, tag: spec.tag, dataset: spec.dataset, seed, error: String(e), recipe }));
  } finally {
    if (p) {
      releaseTraining(p);
      p.energy.dispose();
    }
  }
  if (tf.memory().numTensors > 200) console.error(`[search] ${tf.memory().numTensors} tensors alive`);
}
