import {
  EbmError,
  kernelSource,
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
  isAdam,
  mlpParams,
  weightsMismatch,
} from './fused-adam-state.js';

export { FUSED_GRAD_NORM, type FusedPending } from './fused-adam-state.js';

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

/** What the fused step needs besides the batch. */
export interface FusedStepSetup {
  readonly loss: unknown;
  readonly optimizer: tf.Optimizer;
  readonly variables: readonly tf.Variable[];
  readonly clipNorm?: number | undefined;
  readonly clipValue?: number | undefined;
}

/**
 * Why `fit` cannot take the fused step for this run (a sentence), or `undefined` when it can: a CD-family loss
 * (CD, PCD, PT-CD; not a subclass with its own `computeParts`), an energy with an `'mlp'` kernel hint whose
 * weights are exactly the trained variables, tfjs's Adam, no gradient clipping, and a backend implementation of
 * `train.mlpContrastiveAdam` for the active backend.
 */
export function fusedStepUnavailable(setup: FusedStepSetup): string | undefined {
  if (kernelSource(MLP_CONTRASTIVE_ADAM_KERNEL) !== 'backend')
    return `no ${MLP_CONTRASTIVE_ADAM_KERNEL} kernel for backend ${tf.getBackend()}`;
  const loss = contrastiveLoss(setup.loss);
  if (loss === undefined) return 'the loss is not CD / PCD / PT-CD';
  if (loss.variables.length > 0) return 'the loss has variables of its own';
  if (setup.clipNorm !== undefined || setup.clipValue !== undefined) return 'gradient clipping is on';
  if (!isAdam(setup.optimizer)) return 'the optimizer is not tf.train.adam';
  const p = mlpParams(loss.energy);
  if (p === undefined) return "the energy has no 'mlp' kernel hint";
  const vars = setup.variables;
  return weightsMismatch(p.weights, vars, setup.optimizer, (w) => vars.indexOf(w));
}

/** The fused CD + Adam step of a run (see the module docs). */
export class FusedContrastiveStep {
  private readonly state: FusedAdamState;
  private readonly loss: ContrastiveDivergence;
  private readonly weights: tf.Variable[];

  constructor(setup: FusedStepSetup) {
    const why = fusedStepUnavailable(setup);
    if (why !== undefined) {
      throw new EbmError('NOT_IMPLEMENTED', `The fused training step cannot run: ${why}.`, {
        argument: 'loss',
        fix: 'use the autograd step (fit picks it automatically).',
      });
    }
    this.loss = contrastiveLoss(setup.loss)!;
    this.weights = [...mlpParams(this.loss.energy)!.weights] as tf.Variable[];
    // Optimizer slot of each weight: its index in fit's variable list (= tfjs Adam's slot order).
    this.state = new FusedAdamState(
      setup.optimizer as unknown as AdamLike,
      this.weights,
      this.weights.map((w) => setup.variables.indexOf(w)),
    );
  }

  /** Whether the step can still run (the hint, its variables and the backend kernel are still there). */
  available(): boolean {
    const p = mlpParams(this.loss.energy);
    return (
      p !== undefined &&
      p.weights.length === this.weights.length &&
      p.weights.every((w, k) => w === this.weights[k] && !(w as tf.Tensor).isDisposed) &&
      kernelSource(MLP_CONTRASTIVE_ADAM_KERNEL) === 'backend'
    );
  }

  /** Writes the Adam state back to the optimizer (see `fused-adam-state.ts`). */
  sync(): void {
    this.state.sync();
  }

  /** Writes the state back and forgets it (the next fused step re-imports it from the optimizer). */
  release(): void {
    this.state.release();
  }

  /** Forgets the state without writing it back (after the optimizer was restored from a checkpoint). */
  invalidate(): void {
    this.state.invalidate();
  }

  /**
   * One step on `batch` with key `key` (the loss's negatives exactly as `loss.compute(batch, { key })` draws
   * them): the kernel's new weights are assigned at once; the returned {@link FusedPending} keeps or undoes them.
   */
  async step(batch: tf.Tensor2D, key: RngKey): Promise<FusedPending> {
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

  dispose(): void {
    this.state.dispose();
  }
}
