import { type Loss, type LossContext, type LossOutput, randomNormal, rngKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DenoisingScoreMatching, fit, type TrainingCheckpoint } from '../src/index.js';
import { GaussianEnergy } from './fixtures.js';
import { flowOnlyRollback } from './flow-rollback.js';

// fit's roll-back when a trained variable gets no gradient: tfjs's optimizers make slots (Adam's m and v) only
// for variables that had one, so the optimizer holds fewer slots than there are variables (EnergyMatchingLoss's
// flow-only phase: the flow term does not depend on V's output bias). The roll-back after a rejected step must
// restore weights and optimizer state exactly, and a checkpoint of such a run must resume.

function values(ts: readonly tf.Tensor[]): number[][] {
  return ts.map((t) => Array.from(t.dataSync()));
}

/** The optimizer's state now: [iterations, ...slots] values and the Adam accumulators. */
async function optimizerState(opt: tf.Optimizer): Promise<{ slots: number[][]; extra: number[][] }> {
  const w = await opt.getWeights();
  const slots = values(w.map((s) => s.tensor));
  w[0]!.tensor.dispose(); // getWeights makes a fresh iterations scalar
  const o = opt as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
  return { slots, extra: values([o.accBeta1, o.accBeta2]) };
}

function checkpointState(c: TrainingCheckpoint): { slots: number[][]; extra: number[][] } {
  return {
    slots: (c.optimizer ?? []).map((s) => s.data),
    extra: [c.optimizerExtra.accBeta1!, c.optimizerExtra.accBeta2!],
  };
}

/** DSM on a Gaussian energy plus an idle variable (no gradient) among the trained ones; NaN at call `bad`. */
function setup(bad: number) {
  const energy = new GaussianEnergy(2);
  const idle = tf.variable(tf.tensor1d([0.5, -1, 2]), true);
  const inner = new DenoisingScoreMatching(energy, { sigma: 0.5 });
  let calls = 0;
  const loss: Loss = {
    name: 'FlakyIdle',
    energy,
    compute(data: tf.Tensor2D, context?: LossContext) {
      const out = inner.compute(data, context);
      if (calls++ !== bad) return out;
      const nan = tf.mul(out.loss, Number.NaN) as tf.Scalar;
      out.loss.dispose();
      return { loss: nan, metrics: { ...out.metrics, loss: Number.NaN } as unknown as LossOutput['metrics'] };
    },
  };
  const [mu, lower, logDiag] = energy.trainableVariables as [tf.Variable, tf.Variable, tf.Variable];
  // The idle variable between trained ones: Adam's slots are positional (one per variable with a gradient).
  const variables = [mu, idle, lower, logDiag];
  const dispose = () => {
    energy.dispose();
    idle.dispose();
  };
  return { energy, idle, loss, variables, dispose };
}

describe('fit with a variable that gets no gradient', () => {
  it('rolls back to a checkpoint exactly (weights, Adam slots, accumulators) and finishes', async () => {
    const s = setup(7);
    const data = randomNormal(rngKey(5), [64, 2]) as tf.Tensor2D;
    const optimizer = tf.train.adam(0.01);
    const saved = new Map<number, TrainingCheckpoint>();
    const seen: { weights: number[][]; state: { slots: number[][]; extra: number[][] } }[] = [];
    const res = await fit({
      loss: s.loss,
      optimizer,
      variables: s.variables,
      data,
      steps: 12,
      checkpointEvery: 5,
      onCheckpoint: (c) => {
        saved.set(c.step, c);
      },
      onRollback: async () => {
        seen.push({ weights: values(s.variables), state: await optimizerState(optimizer) });
      },
    });
    expect(res.rollbacks).toEqual([{ step: 7, restoredStep: 5, reason: 'loss', attempt: 1, incident: 1 }]);
    expect(res.step).toBe(12);
    const c5 = saved.get(5)!;
    // Adam has slots for the three variables with a gradient only.
    expect(c5.optimizer!.map((w) => w.name).slice(1)).toEqual(
      ['m', 'v'].flatMap((k) => [0, 2, 3].map((i) => `${s.variables[i]!.name}/${k}`)),
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]!.weights).toEqual(c5.weights.map((w) => w.data));
    expect(seen[0]!.state).toEqual(checkpointState(c5));
    expect(Array.from(s.idle.dataSync())).toEqual([0.5, -1, 2]);
    optimizer.dispose();
    data.dispose();
    s.dispose();
  });

  it('rolls back to the initial state (Adam slots released, no leak)', async () => {
    const s = setup(2);
    const data = randomNormal(rngKey(5), [32, 2]) as tf.Tensor2D;
    const optimizer = tf.train.adam(0.01);
    const init = values(s.variables);
    let atRollback: number[][] = [];
    const before = tf.memory().numTensors;
    const res = await fit({
      loss: s.loss,
      optimizer,
      variables: s.variables,
      data,
      steps: 4,
      checkpointEvery: 50,
      onRollback: () => {
        atRollback = values(s.variables);
      },
    });
    expect(res.rollbacks).toEqual([{ step: 2, restoredStep: 0, reason: 'loss', attempt: 1, incident: 1 }]);
    expect(atRollback).toEqual(init);
    // Adam holds two slots for each of the 3 variables with a gradient; nothing else may remain.
    expect(tf.memory().numTensors - before).toBe(6);
    optimizer.dispose();
    data.dispose();
    s.dispose();
  });

  it('resumes from such a checkpoint (JSON, fresh objects) bit-identically', async () => {
    const data = randomNormal(rngKey(6), [64, 2]) as tf.Tensor2D;
    const common = { data, batchSize: 16, seed: 3, checkpointEvery: 4 };
    const a = setup(-1);
    const oa = tf.train.adam(0.02);
    await fit({ ...common, loss: a.loss, optimizer: oa, variables: a.variables, steps: 8 });
    const b = setup(-1);
    const ob = tf.train.adam(0.02);
    let json = '';
    await fit({
      ...common,
      loss: b.loss,
      optimizer: ob,
      variables: b.variables,
      steps: 4,
      onCheckpoint: (c) => {
        json = JSON.stringify(c);
      },
    });
    const c = setup(-1);
    const oc = tf.train.adam(0.02);
    const ckpt = JSON.parse(json) as TrainingCheckpoint;
    const r = await fit({
      ...common,
      loss: c.loss,
      optimizer: oc,
      variables: c.variables,
      steps: 8,
      resumeFrom: ckpt,
    });
    expect(r.step).toBe(8);
    expect(values(c.variables)).toEqual(values(a.variables));
    expect(await optimizerState(oc)).toEqual(await optimizerState(oa));
    for (const [x, o] of [
      [a, oa],
      [b, ob],
      [c, oc],
    ] as const) {
      o.dispose();
      x.dispose();
    }
    data.dispose();
  });

  it("rejects a checkpoint whose slot does not fit its variable's shape, restoring nothing", async () => {
    const data = randomNormal(rngKey(6), [64, 2]) as tf.Tensor2D;
    const a = setup(-1);
    const oa = tf.train.adam(0.02);
    const r = await fit({ loss: a.loss, optimizer: oa, variables: a.variables, data, steps: 2 });
    const bad = JSON.parse(JSON.stringify(r.checkpoint)) as TrainingCheckpoint;
    // mu's first moment with lower's shape.
    const slot = bad.optimizer![1]!;
    (bad.optimizer as unknown as object[])[1] = { ...slot, shape: [2, 2], data: [0, 0, 0, 0] };
    const b = setup(-1);
    const ob = tf.train.adam(0.02);
    const before = values(b.variables);
    await expect(
      fit({ loss: b.loss, optimizer: ob, variables: b.variables, data, steps: 3, resumeFrom: bad }),
    ).rejects.toThrow(/SHAPE_MISMATCH.*optimizer slot 1/);
    expect(values(b.variables)).toEqual(before);
    for (const [x, o] of [
      [a, oa],
      [b, ob],
    ] as const) {
      o.dispose();
      x.dispose();
    }
    data.dispose();
  });

  it("EnergyMatchingLoss's flow-only phase (autograd, cpu): V's output bias has no gradient; a rejected step rolls back exactly", async () => {
    const data = randomNormal(rngKey(7), [64, 2]) as tf.Tensor2D;
    const seen: { weights: number[][]; state: { slots: number[][]; extra: number[][] } }[] = [];
    let lossState: unknown;
    const run = await flowOnlyRollback(data, async ({ energy, loss, optimizer }) => {
      seen.push({ weights: values(energy.trainableVariables), state: await optimizerState(optimizer) });
      lossState = await loss.saveState();
    });
    const { res, saved } = run;
    const vars = run.energy.trainableVariables;
    expect(res.rollbacks).toEqual([{ step: 3, restoredStep: 2, reason: 'loss', attempt: 1, incident: 1 }]);
    expect(res.step).toBe(5);
    const c2 = saved.get(2)!;
    // Two slots (m, v) per weight but the output bias.
    expect(c2.optimizer!.length - 1).toBe(2 * (vars.length - 1));
    expect(seen[0]!.weights).toEqual(c2.weights.map((w) => w.data));
    expect(seen[0]!.state).toEqual(checkpointState(c2));
    // The loss's state too (its call count keeps the phase; its key stream).
    expect(lossState).toEqual(c2.loss);
    expect(c2.loss).toMatchObject({ calls: 2, lambdaCd: 2 });
    run.dispose();
    data.dispose();
  });
});
