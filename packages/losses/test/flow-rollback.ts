import type { LossOutput } from '@ebm/core';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import {
  EnergyMatchingLoss,
  type FitResult,
  fit,
  type LossCallContext,
  type TrainingCheckpoint,
} from '../src/index.js';

// The flow-only roll-back case of fit-rollback-no-gradient.test.ts (cpu, autograd) and fused-flow-webgpu.test.ts
// (webgpu, the fused train.mlpGradientRegression kernel): EnergyMatchingLoss in its flow-only phase (lambdaCd 2
// only after 100 warm-up steps) on a 2-8-8-1 SiLU MLPEnergy, whose output bias gets no gradient from the flow term,
// so Adam holds no slot for it. The loss's fourth call (step 3) returns a NaN loss: fit rejects the step and
// restores the step-2 checkpoint (5 steps, batch 16, seed 5, a checkpoint every 2 steps).

/** EnergyMatchingLoss whose call 3 (counting from 0) returns a NaN loss. */
export class FlakyEnergyMatching extends EnergyMatchingLoss {
  seen = 0;
  override compute(data: tf.Tensor2D, context?: LossCallContext): LossOutput {
    const out = super.compute(data, context);
    if (this.seen++ !== 3) return out;
    const nan = tf.mul(out.loss, Number.NaN) as tf.Scalar;
    // (a metric may be the loss tensor itself: fit releases the metrics)
    if (!Object.values(out.metrics ?? {}).includes(out.loss)) out.loss.dispose();
    return {
      loss: nan,
      metrics: { ...out.metrics, loss: Number.NaN } as unknown as LossOutput['metrics'],
    };
  }
}

/** The trained objects of a {@link flowOnlyRollback} run. */
export interface FlowRollbackParts {
  readonly energy: MLPEnergy;
  readonly loss: FlakyEnergyMatching;
  readonly optimizer: tf.AdamOptimizer;
}

/**
 * Runs the case on `data` ([n, 2], on the active backend); `onRollback` sees the state fit restored. Returns fit's
 * result, the checkpoints by step, and `dispose` (optimizer, loss, energy).
 */
export async function flowOnlyRollback(
  data: tf.Tensor2D,
  onRollback: (parts: FlowRollbackParts) => void | Promise<void>,
): Promise<FlowRollbackParts & { res: FitResult; saved: Map<number, TrainingCheckpoint>; dispose(): void }> {
  const energy = new MLPEnergy({ inputDim: 2, widths: [8, 8], activation: 'silu', seed: 4 });
  const loss = new FlakyEnergyMatching(energy, { coupling: 'independent', lambdaCd: 2, warmupSteps: 100 });
  const optimizer = tf.train.adam(0.01);
  const parts = { energy, loss, optimizer };
  const saved = new Map<number, TrainingCheckpoint>();
  const res = await fit({
    loss,
    optimizer,
    data,
    batchSize: 16,
    steps: 5,
    seed: 5,
    checkpointEvery: 2,
    onCheckpoint: (c) => {
      saved.set(c.step, c);
    },
    onRollback: () => onRollback(parts),
  });
  return {
    ...parts,
    res,
    saved,
    dispose() {
      optimizer.dispose();
      loss.dispose();
      energy.dispose();
    },
  };
}
