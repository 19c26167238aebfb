import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import './register.js';
import type { ChainKernelInputs, KernelHint, LangevinChainSettings } from './energy-kinds.js';
import { chainKernelName, registerKernelImpl, runKernel } from './kernels.js';
import { rngKey } from './rng.js';

declare module './energy-kinds.js' {
  interface EnergyKinds {
    testKindWell: { height: number; centers: readonly number[] };
  }
}

beforeAll(async () => {
  await tf.ready();
});
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('typed energy kinds', () => {
  it('types kernel hints and chain.<kind> inputs from the EnergyKinds augmentation', () => {
    const hint: KernelHint<'testKindWell'> = { kind: 'testKindWell', params: { height: 2, centers: [0, 1] } };
    // @ts-expect-error a misspelt param name of a declared kind does not compile
    const bad: KernelHint<'testKindWell'> = { kind: 'testKindWell', params: { heigth: 2, centers: [] } };
    void bad;
    // A typed hint is still a KernelHint (what EnergyFunction.kernelHint holds).
    expectTypeOf(hint).toExtend<KernelHint>();
    const name = chainKernelName('testKindWell');
    expectTypeOf(name).toEqualTypeOf<'chain.testKindWell'>();
    expectTypeOf(chainKernelName('x' as string)).toEqualTypeOf<string>();
    const seen: number[] = [];
    cleanups.push(
      registerKernelImpl(name, tf.getBackend(), (inputs) => {
        expectTypeOf(inputs).toEqualTypeOf<ChainKernelInputs<'testKindWell'>>();
        seen.push(inputs.params.height, inputs.nSteps);
        if (inputs.method === 'langevin') {
          expectTypeOf(inputs.settings).toEqualTypeOf<LangevinChainSettings>();
          seen.push(inputs.settings.noiseScale);
        }
        return tf.clone(inputs.x0);
      }),
    );
    const x0 = tf.zeros([2, 2]) as tf.Tensor2D;
    const out = runKernel(name, {
      method: 'langevin',
      x0,
      nSteps: 3,
      key: rngKey(1),
      params: hint.params,
      settings: { stepSize: 0.1, noiseScale: 0.5 },
    });
    expectTypeOf(out).toEqualTypeOf<tf.Tensor2D>();
    expect(seen).toEqual([2, 3, 0.5]);
    const base = { method: 'hmc', x0, nSteps: 1, key: rngKey(1), params: hint.params } as const;
    const langevinSettings = { stepSize: 0.1, noiseScale: 1 };
    // @ts-expect-error Langevin settings are not HMC settings (invMass, nLeapfrogSteps missing)
    const wrong: ChainKernelInputs<'testKindWell', 'hmc'> = { ...base, settings: langevinSettings };
    void wrong;
    tf.dispose([x0, out]);
  });
});
