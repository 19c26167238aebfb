import { type AdamStepSettings, EbmError } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { run } from './backend.js';
import { flatDispatch, type Program } from './chain-programs.js';

/**
 * tfjs's Adam as WGSL programs over one flat parameter vector, shared by the fused training-step kernels
 * (`mlp-train.ts`: CD + Adam; `mlp-gradient-regression-adam.ts`: the flow term + Adam). Internal module.
 *
 * With g the gradient of parameter p (computed in the moments program by the kernel's own WGSL):
 *
 * m' = β₁·m + (1 − β₁)·g,  v' = β₂·v + (1 − β₂)·g²,  w' = w − lr·(m'/c₁)/(√(v'/c₂) + ε),
 *
 * c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ (tfjs's formula and order of operations). The moments buffer is `[2P + G]`: m, v,
 * then Σg² of each of the G workgroups of the moments program (for ‖g‖₂).
 * @module
 */

/** Threads per workgroup of the Adam programs. */
export const ADAM_THREADS = 64;

/** Adam's validated numbers for one step. */
export interface AdamNumbers {
  readonly lr: number;
  readonly b1: number;
  readonly b2: number;
  readonly eps: number;
  readonly c1: number;
  readonly c2: number;
}

/** Workgroups of the moments program for `nParams` parameters, `per` of them a thread (Σg² partial sums follow m, v). */
export function adamGroups(nParams: number, per = 1): number {
  return Math.ceil(nParams / (ADAM_THREADS * per));
}

/**
 * The moments program: a thread per `per` consecutive parameters p, …, p + per − 1 (p = per·index; `nParams` a
 * multiple of `per`) runs `gradient` (WGSL statements that add the gradient of parameter p + m to `g[m]`, m < per,
 * reading the program's inputs; `per` > 1 lets a kernel load a shared factor once), then writes m', v' and per
 * workgroup Σg². The last input must be `M` (the moments before the step).
 */
export function adamMomentsProgram(o: {
  readonly shaderKey: string;
  readonly nParams: number;
  readonly variableNames: readonly string[];
  readonly gradient: string;
  readonly per?: number;
}): Program {
  const T = ADAM_THREADS;
  const { nParams } = o;
  const per = o.per ?? 1;
  const groups = adamGroups(nParams, per);
  return {
    outputShape: [2 * nParams + groups],
    shaderKey: o.shaderKey,
    dispatchLayout: { x: [0] },
    dispatch: flatDispatch(groups),
    variableNames: [...o.variableNames],
    workgroupSize: [T, 1, 1],
    size: true,
    uniforms: 'b1 : f32, omb1 : f32, b2 : f32, omb2 : f32,',
    getUserCode: () => `
var<workgroup> ebmRed : array<f32, ${T}>;
fn main(index : i32) {
  let tid = i32(localIndex);
  let live = index * ${per} < ${nParams};
  let p = select(0, index * ${per}, live);
  var g : array<f32, ${per}>;
  ${o.gradient}
  var gg = 0.0;
  if (live) {
    for (var m = 0; m < ${per}; m++) {
      let q = p + m;
      let mo = M[q];
      let v = M[${nParams} + q];
      result[q] = mo * uniforms.b1 + g[m] * uniforms.omb1;
      result[${nParams} + q] = v * uniforms.b2 + (g[m] * g[m]) * uniforms.omb2;
      gg += g[m] * g[m];
    }
  }
  ebmRed[tid] = gg;
  workgroupBarrier();
  if (tid == 0) {
    var s = 0.0;
    for (var k = 0; k < ${T}; k++) {
      s += ebmRed[k];
    }
    let wg = index / ${T};
    if (wg < ${groups}) {
      result[${2 * nParams} + wg] = s;
    }
  }
}
`,
  };
}

/** Runs {@link adamMomentsProgram} on `inputs` (the last one the moments). */
export function runAdamMoments(program: Program, inputs: tf.Tensor[], a: AdamNumbers): tf.Tensor1D {
  return run(program, inputs, 'float32', [
    { type: 'float32', data: [a.b1] },
    { type: 'float32', data: [1 - a.b1] },
    { type: 'float32', data: [a.b2] },
    { type: 'float32', data: [1 - a.b2] },
  ]) as tf.Tensor1D;
}

/**
 * WGSL: ‖g‖₂² of the moments program's partial sums (`per` as given to it), accumulated by thread `tid` into
 * `var gg` (input `M`).
 */
export function adamGradNormSquaredWgsl(nParams: number, per = 1): string {
  return `for (var k = tid; k < ${adamGroups(nParams, per)}; k += ${ADAM_THREADS}) {
    gg += M[${2 * nParams} + k];
  }`;
}

/** Adam's weight update of one tensor (tfjs's formula). Inputs W (weights), M (new moments). */
function updateProgram(shape: number[]): Program {
  const n = shape.reduce((a, c) => a * c, 1);
  return {
    outputShape: shape,
    shaderKey: 'ebm_train_adam_update',
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: flatDispatch(Math.ceil(n / ADAM_THREADS)),
    variableNames: ['W', 'M'],
    workgroupSize: [ADAM_THREADS, 1, 1],
    size: true,
    uniforms: 'off : i32, nParams : i32, c1 : f32, c2 : f32, eps : f32, nlr : f32,',
    getUserCode: () => `
fn main(index : i32) {
  if (index < uniforms.size) {
    let p = uniforms.off + index;
    let mh = M[p] / uniforms.c1;
    let vh = M[uniforms.nParams + p] / uniforms.c2;
    result[index] = (mh / (sqrt(vh) + uniforms.eps)) * uniforms.nlr + W[index];
  }
}
`,
  };
}

/**
 * The updated weights: one program per tensor `weights[k]`, whose parameters start at `offsets[k]` of the flat
 * vector of `nParams` parameters whose new moments are `mv`. New tensors (none left behind on an error).
 */
export function adamUpdate(
  weights: readonly tf.Tensor[],
  offsets: readonly number[],
  mv: tf.Tensor,
  nParams: number,
  a: AdamNumbers,
): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  try {
    weights.forEach((w, k) => {
      out.push(
        run(updateProgram([...w.shape]), [w, mv], 'float32', [
          { type: 'int32', data: [offsets[k]!] },
          { type: 'int32', data: [nParams] },
          { type: 'float32', data: [a.c1] },
          { type: 'float32', data: [a.c2] },
          { type: 'float32', data: [a.eps] },
          { type: 'float32', data: [-a.lr] },
        ]),
      );
    });
  } catch (e) {
    tf.dispose(out);
    throw e;
  }
  return out;
}

function bad(kernel: string, argument: string, what: string, value: unknown, fix: string): never {
  throw new EbmError('INVALID_PARAM', `${kernel}: ${what}.`, { argument, value, fix });
}

/** A finite number in [lo, hi] (or (lo, hi] when `open`), else `INVALID_PARAM` naming `kernel`. */
export function finiteIn(
  kernel: string,
  argument: string,
  v: unknown,
  lo: number,
  hi = Number.POSITIVE_INFINITY,
  open = false,
): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (open && v === lo)) {
    bad(
      kernel,
      argument,
      `${argument} must be a finite number in ${open ? '(' : '['}${lo}, ${hi}]`,
      v,
      'pass the optimizer settings of tf.train.adam.',
    );
  }
  return v;
}

/** Validates a kernel's `adam` settings and `moments` (`[≥ 2P]` float32) before any dispatch. */
export function adamInputs(
  kernel: string,
  adam: AdamStepSettings | undefined,
  moments: unknown,
  nParams: number,
): { adam: AdamNumbers; moments: tf.Tensor1D } {
  if (adam === null || typeof adam !== 'object')
    bad(
      kernel,
      'adam',
      'adam must be an object',
      adam,
      'pass { learningRate, beta1, beta2, epsilon, biasCorrection1, biasCorrection2 }.',
    );
  const a: AdamNumbers = {
    lr: finiteIn(kernel, 'adam.learningRate', adam.learningRate, Number.NEGATIVE_INFINITY),
    b1: finiteIn(kernel, 'adam.beta1', adam.beta1, 0, 1),
    b2: finiteIn(kernel, 'adam.beta2', adam.beta2, 0, 1),
    eps: finiteIn(kernel, 'adam.epsilon', adam.epsilon, 0),
    c1: finiteIn(kernel, 'adam.biasCorrection1', adam.biasCorrection1, 0, 1, true),
    c2: finiteIn(kernel, 'adam.biasCorrection2', adam.biasCorrection2, 0, 1, true),
  };
  if (
    !(moments instanceof tf.Tensor) ||
    moments.isDisposed ||
    moments.rank !== 1 ||
    moments.dtype !== 'float32' ||
    moments.size < 2 * nParams
  ) {
    bad(
      kernel,
      'moments',
      `moments must be a live float32 [2P] tensor (P = ${nParams})`,
      moments instanceof tf.Tensor ? moments.shape : typeof moments,
      'start from zeros [2P] and pass the previous output.',
    );
  }
  return { adam: a, moments: moments as tf.Tensor1D };
}
