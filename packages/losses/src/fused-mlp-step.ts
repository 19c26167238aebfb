import { EbmError, kernelSource, type RngKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { type FusedAdamState, type FusedPending, isAdam, mlpParams } from './fused-adam-state.js';

/**
 * What `fit`'s two fused training steps share (`fused-step.ts`: CD + Adam; `fused-flow-step.ts`: the flow term +
 * Adam): the set-up they need, the checks common to both, and the step's life cycle around its
 * {@link FusedAdamState} (still available? write the state back, forget it, dispose). Internal module.
 * @module
 */

/** What a fused step needs besides the batch. */
export interface FusedStepSetup {
  readonly loss: unknown;
  readonly optimizer: tf.Optimizer;
  readonly variables: readonly tf.Variable[];
  readonly clipNorm?: number | undefined;
  readonly clipValue?: number | undefined;
}

/**
 * The checks both fused steps make, in order, as a sentence (or `undefined`): a backend implementation of `kernel`,
 * the loss (`undefined`: not one the step serves, `lossKind` names those), no variables of the loss's own, no
 * gradient clipping, tfjs's Adam, an energy with an `'mlp'` kernel hint.
 */
export function commonUnavailable(
  setup: FusedStepSetup,
  kernel: string,
  loss: { readonly variables: readonly unknown[]; readonly energy: unknown } | undefined,
  lossKind: string,
): string | undefined {
  if (kernelSource(kernel) !== 'backend') return `no ${kernel} kernel for backend ${tf.getBackend()}`;
  if (loss === undefined) return `the loss is not ${lossKind}`;
  if (loss.variables.length > 0) return 'the loss has variables of its own';
  if (setup.clipNorm !== undefined || setup.clipValue !== undefined) return 'gradient clipping is on';
  if (!isAdam(setup.optimizer)) return 'the optimizer is not tf.train.adam';
  if (mlpParams(loss.energy) === undefined) return "the energy has no 'mlp' kernel hint";
  return undefined;
}

/** Throws `NOT_IMPLEMENTED` when a fused step is built for a run it cannot serve (`why` from its check). */
export function assertFusedAvailable(what: string, why: string | undefined): void {
  if (why === undefined) return;
  throw new EbmError('NOT_IMPLEMENTED', `The ${what} cannot run: ${why}.`, {
    argument: 'loss',
    fix: 'use the autograd step (fit picks it automatically).',
  });
}

/** A fused step of a run: the MLP weights it updates, its Adam state and kernel; `step` is the subclass's. */
export abstract class FusedMlpStep {
  protected constructor(
    /** The registry kernel that runs the step. */
    private readonly kernel: string,
    /** The energy whose `'mlp'` hint holds the weights. */
    private readonly energy: unknown,
    /** The hint's weights when the step was built. */
    protected readonly weights: readonly tf.Variable[],
    protected readonly state: FusedAdamState,
  ) {}

  /** Whether the step can still run (the hint, its variables and the backend kernel are still there). */
  available(): boolean {
    const p = mlpParams(this.energy);
    return (
      p !== undefined &&
      p.weights.length === this.weights.length &&
      p.weights.every((w, k) => w === this.weights[k] && !(w as tf.Tensor).isDisposed) &&
      kernelSource(this.kernel) === 'backend'
    );
  }

  /** Whether the next step is one this step computes (else `fit` runs autograd, after {@link release}). */
  applies(): boolean {
    return true;
  }

  /**
   * One step on `batch` with key `key`: the kernel's new weights are assigned at once; the returned
   * {@link FusedPending} keeps or undoes them.
   */
  abstract step(batch: tf.Tensor2D, key: RngKey): Promise<FusedPending>;

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

  dispose(): void {
    this.state.dispose();
  }
}
