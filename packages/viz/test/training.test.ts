import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { plotEnergyEvolution, plotTrainingCurves } from '../src/index.js';
import { ar1, byAria, expectEbmError, renderBoth } from './helpers.js';

const history = Array.from({ length: 300 }, (_, i) => ({
  step: 10 * i,
  loss: Math.exp(-i / 60) + 0.02 * Math.sin(i),
  positiveEnergy: -1 - i / 100,
  negativeEnergy: 1 + i / 200,
  gradNorm: 3 * Math.exp(-i / 80),
}));

describe('plotTrainingCurves', () => {
  it('groups loss, E⁺/E⁻ and gradient norm into stacked panels on a shared step axis', async () => {
    const fig = await plotTrainingCurves(history, { smoothing: 0.8 });
    expect(fig.data['groups']).toEqual([['loss'], ['positiveEnergy', 'negativeEnergy'], ['gradNorm']]);
    expect(fig.panels.length).toBe(3);
    const { svg, png } = renderBoth(fig, 'training');
    for (const t of ['loss', 'positiveEnergy', 'negativeEnergy', 'gradNorm', 'gradient norm', 'step']) {
      expect(svg).toContain(t);
    }
    expect(byAria(svg, 'line')).toBe(8); // raw + smoothed for 4 metrics
    expect(byAria(svg, 'y-axis tick label')).toBe(3);
    expect(png.nonBackground).toBeGreaterThan(0.03 * png.width * png.height);
    // x domain is the logged step, not the index
    expect(svg).toContain('2,500');
  });

  it('accepts columns and explicit groups', async () => {
    const fig = await plotTrainingCurves(
      { loss: [3, 2, 1], acc: [0.1, 0.5, 0.9] },
      { groups: [['loss', 'acc']], groupTitles: ['both'] },
    );
    expect(fig.panels.length).toBe(1);
    const { svg } = renderBoth(fig, 'training-columns');
    expect(svg).toContain('both');
    expect(byAria(svg, 'line')).toBe(2);
  });

  it('rejects empty and ragged histories and unknown groups', async () => {
    await expectEbmError(plotTrainingCurves([]), 'INVALID_PARAM', 'history');
    await expectEbmError(plotTrainingCurves({ loss: [1, 2], e: [1] }), 'SHAPE_MISMATCH', 'history');
    await expectEbmError(
      plotTrainingCurves({ loss: [1] }, { groups: [['nope']] }),
      'INVALID_PARAM',
      'groups',
    );
    await expectEbmError(plotTrainingCurves({ loss: [1] }, { smoothing: 1 }), 'INVALID_PARAM', 'smoothing');
  });
});

describe('plotEnergyEvolution', () => {
  it('draws per-chain energies thin and their mean bold', async () => {
    const chains = [ar1(400, 0.9, 1, 3), ar1(400, 0.9, 2, 2), ar1(400, 0.9, 3, 1)];
    const fig = await plotEnergyEvolution(chains);
    const mean = fig.data['mean'] as Float64Array;
    expect(mean[17]).toBeCloseTo((chains[0]![17]! + chains[1]![17]! + chains[2]![17]!) / 3, 12);
    const { svg, png } = renderBoth(fig, 'energy-evolution');
    expect(byAria(svg, 'line')).toBe(4);
    expect(svg).toContain('3 chains');
    expect(png.nonBackground).toBeGreaterThan(0.03 * png.width * png.height);
  });

  it('accepts one series (array or tensor)', async () => {
    const t = tf.tensor1d(ar1(100, 0.5, 4));
    const fig = await plotEnergyEvolution(t, { label: 'E' });
    t.dispose();
    const { svg } = renderBoth(fig, 'energy-evolution-single');
    expect(byAria(svg, 'line')).toBe(1);
    await expectEbmError(plotEnergyEvolution([]), 'INVALID_PARAM', 'energies');
    await expectEbmError(plotEnergyEvolution([[1, 2], [1]]), 'SHAPE_MISMATCH', 'energies');
  });
});
