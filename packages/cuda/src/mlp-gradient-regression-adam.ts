import type { MLPGradientRegressionAdamInputs, MLPGradientRegressionAdamOutput } from '@ebm/core';
import type * as tf from '@tensorflow/tfjs-core';
import {
  ADAM_THREADS,
  adamGradNormSquaredWgsl,
  adamInputs,
  adamMomentsProgram,
  adamUpdate,
  runAdamMoments,
} from './adam-programs.js';
import { run } from './backend.js';
import type { Program } from './chain-programs.js';
import {
  regressionCall,
  regressionGradientWgsl,
  regressionPer,
  regressionRows,
  type ScratchLayout,
} from './mlp-gradient-regression.js';

/**
 * The fused WebGPU training step `train.mlpGradientRegressionAdam`: one Adam step on
 * L = Σ_b c_b‖∇ₓV(x_b) + u_b‖² of an MLP energy (Energy Matching's flow phase) in 3 + (number of weight tensors
 * − 1) WGSL dispatches (plus the flat weight buffer), no tfjs autograd and no per-variable tfjs Adam ops.
 * Internal module.
 *
 * Programs:
 * 1. **rows** — `train.mlpGradientRegression`'s rows program (`mlp-gradient-regression.ts`: forward, input
 *    gradient, tangent pass, second backward pass per row).
 * 2. **moments** — a thread per 4 (2, 1: the largest dividing every hidden width) parameters of [K₀, b₀, …, K_L] (V's output bias b_L has no gradient and is left
 *    alone, as tfjs's Adam leaves a variable autograd gives no gradient): the gradient (the grad program's sums
 *    over rows) and Adam's moments (`adam-programs.ts`).
 * 3. **metrics** — one workgroup: [L, ‖∇θL‖₂].
 * 4. **update** — per weight tensor but b_L: tfjs's Adam update (`adam-programs.ts`).
 * @module
 */

const KERNEL = 'train.mlpGradientRegressionAdam';

/** Program 3: [Σ_b ℓ_b, ‖g‖₂] in one workgroup. Inputs R (rows scratch), M (new moments). */
function metricsProgram(b: number, sl: ScratchLayout, nParams: number, per: number): Program {
  const T = ADAM_THREADS;
  return {
    outputShape: [2],
    shaderKey: `ebm_gradreg_adam_metrics_B${b}_at${sl.loss}_P${nParams}_x${per}`,
    dispatchLayout: { x: [0] },
    dispatch: [1, 1, 1],
    variableNames: ['R', 'M'],
    workgroupSize: [T, 1, 1],
    size: true,
    getUserCode: () => `
var<workgroup> ebmS : array<f32, ${2 * T}>;
fn main(index : i32) {
  let tid = i32(localIndex);
  var s = 0.0;
  var gg = 0.0;
  for (var r = tid; r < ${b}; r += ${T}) {
    s += R[${sl.loss} + r];
  }
  ${adamGradNormSquaredWgsl(nParams, per)}
  ebmS[tid] = s;
  ebmS[${T} + tid] = gg;
  workgroupBarrier();
  // (uniforms.size keeps the uniform binding in the shader's layout: tfjs binds it)
  if (tid == 0 && uniforms.size == 2) {
    var t0 = 0.0;
    var t1 = 0.0;
    for (var k = 0; k < ${T}; k++) {
      t0 += ebmS[k];
      t1 += ebmS[${T} + k];
    }
    result[0] = t0;
    result[1] = sqrt(t1);
  }
}
`,
  };
}

/**
 * `train.mlpGradientRegressionAdam` on WebGPU (see the module docs). Validates everything before any dispatch:
 * `INVALID_PARAM` for bad tensors or settings, `NOT_IMPLEMENTED` for an activation or widths the programs do not
 * take (the caller then uses autograd). The output `moments` is `[2P + G]`: m, v, then G per-workgroup scratch
 * entries (the kernel accepts moments of length ≥ 2P).
 */
export function mlpGradientRegressionAdamWebGpu(
  inputs: MLPGradientRegressionAdamInputs,
): MLPGradientRegressionAdamOutput {
  const call = regressionCall(KERNEL, inputs);
  const { layout, weights, b, sl } = call;
  // Every parameter but b_L (the last one, at bOff[L]).
  const nParams = layout.bOff[layout.bOff.length - 1]!;
  const { adam: a, moments: m0 } = adamInputs(KERNEL, inputs.adam, inputs.moments, nParams);
  const per = regressionPer(layout);
  const rows = regressionRows(call, inputs);
  let mv: tf.Tensor1D | undefined;
  try {
    mv = runAdamMoments(
      adamMomentsProgram({
        shaderKey: `ebm_gradreg_adam_moments_${layout.key}_B${b}_x${per}`,
        nParams,
        variableNames: ['R', 'M'],
        gradient: regressionGradientWgsl(layout, b, sl, per),
        per,
      }),
      [rows, m0],
      a,
    );
    const metrics = run(metricsProgram(b, sl, nParams, per), [rows, mv], 'float32', []) as tf.Tensor1D;
    const trained = weights.slice(0, -1);
    const offsets = trained.map((_, i) => (i % 2 === 0 ? layout.wOff[i / 2]! : layout.bOff[(i - 1) / 2]!));
    let out: tf.Tensor[];
    try {
      out = adamUpdate(trained, offsets, mv, nParams, a);
    } catch (e) {
      metrics.dispose();
      throw e;
    }
    return { weights: out, moments: mv, metrics };
  } catch (e) {
    mv?.dispose();
    throw e;
  } finally {
    rows.dispose();
  }
}
