import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import type { RngKey } from '../rng.js';
import { withoutTape } from '../tfjs-internals.js';
import { assertBatch } from '../validation.js';
import { BaseCoupling, type CouplingResult } from './coupling.js';

/**
 * A run result with samples (a sampler's `SampleResult`); every other tensor in it is released. No index
 * signature, so a sampler's own result interface (e.g. `FlowSampler`'s) is assignable.
 */
interface FlowRunResult {
  readonly samples: tf.Tensor2D;
}

/**
 * The map Φ of {@link ReflowCoupling}: a function x₀ ↦ Φ(x₀) (the caller's own transport), or a flow sampler
 * (e.g. `FlowSampler` from @ebm/samplers) run from `x0`.
 */
export type FlowMap =
  | ((x0: tf.Tensor2D, key: RngKey) => tf.Tensor2D)
  | {
      sampleSync(options: { x0: tf.Tensor2D; seed: RngKey }): FlowRunResult;
      sample?(options: { x0: tf.Tensor2D; seed: RngKey }): Promise<FlowRunResult>;
    };

function releaseRest(r: FlowRunResult): tf.Tensor2D {
  const out = r.samples;
  const visit = (v: unknown): void => {
    if (v instanceof tf.Tensor) {
      if (v !== out && !v.isDisposed) v.dispose();
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const w of Object.values(v)) visit(w);
    }
  };
  for (const [k, v] of Object.entries(r as object)) if (k !== 'samples') visit(v);
  return out;
}

/**
 * Reflow (Liu et al. 2023; TorchEBM's `ReflowCoupling`): pairs each source point with its image under a
 * trained flow, x₁ = Φ(x₀), ignoring the data batch's rows (only its shape is checked). Training a new flow on
 * these pairs straightens it. Φ runs without the gradient tape (its pairs are constants for the loss).
 */
export class ReflowCoupling extends BaseCoupling {
  readonly name = 'reflow';
  readonly flow: FlowMap;

  constructor(flow: FlowMap) {
    super();
    if (
      typeof flow !== 'function' &&
      (flow === null || typeof flow !== 'object' || typeof flow.sampleSync !== 'function')
    ) {
      throw new EbmError(
        'INVALID_PARAM',
        'ReflowCoupling needs a flow: a function x0 => x1 or a flow sampler.',
        {
          argument: 'flow',
          value: flow === null ? null : typeof flow,
          fix: 'pass e.g. new FlowSampler(model) from @ebm/samplers, or (x0, key) => x1.',
        },
      );
    }
    this.flow = flow;
  }

  private checked(x0: tf.Tensor2D, out: tf.Tensor2D): tf.Tensor2D {
    if (out.shape[0] !== x0.shape[0] || out.shape[1] !== x0.shape[1]) {
      const s = out.shape;
      out.dispose();
      throw new EbmError('SHAPE_MISMATCH', 'ReflowCoupling: the flow must map [B, D] to [B, D].', {
        argument: 'flow',
        value: s,
        fix: 'return one transported point per source row.',
      });
    }
    return out;
  }

  couple(x0: tf.Tensor2D, x1: tf.Tensor2D, key?: RngKey): CouplingResult {
    const [a] = this.checkPair(x0, x1);
    const k = this.keyFor(key);
    const f = this.flow;
    const out = withoutTape(() =>
      typeof f === 'function' ? f(a, k) : releaseRest(f.sampleSync({ x0: a, seed: k })),
    );
    return { x0: tf.clone(a), x1: this.checked(a, assertBatch('flow output', out)) };
  }

  override async coupleAsync(x0: tf.Tensor2D, x1: tf.Tensor2D, key?: RngKey): Promise<CouplingResult> {
    const f = this.flow;
    if (typeof f === 'function' || typeof f.sample !== 'function') return this.couple(x0, x1, key);
    const [a] = this.checkPair(x0, x1);
    const out = releaseRest(await f.sample({ x0: a, seed: this.keyFor(key) }));
    return { x0: tf.clone(a), x1: this.checked(a, out) };
  }
}
