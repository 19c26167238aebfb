import { EbmError, type MLPGradientRegressionInputs, type MLPGradientRegressionOutput } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { run, workgroupStorageLimit } from './backend.js';
import { flatDispatch, type Program } from './chain-programs.js';
import { liveMlpParams, type MlpActivation, type MlpLayout } from './mlp-energy.js';
import { hiddenOffsets, mlpRowBackward, mlpRowForward } from './mlp-row-passes.js';

/**
 * The fused WebGPU kernel `train.mlpGradientRegression`: L = Σ_b c_b‖∇ₓV(x_b) + u_b‖² and ∂L/∂θ for an MLP
 * energy V in 2 + (number of weight tensors) WGSL dispatches (plus the flat weight buffer), no tfjs autograd.
 * Internal module.
 *
 * **Network** (core's MLP hint): a₀ = x, zⱼ = aⱼ·Kⱼ + bⱼ, aⱼ₊₁ = φ(zⱼ) (j < L), V = a_L·K_L + b_L.
 *
 * **Input gradient** (reverse mode): δ_{L−1} = K_L ⊙ φ'(z_{L−1}); sⱼ = Kⱼ·δⱼ, δⱼ₋₁ = sⱼ ⊙ φ'(zⱼ₋₁);
 * g = ∇ₓV = K₀·δ₀ (= s₀). Row loss ℓ_b = c_b‖g + u_b‖², r_b = ∂ℓ_b/∂g = 2c_b(g + u_b).
 *
 * **Parameter gradient** (forward-over-reverse): ∂ℓ_b/∂θ = ∂/∂θ (r_bᵀ∇ₓV) with r_b fixed, the parameter gradient
 * of the directional derivative V̇ = r_bᵀ∇ₓV. Tangent forward pass along r_b: ȧ₀ = r_b, żⱼ = ȧⱼ·Kⱼ,
 * ȧⱼ₊₁ = φ'(zⱼ) ⊙ żⱼ, V̇ = ȧ_L·K_L. Reverse mode through (aⱼ, ȧⱼ): the adjoint of żⱼ is δⱼ (the same recursion
 * as the input gradient), and the adjoint z̄ⱼ of zⱼ is
 *
 * z̄_{L−1} = K_L ⊙ φ''(z_{L−1}) ⊙ ż_{L−1},  z̄ⱼ₋₁ = (Kⱼ·z̄ⱼ) ⊙ φ'(zⱼ₋₁) + sⱼ ⊙ φ''(zⱼ₋₁) ⊙ żⱼ₋₁,
 *
 * so ∂L/∂Kⱼ = Σ_b (aⱼ ⊗ z̄ⱼ + ȧⱼ ⊗ δⱼ), ∂L/∂bⱼ = Σ_b z̄ⱼ (j < L), ∂L/∂K_L = Σ_b ȧ_L, ∂L/∂b_L = 0
 * (V's bias does not move ∇ₓV). φ'' is SiLU's σ(1 − σ)(2 + z(1 − 2σ)), tanh's −2t(1 − t²), ELU's eᶻ·[z ≤ 0] and
 * LeakyReLU's and ReLU's 0 (almost everywhere; as tfjs autograd of the models' activations). With per-layer
 * activations each layer j uses its own φⱼ', φⱼ''.
 *
 * Programs:
 * 1. **rows** — a workgroup per row ({@link GRAD_REG_THREADS} threads splitting each layer's units, zⱼ, żⱼ and
 *    sⱼ in workgroup memory): forward, input gradient, r_b and ℓ_b, tangent pass, second backward pass; writes
 *    aⱼ, ȧⱼ, z̄ⱼ, δⱼ and ℓ_b to a scratch buffer.
 * 2. **grad** — per weight tensor, a thread per entry: the sums over rows above.
 * 3. **loss** — one workgroup: Σ_b ℓ_b.
 * @module
 */

/** Threads per workgroup of the gradient-regression programs. */
export const GRAD_REG_THREADS = 64;

/** Offsets of the rows program's scratch buffer (B rows). */
export interface ScratchLayout {
  /** aⱼ `[B, widths[j]]` (j < L). */
  readonly a: number[];
  /** ȧⱼ `[B, widths[j]]` (j ≤ L). */
  readonly ad: number[];
  /** z̄ⱼ `[B, widths[j+1]]` (j < L). */
  readonly zb: number[];
  /** δⱼ `[B, widths[j+1]]` (j < L). */
  readonly d: number[];
  /** ℓ_b `[B]`. */
  readonly loss: number;
  readonly total: number;
}

function scratchLayout(widths: readonly number[], rows: number): ScratchLayout {
  const L = widths.length - 2;
  const s: ScratchLayout = { a: [], ad: [], zb: [], d: [], loss: 0, total: 0 };
  let off = 0;
  for (let j = 0; j <= L; j++) {
    if (j < L) {
      s.a.push(off);
      off += rows * widths[j]!;
    }
    s.ad.push(off);
    off += rows * widths[j]!;
    if (j < L) {
      s.zb.push(off);
      off += rows * widths[j + 1]!;
      s.d.push(off);
      off += rows * widths[j + 1]!;
    }
  }
  return { ...s, loss: off, total: off + rows };
}

/** Floats of workgroup memory of the rows program: z, ż, s (every hidden unit), two layer buffers, a reduction. */
function rowsSharedFloats(widths: readonly number[]): number {
  const sumH = widths.slice(1, -1).reduce((s, w) => s + w, 0);
  return 3 * sumH + 2 * Math.max(...widths.slice(0, -1)) + GRAD_REG_THREADS + 1;
}

/** The active webgpu device's largest storage-buffer binding in bytes (128 MiB, WebGPU's default, when unknown). */
function storageBindingLimit(): number {
  const dev = (tf.backend() as unknown as { device?: { limits?: { maxStorageBufferBindingSize?: number } } })
    .device;
  const v = dev?.limits?.maxStorageBufferBindingSize;
  return typeof v === 'number' && v > 0 ? v : 134217728;
}

/** WGSL φ''(z) of a hidden activation (`ebmActGrad2<sfx>`, the suffix of the layout's `actSuffixes`). */
function secondDerivativeWgsl(activation: MlpActivation, sfx = ''): string {
  switch (activation) {
    case 'silu':
    case 'swish':
      return `fn ebmActGrad2${sfx}(z : f32) -> f32 { let s = 1.0 / (1.0 + exp(-z)); return s * (1.0 - s) * (2.0 + z * (1.0 - 2.0 * s)); }`;
    case 'tanh':
      return `fn ebmActGrad2${sfx}(z : f32) -> f32 { let t = tanh(z); return -2.0 * t * (1.0 - t * t); }`;
    case 'elu':
      return `fn ebmActGrad2${sfx}(z : f32) -> f32 { return select(exp(z), 0.0, z > 0.0); }`;
    case 'leakyRelu':
    case 'relu':
      return `fn ebmActGrad2${sfx}(z : f32) -> f32 { return 0.0; }`;
  }
}

/** Program 1: everything per row (a workgroup per row). Inputs X, U, C, P (flat weights). */
function rowsProgram(layout: MlpLayout, b: number, sl: ScratchLayout): Program {
  const { widths, wOff, actCode, key, act, actSuffixes } = layout;
  const T = GRAD_REG_THREADS;
  const L = widths.length - 2;
  const d = widths[0]!;
  const mw = Math.max(...widths.slice(0, -1));
  const { zOff, sumH } = hiddenOffsets(widths);
  const V = ['ebmV0', 'ebmV1'] as const;
  const code: string[] = [];
  // Forward: dense j reads V[j % 2], writes V[(j + 1) % 2].
  code.push(
    ...mlpRowForward(layout, T, { bufs: V, z: 'ebmZ', store: (j) => (j + 1 < L ? sl.a[j + 1] : undefined) }),
  );
  // Backward (input gradient): δ_{L−1}, then sⱼ (kept) and δⱼ₋₁ alternating buffers.
  const back = mlpRowBackward(layout, T, {
    bufs: V,
    first: 0,
    z: 'ebmZ',
    store: (j) => sl.d[j],
    keepS: 'ebmS',
  });
  code.push(...back.code);
  let cur: number = back.last;
  // g = K₀·δ₀, r = 2c(g + u) into the other buffer (ȧ₀), the row loss c‖g + u‖².
  code.push(`  var part = 0.0;
  for (var k = tid; k < ${d}; k += ${T}) {
    var g = 0.0;
    for (var o = 0; o < ${widths[1]}; o++) {
      g += P[${wOff[0]} + k * ${widths[1]} + o] * ${V[cur]}[o];
    }
    let diff = g + U[r * ${d} + k];
    let rk = 2.0 * c * diff;
    ${V[1 - cur]}[k] = rk;
    if (live) { result[${sl.ad[0]} + r * ${d} + k] = rk; }
    part += c * diff * diff;
  }
  ebmRed[tid] = part;
  workgroupBarrier();
  if (tid == 0) {
    var tot = 0.0;
    for (var k = 0; k < ${T}; k++) {
      tot += ebmRed[k];
    }
    if (live) { result[${sl.loss} + r] = tot; }
  }`);
  cur = 1 - cur;
  // Tangent forward: żⱼ = ȧⱼ·Kⱼ, ȧⱼ₊₁ = φ'(zⱼ) ⊙ żⱼ.
  for (let j = 0; j < L; j++) {
    const nIn = widths[j]!;
    const nOut = widths[j + 1]!;
    code.push(`  for (var o = tid; o < ${nOut}; o += ${T}) {
    var zd = 0.0;
    for (var i = 0; i < ${nIn}; i++) {
      zd += ${V[cur]}[i] * P[${wOff[j]} + i * ${nOut} + o];
    }
    ebmZd[${zOff[j]} + o] = zd;
    let ad = ebmActGrad${act[j]}(ebmZ[${zOff[j]} + o]) * zd;
    ${V[1 - cur]}[o] = ad;
    if (live) { result[${sl.ad[j + 1]} + r * ${nOut} + o] = ad; }
  }
  workgroupBarrier();`);
    cur = 1 - cur;
  }
  // Second backward: z̄_{L−1}, then z̄ⱼ₋₁ = (Kⱼ·z̄ⱼ) ⊙ φ'(zⱼ₋₁) + sⱼ ⊙ φ''(zⱼ₋₁) ⊙ żⱼ₋₁.
  code.push(
    ...mlpRowBackward(layout, T, {
      bufs: V,
      first: (1 - cur) as 0 | 1,
      z: 'ebmZ',
      store: (j) => sl.zb[j],
      second: { s: 'ebmS', zd: 'ebmZd' },
    }).code,
  );
  return {
    outputShape: [sl.total],
    shaderKey: `ebm_gradreg_rows_${key}_B${b}`,
    dispatchLayout: { x: [0] },
    dispatch: flatDispatch(b),
    variableNames: ['X', 'U', 'C', 'P'],
    workgroupSize: [T, 1, 1],
    size: true,
    getUserCode: () => `
${actCode}
${actSuffixes.map(([sfx, a]) => secondDerivativeWgsl(a, sfx)).join('\n')}
var<workgroup> ebmZ : array<f32, ${Math.max(1, sumH)}>;
var<workgroup> ebmZd : array<f32, ${Math.max(1, sumH)}>;
var<workgroup> ebmS : array<f32, ${Math.max(1, sumH)}>;
var<workgroup> ebmV0 : array<f32, ${mw}>;
var<workgroup> ebmV1 : array<f32, ${mw}>;
var<workgroup> ebmRed : array<f32, ${T}>;
fn main(index : i32) {
  let tid = i32(localIndex);
  let r0 = index / ${T};
  // (uniforms.size: every program must read its uniforms, or the auto layout drops their binding.)
  let live = r0 < ${b} && uniforms.size == ${sl.total};
  let r = select(0, r0, live);
  let c = C[r];
  for (var i = tid; i < ${d}; i += ${T}) {
    let x = X[r * ${d} + i];
    ebmV0[i] = x;
    if (live) { result[${sl.a[0]} + r * ${d} + i] = x; }
  }
  workgroupBarrier();
${code.join('\n')}
}
`,
  };
}

/**
 * Program 2: the gradient of weight tensor `k` (`[K₀, b₀, K₁, b₁, …]`), a thread per entry, summing the rows.
 * Input R (the rows scratch).
 */
function gradProgram(layout: MlpLayout, b: number, sl: ScratchLayout, k: number): Program {
  const { widths, key } = layout;
  const L = widths.length - 2;
  const j = Math.floor(k / 2);
  const bias = k % 2 === 1;
  const nIn = widths[j]!;
  const nOut = widths[j + 1]!;
  const size = bias ? nOut : nIn * nOut;
  let body = '';
  if (j === L) {
    // ∂L/∂K_L[i] = Σ_b ȧ_L[b, i] (∂L/∂b_L = 0 is not a program: see the caller).
    body = `var g = 0.0;
    for (var r = 0; r < ${b}; r++) {
      g += R[${sl.ad[L]} + r * ${nIn} + index];
    }`;
  } else if (bias) {
    body = `var g = 0.0;
    for (var r = 0; r < ${b}; r++) {
      g += R[${sl.zb[j]} + r * ${nOut} + index];
    }`;
  }
  const shape = bias ? [nOut] : [nIn, nOut];
  // A kernel's thread computes `per` consecutive outputs o of one input unit i (aⱼ[b, i], ȧⱼ[b, i] loaded once).
  const per = !bias && j < L ? (nOut % 4 === 0 ? 4 : nOut % 2 === 0 ? 2 : 1) : 1;
  const threads = size / per;
  if (!bias && j < L) {
    const q = Array.from({ length: per }, (_, m) => m);
    body = `let i = index / ${nOut / per};
    let o = (index % ${nOut / per}) * ${per};
    ${q.map((m) => `var g${m} = 0.0;`).join(' ')}
    for (var r = 0; r < ${b}; r++) {
      let a = R[${sl.a[j]} + r * ${nIn} + i];
      let ad = R[${sl.ad[j]} + r * ${nIn} + i];
      let zr = ${sl.zb[j]} + r * ${nOut} + o;
      let dr = ${sl.d[j]} + r * ${nOut} + o;
      ${q.map((m) => `g${m} += a * R[zr + ${m}] + ad * R[dr + ${m}];`).join('\n      ')}
    }
    ${q.map((m) => `result[i * ${nOut} + o + ${m}] = g${m};`).join('\n    ')}`;
  } else {
    body = `${body}
    result[index] = g;`;
  }
  return {
    outputShape: shape,
    shaderKey: `ebm_gradreg_grad_${key}_B${b}_k${k}`,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: flatDispatch(Math.ceil(threads / GRAD_REG_THREADS)),
    variableNames: ['R'],
    workgroupSize: [GRAD_REG_THREADS, 1, 1],
    size: true,
    getUserCode: () => `
fn main(index : i32) {
  if (index < ${threads} && uniforms.size == ${size}) {
    ${body}
  }
}
`,
  };
}

/** Program 3: Σ_b ℓ_b in one workgroup. Input R (the rows scratch). */
function lossProgram(b: number, sl: ScratchLayout): Program {
  const T = GRAD_REG_THREADS;
  return {
    outputShape: [1],
    shaderKey: `ebm_gradreg_loss_B${b}_at${sl.loss}`,
    dispatchLayout: { x: [0] },
    dispatch: [1, 1, 1],
    variableNames: ['R'],
    workgroupSize: [T, 1, 1],
    size: true,
    getUserCode: () => `
var<workgroup> ebmRed : array<f32, ${T}>;
fn main(index : i32) {
  let tid = i32(localIndex);
  var s = 0.0;
  for (var r = tid; r < ${b}; r += ${T}) {
    s += R[${sl.loss} + r];
  }
  ebmRed[tid] = s;
  workgroupBarrier();
  if (tid == 0 && uniforms.size == 1) {
    var t = 0.0;
    for (var k = 0; k < ${T}; k++) {
      t += ebmRed[k];
    }
    result[0] = t;
  }
}
`,
  };
}

function bad(kernel: string, argument: string, what: string, value: unknown, fix: string): never {
  throw new EbmError('INVALID_PARAM', `${kernel}: ${what}.`, { argument, value, fix });
}

function assertFloat(
  kernel: string,
  name: string,
  x: unknown,
  shape: readonly number[],
  fix: string,
): tf.Tensor {
  const ok =
    x instanceof tf.Tensor &&
    !x.isDisposed &&
    x.dtype === 'float32' &&
    x.rank === shape.length &&
    (x.shape as number[]).every((s: number, i: number) => shape[i]! < 0 || s === shape[i]);
  if (!ok) {
    const want = `[${shape.map((s) => (s < 0 ? 'B' : s)).join(', ')}]`;
    bad(
      kernel,
      name,
      `${name} must be a live float32 ${want} tensor`,
      x instanceof tf.Tensor ? (x.isDisposed ? 'disposed' : `${x.dtype} [${x.shape.join(', ')}]`) : typeof x,
      fix,
    );
  }
  return x as tf.Tensor;
}

/** A validated gradient-regression call: the network, the batch size and the rows program's scratch layout. */
export interface RegressionCall {
  readonly layout: MlpLayout;
  readonly weights: readonly tf.Tensor[];
  readonly b: number;
  readonly sl: ScratchLayout;
}

/**
 * Validates the gradient-regression inputs of `kernel` (`INVALID_PARAM` for bad tensors, `NOT_IMPLEMENTED` for an
 * activation or widths the programs do not take), before any dispatch.
 */
export function regressionCall(kernel: string, inputs: MLPGradientRegressionInputs): RegressionCall {
  if (inputs === null || typeof inputs !== 'object')
    bad(kernel, 'inputs', 'inputs must be an object', inputs, 'pass { params, x, targets, rowWeights }.');
  const { params } = inputs;
  const { dim, layout, weights } = liveMlpParams(kernel, params);
  const x = assertFloat(
    kernel,
    'x',
    inputs.x,
    [-1, dim],
    'pass the rows as a [B, D] float32 tensor, D the network input.',
  );
  const b = x.shape[0]!;
  if (b === 0) bad(kernel, 'x', 'x must have at least one row', x.shape, 'pass a non-empty batch.');
  assertFloat(kernel, 'targets', inputs.targets, [b, dim], 'pass targets of the shape of x.');
  assertFloat(kernel, 'rowWeights', inputs.rowWeights, [b], 'pass one weight per row of x, float32 [B].');
  const shared = 4 * rowsSharedFloats(layout.widths);
  if (shared > workgroupStorageLimit()) {
    throw new EbmError(
      'NOT_IMPLEMENTED',
      `The fused gradient regression needs ${shared} bytes of workgroup memory.`,
      {
        argument: 'params.sizes',
        value: layout.widths,
        fix: 'narrower layers, or autograd (the losses use it automatically).',
      },
    );
  }
  const sl = scratchLayout(layout.widths, b);
  const bytes = 4 * sl.total;
  if (bytes > storageBindingLimit()) {
    throw new EbmError(
      'NOT_IMPLEMENTED',
      `The fused gradient regression needs a ${bytes}-byte scratch buffer, over the device's binding limit.`,
      {
        argument: 'x',
        value: x.shape,
        fix: 'a smaller batch, or autograd (the losses use it automatically).',
      },
    );
  }
  return { layout, weights, b, sl };
}

/** Program 1 on a validated call: the rows scratch (aⱼ, ȧⱼ, z̄ⱼ, δⱼ, ℓ_b). The caller owns the result. */
export function regressionRows(call: RegressionCall, inputs: MLPGradientRegressionInputs): tf.Tensor {
  const flat = call.layout.params();
  try {
    return run(
      rowsProgram(call.layout, call.b, call.sl),
      [inputs.x, inputs.targets, inputs.rowWeights, flat],
      'float32',
      [],
    );
  } finally {
    flat.dispose();
  }
}

/**
 * Parameters per thread of {@link regressionGradientWgsl}: 4, 2 or 1, the largest that divides every hidden
 * width (then every weight tensor but b_L and every offset is a multiple of it, and `per` consecutive entries of a
 * kernel Kⱼ share their input unit i).
 */
export function regressionPer(layout: MlpLayout): number {
  const hidden = layout.widths.slice(1, -1);
  return [4, 2].find((q) => hidden.every((w) => w % q === 0)) ?? 1;
}

/**
 * WGSL statements adding ∂L/∂θ of flat parameters p + m (m < `per`, p < the offset of b_L) to `g[m]`, from the rows
 * scratch `R` (the sums of the grad program, in its order: Σ_b (aⱼ ⊗ z̄ⱼ + ȧⱼ ⊗ δⱼ), Σ_b z̄ⱼ, Σ_b ȧ_L).
 */
export function regressionGradientWgsl(layout: MlpLayout, b: number, sl: ScratchLayout, per: number): string {
  const { widths, wOff, bOff } = layout;
  const L = widths.length - 2;
  const q = Array.from({ length: per }, (_, m) => m);
  const branches: string[] = [];
  for (let j = 0; j < L; j++) {
    const nIn = widths[j]!;
    const nOut = widths[j + 1]!;
    branches.push(`if (p < ${bOff[j]}) {
    let q = p - ${wOff[j]};
    let i = q / ${nOut};
    let o = q % ${nOut};
    for (var r = 0; r < ${b}; r++) {
      let a = R[${sl.a[j]} + r * ${nIn} + i];
      let ad = R[${sl.ad[j]} + r * ${nIn} + i];
      let zr = ${sl.zb[j]} + r * ${nOut} + o;
      let dr = ${sl.d[j]} + r * ${nOut} + o;
      ${q.map((m) => `g[${m}] += a * R[zr + ${m}] + ad * R[dr + ${m}];`).join('\n      ')}
    }
  } else if (p < ${wOff[j + 1]}) {
    let zr = ${sl.zb[j]} + p - ${bOff[j]};
    for (var r = 0; r < ${b}; r++) {
      ${q.map((m) => `g[${m}] += R[zr + r * ${nOut} + ${m}];`).join('\n      ')}
    }
  }`);
  }
  branches.push(`if (p < ${bOff[L]}) {
    let ar = ${sl.ad[L]} + p - ${wOff[L]};
    for (var r = 0; r < ${b}; r++) {
      ${q.map((m) => `g[${m}] += R[ar + r * ${widths[L]} + ${m}];`).join('\n      ')}
    }
  }`);
  return branches.join(' else ');
}

/**
 * `train.mlpGradientRegression` on WebGPU (see the module docs for the formulas and programs). Validates
 * everything before any dispatch: `INVALID_PARAM` for bad tensors, `NOT_IMPLEMENTED` for an activation or widths
 * the programs do not take (the caller then uses autograd).
 */
export function mlpGradientRegressionWebGpu(
  inputs: MLPGradientRegressionInputs,
): MLPGradientRegressionOutput {
  const call = regressionCall('train.mlpGradientRegression', inputs);
  const { layout, weights, b, sl } = call;
  const rows = regressionRows(call, inputs);
  const done: tf.Tensor[] = [];
  try {
    for (let k = 0; k < weights.length; k++) {
      // ∂L/∂b_L = 0: V's output bias does not move ∇ₓV.
      const last = k === weights.length - 1;
      done.push(last ? tf.zeros([1]) : run(gradProgram(layout, b, sl, k), [rows], 'float32', []));
    }
    const sum = run(lossProgram(b, sl), [rows], 'float32', []);
    const loss = tf.reshape(sum, []) as tf.Scalar;
    sum.dispose();
    return { loss, gradients: done };
  } catch (e) {
    for (const t of done) t.dispose();
    throw e;
  } finally {
    rows.dispose();
  }
}
