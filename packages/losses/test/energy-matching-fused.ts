import { chainKernelName, EbmError, getKernelImpl, registerKernelImpl, rngKey } from '@ebm/core';
import {
  countKernelCalls,
  expectKsTwoSample,
  expectNoLeaksSync,
  testSeed,
  withoutKernelHint,
} from '@ebm/core/testing';
import { twoMoons } from '@ebm/datasets';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { EnergyMatchingLoss } from '../src/index.js';

/**
 * EnergyMatchingLoss's tempered chains through the fused `chain.mlp` (per-step noiseScales) on `backend` against
 * the composite autograd step loop (the energy's kernel hint hidden). Shared by the cpu and webgpu test files.
 *
 * - `sample()` (every row tempered) and the tempered rows of `negatives()` draw the step loop's stream: equal to
 *   float32 rounding (`tol`).
 * - Same law, `negatives()` with both groups: two-sample KS per coordinate and group between a fused run and a
 *   composite run with another key (independent picks and noise), false-fail rate 1e-4 each (4 tests: ≤ 4e-4).
 * - Calls: one `chain.mlp` per `sample()`, two per `negatives()`; leak-free, also when the kernel throws on its
 *   second call; a kernel that declines (NOT_IMPLEMENTED) leaves the step loop to run.
 */
export async function checkFusedChains(backend: string, tol: number, nChains = 1024): Promise<void> {
  const seed = testSeed(`em-fused-${backend}`);
  const V = new MLPEnergy({ inputDim: 2, widths: [16, 16], seed: seed % 1000 });
  const loss = new EnergyMatchingLoss(V, { nLangevinSteps: 40, langevinDt: 0.04, seed });
  const data = twoMoons({ nSamples: nChains, seed }).toTensor();
  const name = chainKernelName('mlp');
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = a.length) => {
    let w = 0;
    for (let i = from; i < to; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
    return w;
  };
  try {
    // sample(): one fused call, the step loop's stream.
    const x0 = tf.randomNormal([256, 2], 0, 1, 'float32', seed) as tf.Tensor2D;
    const [s, sCalls] = await countKernelCalls(name, backend, () =>
      expectNoLeaksSync(() => loss.sample(x0, rngKey(seed)), { keepOutputs: true }),
    );
    expect(sCalls).toBe(2); // expectNoLeaksSync's warm-up and measured run
    const sRef = withoutKernelHint(V, () => loss.sample(x0, rngKey(seed)));
    expect(maxDiff(await s.data(), await sRef.data()), 'sample()').toBeLessThan(tol);
    tf.dispose([x0, s, sRef]);

    // negatives(): two fused calls; tempered rows = the step loop's; both groups from the same law.
    const key = rngKey(seed + 1);
    const [neg, nCalls] = await countKernelCalls(name, backend, () => loss.negatives(data, key));
    expect(nCalls).toBe(2);
    const nT = Math.round(nChains * loss.noiseFraction);
    const same = withoutKernelHint(V, () => loss.negatives(data, key));
    const a = await neg.data();
    expect(maxDiff(a, await same.data(), 0, 2 * nT), 'tempered rows').toBeLessThan(tol);
    const other = withoutKernelHint(V, () => loss.negatives(data, rngKey(seed + 2)));
    const b = await other.data();
    for (const [group, from, to] of [
      ['tempered', 0, nT],
      ['cold', nT, nChains],
    ] as const) {
      for (let j = 0; j < 2; j++) {
        const col = (v: ArrayLike<number>) =>
          Array.from({ length: to - from }, (_, r) => v[2 * (from + r) + j]!);
        expectKsTwoSample(col(a), col(b), { falseFailRate: 1e-4, seed, label: `${group} x${j}` });
      }
    }
    tf.dispose([neg, same, other]);

    // Leak-free when the kernel throws on its second call; NOT_IMPLEMENTED falls back to the step loop.
    const impl = getKernelImpl(name, backend)!;
    const failing = (err: () => Error) => {
      let calls = 0;
      registerKernelImpl(
        name,
        backend,
        (inputs) => {
          if (++calls === 2) throw err();
          return impl(inputs) as tf.Tensor2D;
        },
        { override: true },
      );
    };
    try {
      failing(() => new Error('boom'));
      const before = tf.memory().numTensors;
      expect(() => loss.negatives(data, key)).toThrow('boom');
      expect(tf.memory().numTensors).toBe(before);
      failing(() => new EbmError('NOT_IMPLEMENTED', 'declined'));
      const fallback = expectNoLeaksSync(() => loss.negatives(data, key), { keepOutputs: true, warmup: 0 });
      const ref = withoutKernelHint(V, () => loss.negatives(data, key));
      expect(maxDiff(await fallback.data(), await ref.data())).toBe(0);
      tf.dispose([fallback, ref]);
    } finally {
      registerKernelImpl(name, backend, impl, { override: true });
    }
  } finally {
    data.dispose();
    V.dispose();
  }
}
