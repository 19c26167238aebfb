import { isEbmError, type KernelHint, terminateChainWorkers } from '@ebm/core';
import { expectNoLeaks } from '@ebm/core/testing';
import { DoubleWell, MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA, NUTS } from '../src/index.js';

// The workers option of sample(): the whole chain on worker threads (core's runChainParallel), bit-identical for
// any worker count and equal to the in-thread fused run (chain.<kind> on cpu).

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  await terminateChainWorkers();
});

const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
const B = 150;
const D = 4;
const x0 = () => tf.tidy(() => tf.mul(tf.sin(tf.reshape(tf.range(0, B * D), [B, D])), 1.4)) as tf.Tensor2D;

const SAMPLERS = {
  Langevin: () => new LangevinDynamics(new DoubleWell(), { stepSize: 0.02, noiseScale: 0.9 }),
  MALA: () => new MALA(new DoubleWell(), { stepSize: 0.1, mass: 2 }),
  HMC: () => new HamiltonianMonteCarlo(new DoubleWell(), { stepSize: 0.1, nLeapfrogSteps: 3 }),
};

function expectWorkersError(e: unknown, re: RegExp): boolean {
  return isEbmError(e, 'INVALID_PARAM') && e.argument === 'workers' && re.test(e.message);
}

/** 6 Langevin steps of 40 chains in 4-D on 2 workers equal the calling thread's bit for bit; disposes the energy. */
async function expectWorkersMatchCaller(e: MLPEnergy): Promise<void> {
  const s = new LangevinDynamics(e, { stepSize: 0.01 });
  const x = tf.tidy(() => tf.sin(tf.reshape(tf.range(0, 40 * 4), [40, 4]))) as tf.Tensor2D;
  const a = await s.sample({ x0: x, nSteps: 6, seed: 2, workers: 0 });
  const b = await s.sample({ x0: x, nSteps: 6, seed: 2, workers: 2 });
  expect(b.workers).toBe(2);
  expect(bits(await b.samples.data())).toEqual(bits(await a.samples.data()));
  tf.dispose([a.samples, b.samples, x]);
  e.dispose();
}

describe('sample({ workers })', () => {
  for (const [name, make] of Object.entries(SAMPLERS)) {
    it(`${name}: bit-identical for 0, 1, 2, 3 workers and 'auto', equal to the in-thread fused run`, async () => {
      const s = make();
      const x = x0();
      const ref = await s.sample({ x0: x, nSteps: 15, burnIn: 5, seed: 7 });
      const want = bits(await ref.samples.data());
      expect(ref.workers).toBeUndefined();
      for (const workers of [0, 1, 2, 3, 'auto'] as const) {
        const r = await s.sample({ x0: x, nSteps: 15, burnIn: 5, seed: 7, workers });
        expect(bits(await r.samples.data()), `workers ${workers}`).toEqual(want);
        if (workers !== 'auto') expect(r.workers).toBe(workers);
        else expect(r.workers).toBeGreaterThanOrEqual(0);
        r.samples.dispose();
      }
      // A resumed run continues the same stream on workers.
      const first = await s.sample({ x0: x, nSteps: 8, seed: 7, keepState: true });
      const rest = await s.sample({ resumeFrom: first.finalState as never, nSteps: 12, seed: 7, workers: 2 });
      const whole = await s.sample({ x0: x, nSteps: 20, seed: 7 });
      expect(bits(await rest.samples.data())).toEqual(bits(await whole.samples.data()));
      s.disposeState(first.finalState as never);
      tf.dispose([ref.samples, first.samples, rest.samples, whole.samples, x]);
    });
  }

  it('an MLP energy with its kernel hint runs on workers, identical to the calling thread', async () => {
    const e = new MLPEnergy({ inputDim: 4, widths: [8], seed: 2 });
    e.training = false;
    const weights = e.namedVariables.filter((v) => !v.name.endsWith('sn_u')).map((v) => v.variable);
    const hint: KernelHint = {
      kind: 'mlp',
      params: {
        sizes: [4, 8, 1],
        activation: ['silu', 'swish', 'elu', 'leakyRelu', 'tanh'].indexOf(e.config.activation as string),
        leakySlope: e.config.leakySlope,
        weights: weights as unknown as number[][],
      },
    };
    if (e.kernelHint === undefined) Object.defineProperty(e, 'kernelHint', { get: () => hint });
    await expectWorkersMatchCaller(e);
  });

  it("per-layer activations (['relu', 'silu']) run on workers, identical to the calling thread", async () => {
    const e = new MLPEnergy({ inputDim: 4, widths: [8, 8], activation: ['relu', 'silu'], seed: 2 });
    e.training = false;
    expect(e.kernelHint?.params.activation).toEqual(['relu', 'silu']);
    await expectWorkersMatchCaller(e);
  });

  it('leaks nothing on success, on a throwing energy and on abort', async () => {
    const x = x0();
    const s = new MALA(new DoubleWell(), { stepSize: 0.1 });
    await expectNoLeaks(() => s.sample({ x0: x, nSteps: 5, seed: 1, workers: 2 }));
    // An energy that throws when the final state's energies are evaluated (its 2nd evaluation).
    class Flaky extends DoubleWell {
      calls = 0;
      override energyAndGradient(v: tf.Tensor2D, o?: { checkFinite?: boolean }) {
        if (++this.calls === 2) throw new Error('energy blew up');
        return super.energyAndGradient(v, o);
      }
    }
    const flaky = new Flaky();
    await expectNoLeaks(async () => {
      flaky.calls = 0;
      await expect(new MALA(flaky).sample({ x0: x, nSteps: 5, seed: 1, workers: 2 })).rejects.toThrow(
        /energy blew up/,
      );
    });
    const ac = new AbortController();
    ac.abort();
    await expectNoLeaks(async () => {
      await expect(s.sample({ x0: x, nSteps: 5, seed: 1, workers: 2, signal: ac.signal })).rejects.toSatisfy(
        (e) => isEbmError(e, 'ABORTED'),
      );
    });
    x.dispose();
  });

  it("an explicit count that cannot apply is an EbmError naming workers and why; 'auto' then runs in-thread", async () => {
    const x = x0();
    const s = new LangevinDynamics(new DoubleWell(), { stepSize: 0.02 });
    const before = tf.memory().numTensors;
    await expect(s.sample({ x0: x, nSteps: 3, workers: 2, trajectory: true })).rejects.toSatisfy((e) =>
      expectWorkersError(e, /trajectory/),
    );
    await expect(s.sample({ x0: x, nSteps: 3, workers: 2, diagnostics: true })).rejects.toSatisfy((e) =>
      expectWorkersError(e, /diagnostics/),
    );
    expect(() => s.sampleSync({ x0: x, nSteps: 3, workers: 1 })).toThrow(/sampleSync/);
    const clamped = new LangevinDynamics(new DoubleWell(), { stepSize: 0.02, clamp: [-3, 3] });
    await expect(clamped.sample({ x0: x, nSteps: 3, workers: 2 })).rejects.toSatisfy((e) =>
      expectWorkersError(e, /clamp/),
    );
    const noHint = new DoubleWell();
    Object.defineProperty(noHint, 'kernelHint', { get: () => undefined });
    await expect(new MALA(noHint).sample({ x0: x, nSteps: 3, workers: 3 })).rejects.toSatisfy((e) =>
      expectWorkersError(e, /host kernel/),
    );
    await expect(s.sample({ x0: x, nSteps: 3, workers: -1 })).rejects.toSatisfy((e) =>
      isEbmError(e, 'INVALID_PARAM'),
    );
    await expect(s.sample({ x0: x, nSteps: 3, workers: 'many' as never })).rejects.toSatisfy((e) =>
      isEbmError(e, 'INVALID_PARAM'),
    );
    // NUTS has no fused chain: workers is not one of its options.
    await expect(
      new NUTS(new DoubleWell()).sample({ x0: x, nSteps: 1, workers: 2 } as never),
    ).rejects.toThrow(/Unknown option "workers"/);
    expect(tf.memory().numTensors).toBe(before);
    // 'auto' (and 0) where workers cannot apply: the usual path in the calling thread, reported as 0.
    const t = await s.sample({ x0: x, nSteps: 4, seed: 3, workers: 'auto', trajectory: true });
    expect(t.workers).toBe(0);
    expect(t.trajectory!.x!.shape).toEqual([B, 4, D]);
    const sync = s.sampleSync({ x0: x, nSteps: 4, seed: 3, workers: 'auto' });
    expect(sync.workers).toBe(0);
    expect(bits(sync.samples.dataSync())).toEqual(bits(t.samples.dataSync()));
    tf.dispose([t.samples, t.trajectory!.x!, sync.samples, x]);
  });
});
