import {
  MLP_GRADIENT_REGRESSION_ADAM_KERNEL,
  type MLPGradientRegressionAdamOutput,
  type RngKey,
  runKernel,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { EnergyMatchingLoss } from './energy-matching.js';
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

/**
 * `fit`'s fused flow step: Energy Matching's flow phase (λ = 0 or warm-up, `energyL2` = 0: the loss is the
 * gradient regression L = Σ_b c_b‖∇ₓV(x_b) + u_b‖², c_b = w_b·w(t_b)/(B·D)) on an MLP energy with tfjs's Adam
 * through the `train.mlpGradientRegressionAdam` kernel of core's registry (registered for webgpu by `@ebm/cuda`):
 * the parameter gradient (forward-over-reverse, as `train.mlpGradientRegression`) and the Adam update of every
 * weight run in a few device programs instead of the kernel's gradients plus ≈ 15 tfjs ops per weight. Steps of
 * the joint phase (the contrastive term) are not a gradient regression: `fit` runs them through autograd, after
 * the Adam state went back to the optimizer (`fused-adam-state.ts`, whose contract this step follows).
 *
 * V's output bias b_L does not move ∇ₓV: autograd gives it no gradient, so tfjs's Adam skips it and its slots sit
 * at the positions of fit's variables less b_L; the kernel skips it too. Internal module.
 * @module
 */

/** Methods of the loss that decide what a call computes: a subclass that overrides one is not fused. */
const OWN_METHODS = ['compute', 'computeParts', 'prepareParts', 'flowRegression', 'nextCallIsFlowRegression'];

/** The Energy Matching loss whose call methods are the library's own (a user subclass that overrides one is not). */
function flowLoss(loss: unknown): EnergyMatchingLoss | undefined {
  if (!(loss instanceof EnergyMatchingLoss)) return undefined;
  const own = loss as unknown as Record<string, unknown>;
  const known = EnergyMatchingLoss.prototype as unknown as Record<string, unknown>;
  return OWN_METHODS.every((m) => own[m] === known[m]) ? loss : undefined;
}

/**
 * Why `fit` cannot take the fused flow step for this run (a sentence), or `undefined` when it can: an
 * {@link EnergyMatchingLoss} (not a subclass with its own `compute` / `computeParts`) without variables of its own, an energy
 * with an `'mlp'` kernel hint whose weights are exactly the trained (trainable, float32) variables, tfjs's Adam,
 * no gradient clipping, and a backend implementation of `train.mlpGradientRegressionAdam` for the active backend.
 * Whether a given step is a flow step is asked per step ({@link FusedFlowStep.applies}).
 */
export function fusedFlowStepUnavailable(setup: FusedStepSetup): string | undefined {
  const loss = flowLoss(setup.loss);
  const common = commonUnavailable(setup, MLP_GRADIENT_REGRESSION_ADAM_KERNEL, loss, 'EnergyMatchingLoss');
  if (common !== undefined) return common;
  const p = mlpParams(loss!.energy)!;
  if (p.weights.length < 2) return "the energy has no 'mlp' kernel hint";
  const vars = setup.variables;
  const graded = gradedVariables(p.weights as tf.Variable[], vars);
  // commonUnavailable checked the optimizer is tfjs's Adam
  const adam = setup.optimizer as unknown as AdamLike;
  const why = weightsMismatch(p.weights, vars, adam, (w) => graded.indexOf(w));
  if (why !== undefined) return why;
  if (!vars.every((v) => v.trainable)) return 'a trained variable is not trainable';
  return undefined;
}

/** fit's variables that the flow term has a gradient for (all but V's output bias, the hint's last weight). */
function gradedVariables(weights: readonly tf.Variable[], vars: readonly tf.Variable[]): tf.Variable[] {
  const outputBias = weights[weights.length - 1];
  return vars.filter((v) => v !== outputBias);
}

/** The fused flow-term + Adam step of a run (see the module docs). */
export class FusedFlowStep extends FusedMlpStep {
  private readonly loss: EnergyMatchingLoss;

  constructor(setup: FusedStepSetup) {
    assertFusedAvailable('fused flow step', fusedFlowStepUnavailable(setup));
    const loss = flowLoss(setup.loss)!;
    const weights = [...mlpParams(loss.energy)!.weights] as tf.Variable[];
    const trained = weights.slice(0, -1);
    const graded = gradedVariables(weights, setup.variables);
    const state = new FusedAdamState(
      setup.optimizer as unknown as AdamLike,
      trained,
      trained.map((w) => graded.indexOf(w)),
    );
    super(MLP_GRADIENT_REGRESSION_ADAM_KERNEL, loss.energy, weights, state);
    this.loss = loss;
  }

  /** Whether the next step is a flow step (else `fit` runs autograd, after {@link FusedFlowStep.release}). */
  override applies(): boolean {
    return this.loss.nextCallIsFlowRegression();
  }

  /**
   * One flow step on `batch` with key `key` (the coupling, times and noise exactly as `loss.compute(batch, { key,
   * prepared })` draws them, the pairing solved by `loss.prepare`): the kernel's new weights are assigned at once;
   * the returned {@link FusedPending} keeps or undoes them. The loss counts the call once the kernel ran.
   */
  override async step(batch: tf.Tensor2D, key: RngKey): Promise<FusedPending> {
    const { moments, adam } = await this.state.current();
    const prepared = await this.loss.prepare(batch, { key });
    let out: MLPGradientRegressionAdamOutput;
    let consume: () => void;
    try {
      const reg = this.loss.flowRegression(batch, key, prepared);
      consume = reg.consume;
      try {
        out = runKernel(MLP_GRADIENT_REGRESSION_ADAM_KERNEL, {
          params: mlpParams(this.loss.energy)!,
          x: reg.x,
          targets: reg.targets,
          rowWeights: reg.rowWeights,
          adam,
          moments,
        });
      } finally {
        tf.dispose([reg.x, reg.targets, reg.rowWeights]);
      }
    } finally {
      prepared.dispose();
    }
    consume();
    return this.state.apply({ weights: out.weights, moments: out.moments, metrics: out.metrics }, (d) => ({
      loss: d[0]!,
      flowLoss: d[0]!,
      [FUSED_GRAD_NORM]: d[1]!,
    }));
  }
}
