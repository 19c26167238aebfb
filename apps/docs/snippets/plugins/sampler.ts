// A new sampler: extend BaseSampler with a pure init + step; sample(), trajectories, diagnostics, resume,
// abort and progress come from the base class. Randomness comes from the step's key, so runs are reproducible.
import {
  BaseSampler,
  disposeSampleResult,
  type EnergyFunction,
  foldIn,
  type RngKey,
  randomNormal,
  randomUniform,
  type SamplerState,
  type StepResult,
} from '@ebm/core';
import { Gaussian } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';

interface RwmState extends SamplerState {
  readonly x: tf.Tensor2D;
  readonly energy: tf.Tensor1D;
}

/** Random-walk Metropolis: x' = x + σξ, accepted with probability min(1, exp(E(x) − E(x'))). */
export class RandomWalkMetropolis extends BaseSampler<RwmState> {
  constructor(
    energy: EnergyFunction,
    readonly scale = 0.5,
  ) {
    super(energy, 'RandomWalkMetropolis');
  }
  /** `x` is already the sampler's own copy of x0. */
  protected initState(x: tf.Tensor2D, step: number): RwmState {
    return { x, energy: this.energy.energy(x), step };
  }
  step(state: RwmState, key: RngKey): StepResult<RwmState> {
    return tf.tidy(() => {
      const proposal = tf.add(
        state.x,
        tf.mul(randomNormal(foldIn(key, 0), state.x.shape), this.scale),
      ) as tf.Tensor2D;
      const eNew = this.energy.energy(proposal);
      const logAlpha = tf.sub(state.energy, eNew); // log α = E(x) − E(x')
      const logU = tf.log(randomUniform(foldIn(key, 1), [state.x.shape[0]]));
      const accept = tf.less(logU, logAlpha); // [B] bool
      const x = tf.where(tf.expandDims(accept, 1), proposal, state.x) as tf.Tensor2D;
      const energy = tf.where(accept, eNew, state.energy) as tf.Tensor1D;
      // info: per-chain tensors, named as the MH samplers name them (isAccepted 0/1, acceptanceRate min(1, α));
      // sample({ diagnostics }) averages each over chains per kept step
      const info = {
        isAccepted: tf.cast(accept, 'float32'),
        acceptanceRate: tf.exp(tf.minimum(logAlpha, 0)),
      };
      return { state: { x, energy, step: state.step + 1 }, info };
    });
  }
}

const target = new Gaussian({
  mean: [0, 0],
  covariance: [
    [1, 0],
    [0, 1],
  ],
});
const rwm = new RandomWalkMetropolis(target, 1.0);
const run = await rwm.sample({ nSamples: 2000, dim: 2, nSteps: 200, seed: 3, diagnostics: true });
const xs = Array.from(await run.samples.data());
const variance = xs.reduce((a, v) => a + v * v, 0) / xs.length;
const acc = Array.from(await run.diagnostics!.isAccepted!.data());
console.log({ variance, acceptance: acc.at(-1) }); // variance ≈ 1
disposeSampleResult(run);
target.dispose();

export const result = { variance, acceptance: acc.at(-1) ?? Number.NaN };
