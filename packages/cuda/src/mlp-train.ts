import { EbmError, type MLPContrastiveAdamInputs, type MLPContrastiveAdamOutput } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  adamGradNormSquaredWgsl,
  adamInputs,
  adamMomentsProgram,
  adamUpdate,
  finiteIn,
  runAdamMoments,
} from './adam-programs.js';
import { run, workgroupStorageLimit } from './backend.js';
import { flatDispatch, type Program } from './chain-programs.js';
import { liveMlpParams, type MlpLayout } from './mlp-energy.js';
import { hiddenOffsets, mlpRowBackward, mlpRowForward } from './mlp-row-passes.js';

/**
 * The fused WebGPU training step `train.mlpContrastiveAdam`: one Adam step on the contrastive-divergence loss
 * of an MLP energy in 3 + (number of weight tensors) WGSL dispatches, no tfjs autograd. Internal module.
 *
 * Loss L = mean E(x⁺) − mean E(x⁻) + λ·(mean E(x⁺)² + mean E(x⁻)²) over B positive and B negative rows r;
 * ∂L/∂E(xᵣ) = cᵣ = (±1 + 2λ·E(xᵣ))/B. Network (core's MLP hint): a₀ = x, zⱼ = aⱼ·Kⱼ + bⱼ, aⱼ₊₁ = φ(zⱼ)
 * (j < L), E = z_L. Per row, back-propagation gives δ_L = cᵣ, δ_{L−1} = K_L ⊙ φ'(z_{L−1})·cᵣ,
 * δⱼ₋₁ = (Kⱼ·δⱼ) ⊙ φ'(zⱼ₋₁); then ∂L/∂Kⱼ[i, o] = Σᵣ aⱼ[r, i]·δⱼ[r, o] and ∂L/∂bⱼ[o] = Σᵣ δⱼ[r, o].
 *
 * Programs:
 * 1. **rows** — a workgroup per row (2B workgroups of {@link TRAIN_THREADS} threads, threads split each layer's
 *    units, activations in workgroup memory): forward, energy, cᵣ, backward; writes aⱼ and δⱼ of every layer
 *    and E(xᵣ) to a scratch buffer.
 * 2. **moments** — a thread per parameter: the gradient g (a sum over the 2B rows), Adam's moments
 *    m' = β₁m + (1 − β₁)g, v' = β₂v + (1 − β₂)g², and per workgroup Σg² (for ‖g‖); the Adam part is
 *    `adam-programs.ts`', shared with `train.mlpGradientRegressionAdam`.
 * 3. **metrics** — one workgroup: [loss, mean E⁺, mean E⁻, ‖g‖₂].
 * 4. **update** — per weight tensor, a thread per entry: w' = w − lr·(m'/c₁)/(√(v'/c₂) + ε) (tfjs's Adam formula
 *    and order of operations, c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ; `adam-programs.ts`).
 * @module
 */

/** Threads per workgroup of the training programs. */
export const TRAIN_THREADS = 64;

/** Offsets of the rows program's scratch buffer (2B rows). */
interface RowsLayout {
  /** aⱼ (input of dense j) `[2B, widths[j]]`. */
  readonly a: number[];
  /** δⱼ (∂L/∂zⱼ) `[2B, widths[j+1]]`. */
  readonly d: number[];
  /** E(xᵣ) `[2B]`. */
  readonly e: number;
  readonly total: number;
}

function rowsLayout(widths: readonly number[], rows: number): RowsLayout {
  const a: number[] = [];
  const d: number[] = [];
  let off = 0;
  for (let j = 0; j + 1 < widths.length; j++) {
    a.push(off);
    off += rows * widths[j]!;
    d.push(off);
    off += rows * widths[j + 1]!;
  }
  return { a, d, e: off, total: off + rows };
}

/** Floats of workgroup memory of the rows program. */
function rowsSharedFloats(widths: readonly number[]): number {
  const hidden = widths.slice(1, -1);
  return hidden.reduce((s, w) => s + w, 0) + 2 * Math.max(...widths.slice(0, -1)) + TRAIN_THREADS + 1;
}

/**
 * Program 1: forward and backward per row (a workgroup per row). Inputs XP, XN, P (the flat weights, as the chain
 * kernels': WebGPU guarantees only 8 storage buffers per program).
 */
function rowsProgram(layout: MlpLayout, b: number, rl: RowsLayout): Program {
  const { widths, wOff, bOff, actCode, key } = layout;
  const T = TRAIN_THREADS;
  const L = widths.length - 2; // hidden layers; dense L is the output
  const d = widths[0]!;
  const mw = Math.max(...widths.slice(0, -1));
  const { sumH } = hiddenOffsets(widths);
  const bufs = ['ebmVa', 'ebmVb'] as const;
  // dense j reads bufs[j % 2] and writes bufs[(j + 1) % 2].
  const forward = mlpRowForward(layout, T, { bufs, z: 'ebmZ', store: (j) => rl.a[j + 1] });
  const lastIn = widths[L]!;
  const lastBuf = bufs[L % 2]!;
  // δ_{L−1} (times cᵣ) into the other buffer, then δⱼ₋₁ alternating.
  const backward = mlpRowBackward(layout, T, {
    bufs,
    first: ((L + 1) % 2) as 0 | 1,
    z: 'ebmZ',
    store: (j) => rl.d[j],
    scale: 'c',
  }).code;
  return {
    outputShape: [rl.total],
    shaderKey: `ebm_train_rows_${key}_B${b}`,
    dispatchLayout: { x: [0] },
    dispatch: flatDispatch(2 * b),
    variableNames: ['XP', 'XN', 'P'],
    workgroupSize: [T, 1, 1],
    size: true,
    uniforms: 'lambda : f32,',
    getUserCode: () => `
${actCode}
var<workgroup> ebmZ : array<f32, ${Math.max(1, sumH)}>;
var<workgroup> ebmVa : array<f32, ${mw}>;
var<workgroup> ebmVb : array<f32, ${mw}>;
var<workgroup> ebmRed : array<f32, ${T}>;
var<workgroup> ebmC : f32;
fn main(index : i32) {
  let tid = i32(localIndex);
  let r0 = index / ${T};
  let live = r0 < ${2 * b};
  let r = select(0, r0, live);
  let neg = r >= ${b};
  let rr = select(r, r - ${b}, neg);
  for (var i = tid; i < ${d}; i += ${T}) {
    var x = XP[rr * ${d} + i];
    if (neg) {
      x = XN[rr * ${d} + i];
    }
    ebmVa[i] = x;
    if (live) {
      result[${rl.a[0]} + r * ${d} + i] = x;
    }
  }
  workgroupBarrier();
${forward.join('\n')}
  var part = 0.0;
  for (var i = tid; i < ${lastIn}; i += ${T}) {
    part += ${lastBuf}[i] * P[${wOff[L]} + i];
  }
  ebmRed[tid] = part;
  workgroupBarrier();
  if (tid == 0) {
    var e = P[${bOff[L]}];
    for (var k = 0; k < ${T}; k++) {
      e += ebmRed[k];
    }
    let sgn = select(1.0, -1.0, neg);
    let cr = (sgn + 2.0 * uniforms.lambda * e) / ${b}.0;
    ebmC = cr;
    if (live) {
      result[${rl.e} + r] = e;
      result[${rl.d[L]} + r] = cr;
    }
  }
  workgroupBarrier();
  let c = ebmC;
${backward.join('\n')}
}
`,
  };
}

/** Program 2: gradient and Adam moments, a thread per parameter (see `adam-programs.ts`). Inputs R (rows scratch), M. */
function momentsProgram(layout: MlpLayout, b: number, rl: RowsLayout, nParams: number): Program {
  const { widths, wOff, bOff, key } = layout;
  const rows = 2 * b;
  const branches: string[] = [];
  for (let j = 0; j + 1 < widths.length; j++) {
    const nIn = widths[j]!;
    const nOut = widths[j + 1]!;
    branches.push(`if (p < ${bOff[j]}) {
    let q = p - ${wOff[j]};
    let i = q / ${nOut};
    let o = q % ${nOut};
    for (var r = 0; r < ${rows}; r++) {
      g[0] += R[${rl.a[j]} + r * ${nIn} + i] * R[${rl.d[j]} + r * ${nOut} + o];
    }
  } else if (p < ${j + 2 < widths.length ? wOff[j + 1] : nParams}) {
    let o = p - ${bOff[j]};
    for (var r = 0; r < ${rows}; r++) {
      g[0] += R[${rl.d[j]} + r * ${nOut} + o];
    }
  }`);
  }
  return adamMomentsProgram({
    shaderKey: `ebm_train_moments_${key}_B${b}`,
    nParams,
    variableNames: ['R', 'M'],
    gradient: branches.join(' else '),
  });
}

/** Program 3: the metrics [loss, E⁺, E⁻, ‖g‖] in one workgroup. Inputs R (rows scratch), M (new moments). */
function metricsProgram(b: number, rl: RowsLayout, nParams: number): Program {
  const T = TRAIN_THREADS;
  return {
    outputShape: [4],
    shaderKey: `ebm_train_metrics_B${b}_P${nParams}`,
    dispatchLayout: { x: [0] },
    dispatch: [1, 1, 1],
    variableNames: ['R', 'M'],
    workgroupSize: [T, 1, 1],
    size: true,
    uniforms: 'lambda : f32,',
    getUserCode: () => `
var<workgroup> ebmS : array<f32, ${5 * T}>;
fn main(index : i32) {
  let tid = i32(localIndex);
  var sp = 0.0;
  var sp2 = 0.0;
  var sn = 0.0;
  var sn2 = 0.0;
  var gg = 0.0;
  for (var r = tid; r < ${b}; r += ${T}) {
    let ep = R[${rl.e} + r];
    let en = R[${rl.e + b} + r];
    sp += ep;
    sp2 += ep * ep;
    sn += en;
    sn2 += en * en;
  }
  ${adamGradNormSquaredWgsl(nParams)}
  ebmS[tid] = sp;
  ebmS[${T} + tid] = sp2;
  ebmS[${2 * T} + tid] = sn;
  ebmS[${3 * T} + tid] = sn2;
  ebmS[${4 * T} + tid] = gg;
  workgroupBarrier();
  if (tid == 0) {
    var t = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);
    for (var q = 0; q < 5; q++) {
      for (var k = 0; k < ${T}; k++) {
        t[q] += ebmS[q * ${T} + k];
      }
    }
    let ePos = t[0] / ${b}.0;
    let eNeg = t[2] / ${b}.0;
    result[0] = ePos - eNeg + uniforms.lambda * (t[1] / ${b}.0 + t[3] / ${b}.0);
    result[1] = ePos;
    result[2] = eNeg;
    result[3] = sqrt(t[4]);
  }
}
`,
  };
}

const KERNEL = 'train.mlpContrastiveAdam';

function bad(argument: string, what: string, value: unknown, fix: string): never {
  throw new EbmError('INVALID_PARAM', `${KERNEL}: ${what}.`, { argument, value, fix });
}

function assertSamples(name: string, x: unknown, dim: number, rows?: number): tf.Tensor2D {
  if (!(x instanceof tf.Tensor) || x.isDisposed || x.rank !== 2 || x.dtype !== 'float32') {
    bad(
      name,
      `${name} must be a live float32 [B, D] tensor`,
      x instanceof tf.Tensor ? x.shape : typeof x,
      'pass the batch and the negatives as [B, D] float32 tensors.',
    );
  }
  if (x.shape[1] !== dim || x.shape[0] === 0 || (rows !== undefined && x.shape[0] !== rows)) {
    bad(
      name,
      `${name} has shape [${x.shape.join(', ')}], expected [${rows ?? 'B ≥ 1'}, ${dim}]`,
      x.shape,
      'positives and negatives must have the same shape [B, D], D the network input.',
    );
  }
  return x as tf.Tensor2D;
}

/**
 * `train.mlpContrastiveAdam` on WebGPU (see the module docs for the programs). Validates everything before any
 * dispatch: `INVALID_PARAM` for bad tensors or settings, `NOT_IMPLEMENTED` for an activation or a width the
 * programs do not take (the caller then uses autograd). The output `moments` is `[2P + G]`: m, v, then G
 * per-workgroup scratch entries (the kernel accepts moments of length ≥ 2P).
 */
export function mlpContrastiveAdamWebGpu(inputs: MLPContrastiveAdamInputs): MLPContrastiveAdamOutput {
  if (inputs === null || typeof inputs !== 'object')
    bad(
      'inputs',
      'inputs must be an object',
      inputs,
      'pass { params, positives, negatives, energyL2, adam, moments }.',
    );
  const { params, energyL2, adam, moments } = inputs;
  const { dim, layout, weights } = liveMlpParams('train.mlpContrastiveAdam', params);
  const pos = assertSamples('positives', inputs.positives, dim);
  const neg = assertSamples('negatives', inputs.negatives, dim, pos.shape[0]);
  const lambda = finiteIn(KERNEL, 'energyL2', energyL2, 0);
  const nParams = layout.bOff[layout.bOff.length - 1]! + 1;
  const { adam: a, moments: m0 } = adamInputs(KERNEL, adam, moments, nParams);
  const shared = 4 * rowsSharedFloats(layout.widths);
  if (shared > workgroupStorageLimit()) {
    throw new EbmError(
      'NOT_IMPLEMENTED',
      `The fused training step needs ${shared} bytes of workgroup memory.`,
      {
        argument: 'params.sizes',
        value: layout.widths,
        fix: 'narrower layers, or the autograd step (fit uses it automatically).',
      },
    );
  }
  const b = pos.shape[0];
  const rl = rowsLayout(layout.widths, 2 * b);
  const flat = layout.params();
  let rows: tf.Tensor;
  try {
    rows = run(rowsProgram(layout, b, rl), [pos, neg, flat], 'float32', [
      { type: 'float32', data: [lambda] },
    ]);
  } finally {
    flat.dispose();
  }
  let mv: tf.Tensor | undefined;
  try {
    mv = runAdamMoments(momentsProgram(layout, b, rl, nParams), [rows, m0], a);
    const metrics = run(metricsProgram(b, rl, nParams), [rows, mv], 'float32', [
      { type: 'float32', data: [lambda] },
    ]) as tf.Tensor1D;
    const offsets = weights.map((_, i) => (i % 2 === 0 ? layout.wOff[i / 2]! : layout.bOff[(i - 1) / 2]!));
    let out: tf.Tensor[];
    try {
      out = adamUpdate(weights, offsets, mv, nParams, a);
    } catch (e) {
      metrics.dispose();
      throw e;
    }
    return { weights: out, moments: mv as tf.Tensor1D, metrics };
  } catch (e) {
    mv?.dispose();
    throw e;
  } finally {
    rows.dispose();
  }
}
