import { expectEbmError } from '@ebm/core/testing';
import { describe, expect, it } from 'vitest';
import {
  checkerboard,
  circle,
  concentricRings,
  eightGaussians,
  gaussianMixture,
  grid,
  makeDataset,
  pinwheel,
  swissRoll,
  twoMoons,
  twoSpirals,
} from '../src/index.js';

describe('unknown option names', () => {
  const gens: [string, (o: never) => unknown][] = [
    ['gaussianMixture', gaussianMixture],
    ['eightGaussians', eightGaussians],
    ['twoMoons', twoMoons],
    ['swissRoll', swissRoll],
    ['circle', circle],
    ['checkerboard', checkerboard],
    ['pinwheel', pinwheel],
    ['twoSpirals', twoSpirals],
    ['concentricRings', concentricRings],
  ];
  it.each(gens)('%s rejects { n_samples } / { nsamples } and suggests nSamples', (name, gen) => {
    for (const bad of ['n_samples', 'nsamples', 'num_samples']) {
      const e = expectEbmError(() => gen({ [bad]: 10 } as never));
      expect(e.code).toBe('INVALID_PARAM');
      expect(e.message).toContain(name);
      expect(e.message).toContain('"nSamples"');
    }
  });
  it('grid and makeDataset and batches() check names too', () => {
    expect(expectEbmError(() => grid({ n_samples_per_dim: 3 } as never)).message).toContain(
      '"nSamplesPerDim"',
    );
    expect(expectEbmError(() => makeDataset('twoMoons', { noice: 0.1 } as never)).message).toContain(
      '"noise"',
    );
    const ds = twoMoons({ nSamples: 10 });
    expect(expectEbmError(() => ds.arrayBatches(2, { drop_last: true } as never).next()).message).toContain(
      '"dropLast"',
    );
  });
});

describe('sizes guarded before allocating', () => {
  it('nSamples: 1e9 and nSamplesPerDim: 1e5 fail fast', () => {
    const t0 = Date.now();
    for (const f of [
      () => twoMoons({ nSamples: 1e9 }),
      () => gaussianMixture({ nSamples: 1e9 }),
      () => grid({ nSamplesPerDim: 1e5 }),
    ]) {
      const e = expectEbmError(f);
      expect(e.code).toBe('INVALID_PARAM');
      expect(e.message).toMatch(/over the limit/);
    }
    expect(Date.now() - t0).toBeLessThan(500);
  });
});
