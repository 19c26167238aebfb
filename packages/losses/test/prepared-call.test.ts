/**
 * The asynchronous pre-pass (`prepare` / `computeAsync` / `fit`) of the flow-type losses with host-solved
 * couplings, on the cpu backend: the prepared pairing is bit-identical to the sync path's (same keys, same
 * noise, same assignment), so losses, gradients and `fit` histories do not change; `fit` makes no synchronous
 * reads; nothing leaks on success or when the energy throws. The same on WebGPU: `coupling-webgpu.test.ts`.
 */
import {
  type CouplingSpec,
  EbmError,
  isEbmError,
  ReflowCoupling,
  type RngKey,
  randomNormal,
  resolveCoupling,
  rngKey,
  splitKey,
} from '@ebm/core';
import { expectNoLeaks, withoutKernelImpls } from '@ebm/core/testing';
import { MLPEnergy, TimeConditionedMLP } from '@ebm/models';
import { FlowSampler } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type BaseLoss,
  coupledPair,
  EnergyMatchingLoss,
  EquilibriumMatchingLoss,
  fit,
  PreparedCall,
} from '../src/index.js';

/** The couplings checked: the registry's, and reflow through a stochastic flow sampler (sample vs sampleSync). */
const couplings = (): CouplingSpec[] => [
  'exactOt',
  'greedy',
  'sinkhorn',
  'unbalancedSinkhorn',
  'independent',
  new ReflowCoupling(new FlowSampler(flow, { nSteps: 3, mode: 'sde' })),
];

/** Counts synchronous reads (`dataSync`, `arraySync`, `bufferSync`) made while `fn` runs. */
async function countSyncReads<T>(fn: () => Promise<T>): Promise<{ value: T; reads: number }> {
  const proto = tf.Tensor.prototype;
  const spies = [vi.spyOn(proto, 'dataSync'), vi.spyOn(proto, 'arraySync'), vi.spyOn(proto, 'bufferSync')];
  try {
    const value = await fn();
    return { value, reads: spies.reduce((s, sp) => s + sp.mock.calls.length, 0) };
  } finally {
    for (const sp of spies) sp.mockRestore();
  }
}

let em: MLPEnergy;
let field: TimeConditionedMLP;
let flow: TimeConditionedMLP;
let data: tf.Tensor2D;
beforeAll(() => {
  em = new MLPEnergy({ inputDim: 2, widths: [8], seed: 1 });
  field = new TimeConditionedMLP({ dim: 2, widths: [8], seed: 2 });
  flow = new TimeConditionedMLP({ dim: 2, widths: [8], seed: 5 });
  data = tf.tidy(() => tf.add(randomNormal(rngKey(3), [24, 2]), 1)) as tf.Tensor2D;
});
afterAll(() => {
  em.dispose();
  field.dispose();
  flow.dispose();
  data.dispose();
});

const makers: [string, (coupling: CouplingSpec) => BaseLoss][] = [
  [
    'EnergyMatchingLoss',
    (coupling) => new EnergyMatchingLoss(em, { coupling, nLangevinSteps: 3, warmupSteps: 1, seed: 4 }),
  ],
  ['EquilibriumMatchingLoss', (coupling) => new EquilibriumMatchingLoss(field, { coupling, seed: 4 })],
];

async function read(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

describe('the coupling pre-pass (cpu)', () => {
  it('prepares the same pairs as the sync couple() with the keys computeParts uses', async () => {
    const key = rngKey(11);
    for (const spec of couplings()) {
      const coupling = resolveCoupling(spec);
      for (const [nKeys, owner] of [
        [5, 'EnergyMatchingLoss'],
        [3, 'EquilibriumMatchingLoss'],
      ] as const) {
        const [kNoise, , kCouple] = splitKey(key, nKeys) as [RngKey, RngKey, RngKey];
        const prepared = new PreparedCall(key);
        await prepared.addPair(coupling, data, kNoise, kCouple);
        expect(prepared.size).toBe(spec === 'independent' ? 0 : 1);
        const viaPrepared = coupledPair(coupling, data, kNoise, kCouple, prepared, owner);
        const sync = tf.tidy(() => {
          const r = coupledPair(coupling, data, kNoise, kCouple, undefined, owner);
          return { x0: tf.keep(r.x0), x1: tf.keep(r.x1), w: r.weights ? tf.keep(r.weights) : undefined };
        });
        expect(await read(viaPrepared.x0)).toEqual(await read(sync.x0));
        expect(await read(viaPrepared.x1)).toEqual(await read(sync.x1));
        expect(viaPrepared.weights === undefined).toBe(sync.w === undefined);
        if (sync.w) expect(await read(viaPrepared.weights!)).toEqual(await read(sync.w));
        if (spec === 'independent') tf.dispose([viaPrepared.x0, viaPrepared.x1]);
        tf.dispose([sync.x0, sync.x1, ...(sync.w ? [sync.w] : [])]);
        prepared.dispose();
        // a prepared call for other keys is not used (the sync path runs)
        expect(prepared.pairFor(kNoise, kCouple, data)).toBeUndefined();
      }
    }
  });

  for (const [name, make] of makers) {
    it(`${name}: computeAsync equals compute bit for bit (loss and gradients), for every coupling`, async () => {
      for (const spec of couplings()) {
        const key = rngKey(7);
        const syncLoss = make(spec);
        const asyncLoss = make(spec);
        const vars = (
          syncLoss.variables.length > 0 ? syncLoss.variables : em.trainableVariables
        ) as tf.Variable[];
        for (let call = 0; call < 2; call++) {
          // call 1 of energy matching is past its warm-up: the contrastive term too
          const a = tf.variableGrads(() => syncLoss.compute(data, { key, metrics: false }).loss, vars);
          const prepared = await asyncLoss.prepare(data, { key });
          const b = tf.variableGrads(() => asyncLoss.compute(data, { prepared, metrics: false }).loss, vars);
          prepared.dispose();
          expect(await read(b.value)).toEqual(await read(a.value));
          for (const k of Object.keys(a.grads))
            expect(await read(b.grads[k]!)).toEqual(await read(a.grads[k]!));
          tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
        }
        // without a key: one key of the loss's stream per call, either way
        const s = syncLoss.compute(data);
        const t = await asyncLoss.computeAsync(data);
        expect(await read(t.loss)).toEqual(await read(s.loss));
        tf.dispose([s.loss, t.loss, ...Object.values(s.metrics), ...Object.values(t.metrics)]);
        tf.dispose([s.negatives ?? [], t.negatives ?? []].flat());
      }
    });

    it(`${name}: fit with exactOt makes no sync reads and its history equals the sync path's`, async () => {
      const run = async (prepare: boolean) => {
        const loss = make('exactOt');
        if (!prepare) Object.defineProperty(loss, 'prepare', { value: undefined });
        const vars = loss.variables.length > 0 ? loss.variables : em.trainableVariables;
        const saved = vars.map((v) => tf.clone(v));
        try {
          // The negatives' fused host chain (`chain.mlp` on cpu) reads its inputs synchronously, as cpu kernels may;
          // without it the chains run the step loop, so the count is the coupling's alone.
          return await withoutKernelImpls(['chain.mlp'], tf.getBackend(), () =>
            countSyncReads(() =>
              fit({ loss, optimizer: tf.train.sgd(1e-2), data, batchSize: 8, steps: 3, seed: 2 }),
            ),
          );
        } finally {
          vars.forEach((v, i) => v.assign(saved[i]!));
          tf.dispose(saved);
        }
      };
      const withPrepass = await run(true);
      const sync = await run(false);
      expect(withPrepass.reads).toBe(0);
      expect(sync.reads).toBeGreaterThan(0); // the sync path reads the cost with dataSync (cpu only)
      expect(withPrepass.value.history.map((m) => m.loss)).toEqual(sync.value.history.map((m) => m.loss));
      expect(withPrepass.value.history.map((m) => m.gradNorm)).toEqual(
        sync.value.history.map((m) => m.gradNorm),
      );
    });
  }

  it('fit and computeAsync are leak-free on success and when the energy throws', async () => {
    const loss = new EnergyMatchingLoss(em, { coupling: 'exactOt', nLangevinSteps: 2, warmupSteps: 1 });
    // one optimizer (its learning-rate scalar is created once and kept)
    const optimizer = tf.train.sgd(1e-3);
    await expectNoLeaks(() => fit({ loss, optimizer, data, batchSize: 8, steps: 2, seed: 1 }).then(() => 0));
    await expectNoLeaks(() => loss.computeAsync(data));
    const boom = (x: tf.Tensor2D): tf.Tensor2D => {
      tf.mul(x, 2);
      throw new Error('boom');
    };
    for (const energyType of ['none', 'dot'] as const) {
      const eqm = new EquilibriumMatchingLoss(boom, {
        energyType,
        coupling: 'exactOt',
        variables: em.trainableVariables,
      });
      await expectNoLeaks(async () => {
        await expect(fit({ loss: eqm, optimizer, data, steps: 1 })).rejects.toThrow('boom');
        await expect(eqm.computeAsync(data)).rejects.toThrow('boom');
        return 0;
      });
    }
    // the coupling itself throws (a non-finite batch): the pre-pass releases its noise
    const bad = tf.tensor2d([
      [0, Number.NaN],
      [1, 1],
    ]);
    const eqm = new EquilibriumMatchingLoss(field, { coupling: 'exactOt' });
    await expectNoLeaks(async () => {
      await expect(eqm.prepare(bad)).rejects.toSatisfy((e) => isEbmError(e, 'NON_FINITE'));
      return 0;
    });
    bad.dispose();
    optimizer.dispose();
  });

  it('the sync path on a backend without sync reads names fit / computeAsync', () => {
    const coupling = resolveCoupling('exactOt');
    const spy = vi.spyOn(coupling, 'couple').mockImplementation(() => {
      throw new EbmError('BACKEND_UNAVAILABLE', 'no sync reads here');
    });
    const loss = new EquilibriumMatchingLoss(field, { coupling });
    try {
      loss.compute(data);
      expect.unreachable();
    } catch (e) {
      expect(isEbmError(e, 'BACKEND_UNAVAILABLE')).toBe(true);
      expect(String((e as EbmError).fix)).toMatch(/fit\(\).*computeAsync/);
      expect(String(e)).toMatch(/EquilibriumMatchingLoss\.compute\(\) with the "exactOt" coupling/);
    }
    spy.mockRestore();
  });
});
