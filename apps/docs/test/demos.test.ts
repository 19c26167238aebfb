/**
 * The demos' logic in Node, on the cpu backend: every gallery target runs with every gallery sampler (the
 * e2e test drives two of them in Chromium), every playground recipe trains, and the gallery's URL settings
 * round-trip and reject junk.
 */
import { disposeSampleResult, useBackend } from '@ebm/core';
import { fit } from '@ebm/losses';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatSettings, parseSettings } from '../demos/gallery.js';
import { LOSSES, type LossName, makeRecipe, standardData } from '../demos/recipes.js';
import { SAMPLERS, type SamplerName, TARGETS, type TargetName } from '../demos/targets.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('sampler gallery menu', () => {
  for (const t of Object.keys(TARGETS) as TargetName[]) {
    it(`${t}: every sampler takes finite steps`, async () => {
      const before = tf.memory().numTensors;
      const energy = TARGETS[t].make();
      for (const s of Object.keys(SAMPLERS) as SamplerName[]) {
        const sampler = SAMPLERS[s].make(energy, SAMPLERS[s].defaultStep);
        const [lo, hi] = TARGETS[t].box;
        const x0 = tf.randomUniform([4, 2], lo, hi, 'float32', 1) as tf.Tensor2D;
        const r = await sampler.sample({ x0, nSteps: 3, seed: 1, trajectory: true, diagnostics: true });
        const v = await r.samples.data();
        expect(v.every(Number.isFinite), `${t} × ${s}`).toBe(true);
        expect(r.trajectory?.x?.shape, `${t} × ${s}`).toEqual([4, 3, 2]);
        x0.dispose();
        disposeSampleResult(r);
      }
      energy.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('training playground recipes', () => {
  for (const l of Object.keys(LOSSES) as LossName[]) {
    it(`${l} trains a few steps with finite losses`, async () => {
      const before = tf.memory().numTensors;
      const data = standardData('twoMoons', 256, 0);
      const recipe = makeRecipe(l, 2, 0);
      const optimizer = tf.train.adam(5e-3);
      const { history } = await fit({ loss: recipe.loss, optimizer, data, batchSize: 64, steps: 3, seed: 0 });
      expect(history.map((m) => m.loss).every(Number.isFinite)).toBe(true);
      data.dispose();
      optimizer.dispose();
      recipe.loss.dispose?.();
      recipe.energy.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('gallery settings in the URL', () => {
  it('round-trips and falls back to defaults on junk', () => {
    const s = parseSettings('?target=funnel&sampler=nuts&step=0.3&chains=64&seed=9&backend=wasm');
    expect(s).toEqual({ target: 'funnel', sampler: 'nuts', step: 0.3, chains: 64, seed: 9, backend: 'wasm' });
    expect(parseSettings(`?${formatSettings(s)}`)).toEqual(s);
    const d = parseSettings('?target=__proto__&sampler=x&step=-1&chains=1e9&backend=cuda');
    expect(d.target).toBe('mixture');
    expect(d.sampler).toBe('mala');
    expect(d.step).toBe(1e-4);
    expect(d.chains).toBe(512);
    expect(d.backend).toBe('auto');
  });
});
