import type { ChainKernelInputs, EnergyKinds, KernelHint } from '@ebm/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  Ackley,
  Banana,
  DoubleWell,
  type DoubleWellParams,
  Funnel,
  Gaussian,
  GaussianMixture,
  Harmonic,
  type HarmonicParams,
  ManyWell,
  MLPEnergy,
  Rastrigin,
  Rosenbrock,
} from '../src/index.js';

describe('typed energy kinds', () => {
  it('every analytic energy’s kernelHint is typed by the EnergyKinds augmentation and matches it at run time', () => {
    const dw = new DoubleWell();
    expectTypeOf(dw.kernelHint).toEqualTypeOf<KernelHint<'doubleWell'>>();
    expectTypeOf(dw.kernelHint.params).toEqualTypeOf<Readonly<DoubleWellParams>>();
    expectTypeOf<ChainKernelInputs<'harmonic'>['params']>().toEqualTypeOf<Readonly<HarmonicParams>>();
    // @ts-expect-error a misspelt param of a declared kind does not compile
    const bad: KernelHint<'doubleWell'> = { kind: 'doubleWell', params: { barrierHieght: 1, b: 1 } };
    void bad;
    const energies = [
      dw,
      new Harmonic(),
      new Rosenbrock(),
      new Ackley(),
      new Rastrigin(),
      new Gaussian({ mean: [0, 1] }),
      new GaussianMixture({
        means: [
          [0, 0],
          [2, 2],
        ],
      }),
      new Funnel(),
      new Banana(),
      new ManyWell(),
      new MLPEnergy({ inputDim: 2, widths: [4] }),
    ];
    const expected: { [K in keyof EnergyKinds]: readonly string[] } = {
      doubleWell: ['barrierHeight', 'b'],
      harmonic: ['k'],
      rosenbrock: ['a', 'b'],
      ackley: ['a', 'b', 'c'],
      rastrigin: ['a'],
      gaussian: ['mean', 'precision'],
      gaussianMixture: ['logWeights', 'means', 'precisions', 'logDets'],
      funnel: ['scale'],
      banana: ['curvature', 'scale'],
      manyWell: [],
      mlp: ['sizes', 'activation', 'leakySlope', 'weights'],
    };
    const mlp = energies[energies.length - 1] as MLPEnergy;
    expectTypeOf(mlp.kernelHint).toEqualTypeOf<KernelHint<'mlp'> | undefined>();
    for (const e of energies) {
      if (e.kernelHint === undefined) throw new Error(`${e.name} has no kernel hint`);
      const kind = e.kernelHint.kind as keyof EnergyKinds;
      expect(Object.keys(e.kernelHint.params).sort(), kind).toEqual([...expected[kind]].sort());
    }
    expect(new Set(energies.map((e) => e.kernelHint?.kind)).size).toBe(Object.keys(expected).length);
    for (const e of energies) if ('dispose' in e && typeof e.dispose === 'function') e.dispose();
  });
});
