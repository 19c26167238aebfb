import {
  chainKernelName,
  chainTraceKernelName,
  disposeSampleResult,
  type EnergyFunction,
  getKernelImpl,
  type SamplerState,
} from '@ebm/core';
import { countKernelCalls, expectNoLeaks, withoutKernelImpls } from '@ebm/core/testing';
import { DoubleWell, Gaussian } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA } from '../src/index.js';

// One stream for the fused whole chain and the step loop: sample() with the backend's chain.<kind> kernel
// registered and with it removed gives bit-identical samples on cpu (the fused kernel is float32-faithful there),
// fresh runs and runs resumed from a state at step > 0 alike.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

/** Runs `fn` with the cpu `chain.<kind>` kernel removed (restored afterwards). */
async function withoutFused<T>(kind: string, fn: () => Promise<T>): Promise<T> {
  expect(getKernelImpl(chainKernelName(kind), 'cpu')).toBeDefined();
  return withoutKernelImpls([chainKernelName(kind)], 'cpu', fn);
}

type Make = (e: EnergyFunction) => {
  sample: LangevinDynamics['sample'];
  disposeState(s: never): void;
};
const samplers: Record<string, Make> = {
  Langevin: (e) => new LangevinDynamics(e, { stepSize: 0.02, noiseScale: 0.9 }) as never,
  MALA: (e) => new MALA(e, { stepSize: 0.1, mass: 2 }) as never,
  HMC: (e) => new HamiltonianMonteCarlo(e, { stepSize: 0.1, nLeapfrogSteps: 4 }) as never,
};
const energies: Record<string, () => EnergyFunction & { kernelHint: { kind: string } }> = {
  doubleWell: () => new DoubleWell({ barrierHeight: 1.5 }),
  gaussian: () =>
    new Gaussian({
      mean: [0.5, -1, 0],
      covariance: [
        [1.5, 0.3, 0],
        [0.3, 1, 0.2],
        [0, 0.2, 0.7],
      ],
    }),
};

describe('fused whole chain and step loop draw one stream (cpu)', () => {
  const x0 = () =>
    tf.tidy(() => tf.mul(tf.sin(tf.reshape(tf.range(0, 24 * 3), [24, 3])), 1.3)) as tf.Tensor2D;
  for (const [sName, make] of Object.entries(samplers)) {
    for (const [kind, mk] of Object.entries(energies)) {
      it(`${sName} on ${kind}: sample() is bit-identical with and without chain.${kind}`, async () => {
        const e = mk();
        const s = make(e);
        const x = x0();
        const [fused, calls] = await countKernelCalls(chainKernelName(kind), 'cpu', () =>
          expectNoLeaks(() => s.sample({ x0: x, nSteps: 25, burnIn: 5, seed: 11 }), { keepOutputs: true }),
        );
        expect(calls).toBeGreaterThanOrEqual(1); // (expectNoLeaks may run it twice)
        const loop = await withoutFused(kind, () => s.sample({ x0: x, nSteps: 25, burnIn: 5, seed: 11 }));
        expect(bits(fused.samples.dataSync())).toEqual(bits(loop.samples.dataSync()));
        tf.dispose([fused.samples, loop.samples, x]);
      });
    }
    it(`${sName}: a run resumed from a state at step 7 is bit-identical fused and unfused`, async () => {
      const e = energies.doubleWell!();
      const s = make(e);
      const x = x0();
      const first = await withoutFused('doubleWell', () =>
        s.sample({ x0: x, nSteps: 7, seed: 3, keepState: true }),
      );
      const st = first.finalState as SamplerState;
      expect(st.step).toBe(7);
      const fused = await s.sample({ resumeFrom: st as never, nSteps: 13, seed: 3 });
      const loop = await withoutFused('doubleWell', () =>
        s.sample({ resumeFrom: st as never, nSteps: 13, seed: 3 }),
      );
      // …and both equal one uninterrupted 20-step run.
      const whole = await withoutFused('doubleWell', () => s.sample({ x0: x, nSteps: 20, seed: 3 }));
      expect(bits(fused.samples.dataSync())).toEqual(bits(loop.samples.dataSync()));
      expect(bits(fused.samples.dataSync())).toEqual(bits(whole.samples.dataSync()));
      s.disposeState(st as never);
      tf.dispose([first.samples, fused.samples, loop.samples, whole.samples, x]);
    });
  }

  for (const [sName, make] of Object.entries(samplers)) {
    it(`${sName}: diagnostics and trajectory run through chainTrace.gaussian with the step loop's records`, async () => {
      const e = energies.gaussian!();
      const s = make(e);
      const x = x0();
      const opts = {
        x0: x,
        nSteps: 14,
        burnIn: 3,
        thin: 3,
        seed: 5,
        trajectory: true,
        diagnostics: true,
      } as const;
      const trace = chainTraceKernelName('gaussian');
      const [traced, calls] = await countKernelCalls(trace, 'cpu', () =>
        expectNoLeaks(() => s.sample(opts), { keepOutputs: true }),
      );
      expect(calls).toBeGreaterThanOrEqual(1);
      const loop = await withoutKernelImpls([chainKernelName('gaussian'), trace], 'cpu', () =>
        s.sample(opts),
      );
      expect(Object.keys(traced.diagnostics!).sort()).toEqual(Object.keys(loop.diagnostics!).sort());
      for (const [k, v] of Object.entries(loop.diagnostics!) as [string, tf.Tensor][]) {
        const w = (traced.diagnostics as Record<string, tf.Tensor>)[k]!;
        expect(w.shape, k).toEqual(v.shape);
        const [a, b] = [w.dataSync(), v.dataSync()];
        expect(bits(a), k).toEqual(bits(b)); // on cpu the host records equal the step loop's bit for bit
      }
      expect(Object.keys(traced.trajectory!)).toEqual(['x']);
      expect(traced.trajectory!.x!.shape).toEqual([24, 4, 3]);
      expect(bits(traced.trajectory!.x!.dataSync())).toEqual(bits(loop.trajectory!.x!.dataSync()));
      expect(bits(traced.samples.dataSync())).toEqual(bits(loop.samples.dataSync()));
      disposeSampleResult(traced);
      disposeSampleResult(loop);
      x.dispose();
    });
  }

  it('a throwing energy on the traced path releases everything', async () => {
    class Flaky extends Gaussian {
      calls = 0;
      override energyAndGradient(v: tf.Tensor2D, o?: { checkFinite?: boolean }) {
        if (++this.calls === 2) throw new Error('energy blew up');
        return super.energyAndGradient(v, o);
      }
    }
    const e = new Flaky({ mean: [0, 0, 0] });
    const x = x0();
    await expectNoLeaks(async () => {
      e.calls = 0;
      await expect(
        new MALA(e).sample({ x0: x, nSteps: 4, diagnostics: true, trajectory: true }),
      ).rejects.toThrow(/energy blew up/);
    });
    x.dispose();
  });
});
