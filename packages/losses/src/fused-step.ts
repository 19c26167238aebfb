import {
  MLP_CONTRASTIVE_ADAM_KERNEL,
  type MLPContrastiveAdamOutput,
  type RngKey,
  runKernel,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { ContrastiveDivergence, PersistentContrastiveDivergence } from './contrastive.js';
import {
  type AdamLike,
  FUSED_GRAD_NORM,
  FusedAdamState,
  type FusedPending,
  mlpParams,
  weightsMismatch,
} from './fused-adam-state.js';
import {
  assertFusedAvailable,
  commonUnavailable,
  FusedMlpStep,
  type FusedStepSetup,
} from './fused-mlp-step.js';

export { FUSED_GRAD_NORM, type FusedPending } from './fused-adam-state.js';
export type { FusedStepSetup } from './fused-mlp-step.js';

/**
 * `fit`'s fused training step: CD / PCD / PT-CD on an MLP energy with tfjs's Adam through the
 * `train.mlpContrastiveAdam` kernel of core's registry (registered for webgpu by `@ebm/cuda`): the parameter
 * gradient and the Adam update run in a few device programs instead of tfjs autograd. Adam's state is
 * `fused-adam-state.ts`' (flat moments on the device, written back to the optimizer's slots before checkpoints,
 * autograd steps and the end of the run: read its contract). Internal module.
 * @module
 */

/** The CD-family loss whose `computeParts` is the library's own (a user subclass that overrides it is not). */
function contrastiveLoss(loss: unknown): ContrastiveDivergence | undefined {
  if (!(loss instanceof ContrastiveDivergence)) return undefined;
  const own = (loss as unknown as { computeParts: unknown }).computeParts;
  const known = [ContrastiveDivergence.prototype, PersistentContrastiveDivergence.prototype].map(
    (p) => (p as unknown as { computeParts: unknown }).computeParts,
  );
  return known.includes(own) ? loss : undefined;
}

/**
 * Why `fit` cannot take the fused step for this run (a sentence), or `undefined` when it can: a CD-family loss
 * (CD, PCD, PT-CD; not a subclass with its own `computeParts`), an energy with an `'mlp'` kernel hint whose
 * weights are exactly the trained variables, tfjs's Adam, no gradient clipping, and a backend implementation of
 * `train.mlpContrastiveAdam` for the active backend.
 */
export function fusedStepUnavailable(setup: FusedStepSetup): string | undefined {
  const loss = contrastiveLoss(setup.loss);
  const why = commonUnavailable(setup, MLP_CONTRASTIVE_ADAM_KERNEL, loss, 'CD / PCD / PT-CD');
  if (why !== undefined) return why;
  const vars = setup.variables;
  // commonUnavailable checked the optimizer is tfjs's Adam
  const adam = setup.optimizer as unknown as AdamLike;
  return weightsMismatch(mlpParams(loss!.energy)!.weights, vars, adam, (w) => vars.indexOf(w));
}

/** The fused CD + Adam step of a run (see the module docs). */
export class FusedContrastiveStep extends FusedMlpStep {
  private readonly loss: ContrastiveDivergence;

  constructor(setup: FusedStepSetup) {
    assertFusedAvailable('fused training step', fusedStepUnavailable(setup));
    const loss = contrastiveLoss(setup.loss)!;
    const weights = [...mlpParams(loss.energy)!.weights] as tf.Variable[];
    // Optimizer slot of each weight: its index in fit's variable list (= tfjs Adam's slot order).
    const state = new FusedAdamState(
      setup.optimizer as unknown as AdamLike,
      weights,
      weights.map((w) => setup.variables.indexOf(w)),
    );
    super(MLP_CONTRASTIVE_ADAM_KERNEL, loss.energy, weights, state);
    this.loss = loss;
  }

  /**
   * One step on `batch` with key `key` (the loss's negatives exactly as `loss.compute(batch, { key })` draws
   * them): the kernel's new weights are assigned at once; the returned {@link FusedPending} keeps or undoes them.
   */
  override async step(batch: tf.Tensor2D, key: RngKey): Promise<FusedPending> {
    const { moments, adam } = await this.state.current();
    const { positives, negatives, stats } = this.loss.contrastiveSamples(batch, key);
    let out: MLPContrastiveAdamOutput;
    try {
      out = runKernel(MLP_CONTRASTIVE_ADAM_KERNEL, {
        params: mlpParams(this.loss.energy)!,
        positives,
        negatives,
        energyL2: this.loss.energyL2,
        adam,
        moments,
      });
    } finally {
      tf.dispose([positives, negatives]);
    }
    return this.state.apply(out, (d) => ({
      loss: d[0]!,
      energyPos: d[1]!,
      energyNeg: d[2]!,
      ...stats,
      [FUSED_GRAD_NORM]: d[3]!,
    }));
  }
}
