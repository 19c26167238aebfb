/**
 * The bad-input matrix of @ebm/datasets: every generator's options (nSamples, noise, seed, unknown names),
 * `makeDataset`, `PointDataset` and `permutation` × the classic bad values must give a clear EbmError (see
 * `badInputCases` in @ebm/core/testing).
 */
import { rngKey } from '@ebm/core';
import { type BadInputCase, badInputCases, describeBadInputMatrix } from '@ebm/core/testing';
import { describe, it } from 'vitest';
import * as datasets from '../src/index.js';
import {
  checkerboard,
  circle,
  concentricRings,
  eightGaussians,
  gaussianMixture,
  grid,
  makeDataset,
  PointDataset,
  permutation,
  pinwheel,
  swissRoll,
  twoMoons,
  twoSpirals,
} from '../src/index.js';

const generators = {
  gaussianMixture,
  eightGaussians,
  twoMoons,
  swissRoll,
  circle,
  checkerboard,
  pinwheel,
  twoSpirals,
  concentricRings,
} as const;
const cases: BadInputCase[] = [];
for (const [name, gen] of Object.entries(generators) as [string, (o?: unknown) => unknown][]) {
  cases.push(
    ...badInputCases(name, 'options', { type: 'options' }, (v) => gen(v)),
    ...badInputCases(name, 'nSamples', { type: 'number', min: 'positive', integer: true, huge: 1e10 }, (v) =>
      gen({ nSamples: v }),
    ),
    ...badInputCases(name, 'seed', { type: 'object', wrong: 1.5 }, (v) => gen({ nSamples: 4, seed: v })),
  );
  if (name !== 'gaussianMixture' && name !== 'eightGaussians')
    cases.push(
      ...badInputCases(name, 'noise', { type: 'number', min: 'nonNegative' }, (v) =>
        gen({ nSamples: 4, noise: v }),
      ),
    );
}
cases.push(
  ...badInputCases('gaussianMixture', 'std', { type: 'number', min: 'nonNegative' }, (v) =>
    gaussianMixture({ nSamples: 4, std: v as number }),
  ),
  ...badInputCases(
    'gaussianMixture',
    'nComponents',
    { type: 'number', min: 'positive', integer: true, huge: 1e9 },
    (v) => gaussianMixture({ nSamples: 4, nComponents: v as number }),
  ),
  ...badInputCases('pinwheel', 'nClasses', { type: 'number', min: 'positive', integer: true }, (v) =>
    pinwheel({ nSamples: 4, nClasses: v as number }),
  ),
  ...badInputCases('grid', 'options', { type: 'options' }, (v) => grid(v as never)),
  ...badInputCases(
    'grid',
    'nSamplesPerDim',
    { type: 'number', min: 'positive', integer: true, huge: 1e10 },
    (v) => grid({ nSamplesPerDim: v as number }),
  ),
  ...badInputCases('makeDataset', 'name', { type: 'name' }, (v) => makeDataset(v as never)),
  ...badInputCases('makeDataset', 'options', { type: 'options' }, (v) => makeDataset('twoMoons', v as never)),
  ...badInputCases(
    'permutation',
    'n',
    { type: 'number', min: 'nonNegative', integer: true, huge: 1e12 },
    (v) => permutation(v as number, rngKey(0)),
  ),
  ...badInputCases('permutation', 'key', { type: 'object' }, (v) => permutation(4, v as never)),
  ...badInputCases(
    'PointDataset',
    'dim',
    { type: 'number', min: 'positive', integer: true },
    (v) => new PointDataset('d', new Float32Array(4), v as number),
  ),
  ...badInputCases(
    'PointDataset',
    'data',
    { type: 'object', wrong: [0, 1] },
    (v) => new PointDataset('d', v as never, 2),
  ),
  ...badInputCases(
    'PointDataset',
    'data (non-finite)',
    { type: 'object', wrong: new Float32Array([0, Number.NaN]) },
    (v) => new PointDataset('d', v as Float32Array, 2),
    { codes: { 'wrong type': ['NON_FINITE'] } },
  ),
);

const EXEMPT: Record<string, string> = {
  DATASETS: 'a constant',
  DATASET_NAMES: 'a constant',
  EIGHT_GAUSSIAN_CENTERS: 'a constant',
  isCheckerboardCell: 'a predicate on two numbers (any numbers are valid)',
};

describeBadInputMatrix({ describe, it }, '@ebm/datasets', cases, datasets, EXEMPT);
